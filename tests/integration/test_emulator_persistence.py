"""State surviving a restart, and ``azk emulator run`` driven by a script that only knows the SDKs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from azure.core.rest import HttpRequest
from fixtures.emulator import make_clients, resource_id, scale_set_model, vnet_model

from azk_operator.emulator import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    ArmEmulator,
    BootEvent,
    Latency,
    LatencyProfile,
    ShutdownEvent,
)

GROUP = "state-rg"
API = "api-version=2024-05-01"


def test_restart_keeps_resources_operations_tokens_and_ca(
    arm_emulator_factory: Callable[..., ArmEmulator], tmp_path: Path
) -> None:
    state = tmp_path / "emulator.json"
    profile = LatencyProfile(default=Latency(polls=3))
    first = arm_emulator_factory(state_file=state, profile=profile)
    clients = make_clients(first)
    clients.resource.resource_groups.create_or_update(GROUP, {"location": "eastus", "tags": {"keep": "me"}})
    vnet_path = resource_id(first, GROUP, "Microsoft.Network/virtualNetworks", "vnet")
    body = {"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    put = clients.network.send_request(HttpRequest("PUT", f"{vnet_path}?{API}", json=body))
    assert put.status_code == 201
    operation_url = put.headers["Azure-AsyncOperation"]
    token = first.control.issue_token()
    ca_before = first.ca_path.read_bytes()
    port = first.server.port
    first.stop()

    assert state.stat().st_mode & 0o777 == 0o600
    assert (first.server.tls_dir / "ca-key.pem").stat().st_mode & 0o777 == 0o600
    assert "vnet" in state.read_text()

    second = arm_emulator_factory(state_file=state, profile=profile, port=port)
    assert second.ca_path.read_bytes() == ca_before
    again = make_clients(second)
    assert again.resource.resource_groups.get(GROUP).tags == {"keep": "me"}
    assert again.network.virtual_networks.get(GROUP, "vnet").provisioning_state == "Updating"
    statuses = [
        again.network.send_request(HttpRequest("GET", operation_url)).json()["status"] for _ in range(3)
    ]
    assert statuses[-1] == "Succeeded" and "InProgress" in statuses
    assert again.network.virtual_networks.get(GROUP, "vnet").provisioning_state == "Succeeded"

    from azure.core.credentials import AccessToken

    class Issued:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            return AccessToken(token, int(time.time()) + 600)

    assert make_clients(second, credential=Issued()).resource.resource_groups.check_existence(GROUP)


_SDK_ONLY_SCRIPT = textwrap.dedent(
    """
    import os
    import sys
    from azure.identity import ClientSecretCredential
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.network.models import AddressSpace, Subnet, VirtualNetwork
    from azure.mgmt.resource.resources import ResourceManagementClient

    values = dict(line.split("=", 1) for line in open(sys.argv[1]).read().splitlines() if line)
    endpoint, ca = values["AZK_ARM_ENDPOINT"], values["AZK_ARM_CA"]
    sub, tenant = values["AZK_ARM_SUBSCRIPTION_ID"], values["AZK_ARM_TENANT_ID"]
    credential = ClientSecretCredential(
        tenant,
        os.environ["CLIENT_ID"],
        os.environ["CLIENT_SECRET"],
        authority=endpoint,
        disable_instance_discovery=True,
        connection_verify=ca,
    )
    common = dict(base_url=endpoint, connection_verify=ca, polling_interval=0.01)
    groups = ResourceManagementClient(credential, sub, **common).resource_groups
    groups.create_or_update("cli-rg", {"location": "eastus"})
    network = NetworkManagementClient(credential, sub, **common)
    vnet = VirtualNetwork(
        location="eastus",
        address_space=AddressSpace(address_prefixes=["10.1.0.0/16"]),
        subnets=[Subnet(name="nodes", address_prefix="10.1.0.0/24")],
    )
    result = network.virtual_networks.begin_create_or_update("cli-rg", "vnet", vnet).result()
    print(result.provisioning_state == "Succeeded", result.subnets[0].id)
    """
)


def test_cli_run_serves_a_script_that_uses_only_the_sdks(tmp_path: Path) -> None:
    env_file = tmp_path / "emulator.env"
    state = tmp_path / "state.json"
    azk = Path(sys.executable).parent / "azk"
    server = subprocess.Popen(
        [str(azk), "emulator", "run", "--env-file", str(env_file), "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not env_file.exists():
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "azk emulator run did not write its env file"
            time.sleep(0.05)
        child_env = {key: value for key, value in os.environ.items() if not key.startswith("AZURE_")}
        child_env.update(
            CLIENT_ID=TEST_CLIENT_ID, CLIENT_SECRET=TEST_CLIENT_SECRET
        )  # never on a command line
        child = subprocess.run(
            [sys.executable, "-c", _SDK_ONLY_SCRIPT, str(env_file)],
            capture_output=True,
            text=True,
            timeout=60,
            env=child_env,
            check=False,
        )
        assert child.returncode == 0, child.stderr
        succeeded, subnet_id = child.stdout.split()
        assert succeeded == "True" and subnet_id.endswith(
            "/resourceGroups/cli-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    printed = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert printed["AZK_ARM_ENDPOINT"].startswith("https://127.0.0.1:")
    saved = json.loads(state.read_text())
    assert any(item["id"].endswith("/virtualNetworks/vnet") for item in saved["engine"]["resources"])


class _Boots:
    def __init__(self) -> None:
        self.booted: list[str] = []

    async def on_boot(self, event: BootEvent) -> None:
        self.booted.append(f"{event.computer_name}:{event.reason}")

    async def on_shutdown(self, event: ShutdownEvent) -> None:
        return None


def test_restart_announces_running_machines_again(
    arm_emulator_factory: Callable[..., ArmEmulator], tmp_path: Path
) -> None:
    state = tmp_path / "emulator.json"
    first = arm_emulator_factory(state_file=state)
    clients = make_clients(first)
    clients.resource.resource_groups.create_or_update(GROUP, {"location": "eastus"})
    vnet = clients.network.virtual_networks.begin_create_or_update(
        GROUP, "vnet", vnet_model(subnets={"nodes": "10.0.1.0/24"})
    ).result()
    model = scale_set_model((vnet.subnets or [])[0].id or "", capacity=2)
    clients.compute.virtual_machine_scale_sets.begin_create_or_update(GROUP, "pool", model).result()
    first.stop()
    boots = _Boots()
    second = arm_emulator_factory(state_file=state, boot_handler=boots)
    second.drain_hooks()
    assert sorted(boots.booted) == ["node000000:restored", "node000001:restored"]
