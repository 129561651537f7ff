"""The `azk` commands against real parts: the ARM emulator (in-process HTTPS, the real Azure SDKs and real
azure-identity credentials), the shared test API server, and real subprocesses of the CLI.

The main claim checked here: bad input never reaches Azure. Each rejected `azk create` runs without
`--dry-run`, with working credentials for the emulator and a tripwire on every ARM path; afterwards the
emulator's journal holds no request and AZK_HOME was never created.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from fixtures.cli import ENV_PREFIXES
from typer.testing import CliRunner, Result

from azk_operator import __version__
from azk_operator.azure.tags import owned_tags
from azk_operator.cli.main import app
from azk_operator.create.home import ClusterHome
from azk_operator.create.request import CreateOptions, build_request
from azk_operator.emulator import TEST_CLIENT_ID, TEST_CLIENT_SECRET, ArmEmulator
from azk_operator.emulator.client import EmulatorControl
from azk_operator.local.control import down as stop_local_mode

NAME = "demo"
WRONG_SECRET = "not-the-secret-4711"
SUBPROCESS_TIMEOUT_S = 60


@pytest.fixture
def azure(arm_emulator: ArmEmulator, home: Path, monkeypatch: pytest.MonkeyPatch) -> ArmEmulator:
    """The environment of a user whose credentials work: the emulator's test service principal."""
    for key, value in emulator_env(arm_emulator).items():
        monkeypatch.setenv(key, value)
    return arm_emulator


def emulator_env(emu: ArmEmulator, secret: str = TEST_CLIENT_SECRET) -> dict[str, str]:
    return {
        **emu.env(),
        "AZURE_SUBSCRIPTION_ID": emu.subscription_id,
        "AZURE_TENANT_ID": emu.tenant_id,
        "AZURE_CLIENT_ID": TEST_CLIENT_ID,
        "AZURE_CLIENT_SECRET": secret,
        "AZK_ARM_POLLING_INTERVAL": "0.05",
    }


def azk(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def azk_process(
    *args: str, env: dict[str, str], executable: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = executable or [sys.executable, "-m", "azk_operator.cli"]
    return subprocess.run(
        [*command, *args], env=env, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, check=False
    )


def process_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    return {**env, "AZK_HOME": str(home), "COLUMNS": "200", **extra}


def arm_tripwire(emu: ArmEmulator) -> None:
    """Any ARM request fails at once (no retries, no waiting): a create that got past validation stops."""
    emu.control.inject_fault("^/subscriptions/", status=400, code="Tripwire", message="bad input reached ARM")


def assert_nothing_reached_azure(emu: ArmEmulator, home: Path) -> None:
    assert [(r.method, r.path) for r in emu.control.journal()] == [], "no ARM request at all"
    assert not home.exists(), "nothing written to AZK_HOME"


def assert_clean_failure(result: Result | subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    output = result.output if isinstance(result, Result) else result.stdout + result.stderr
    exit_code = result.exit_code if isinstance(result, Result) else result.returncode
    assert exit_code == code, output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in output, f"{needle!r} not in:\n{output}"


def record_cluster(emu: ArmEmulator, name: str = NAME) -> ClusterHome:
    """The records `azk create` keeps for a cluster in AZK_HOME (its resources and settings)."""
    request = build_request(
        CreateOptions(
            name=name, subscription_id=emu.subscription_id, client_id=TEST_CLIENT_ID, tenant_id=emu.tenant_id
        )
    )
    home = ClusterHome.of(name)
    home.write_resources(list(request.manifests))
    home.write_settings({"namespace": request.namespace, "local": False})
    return home


# -- bad input never reaches Azure --------------------------------------------------------------------------

# (arguments after `azk create --yes`, the flag the message must name). The name comes first in each row.
BAD_CREATE_INPUT: list[tuple[str, list[str], str]] = [
    ("cidr-syntax", [NAME, "--pod-cidr", "10.300.0.0/16"], "--pod-cidr"),
    ("cidr-prefix-too-long", [NAME, "--vnet-cidr", "10.0.0.0/33"], "--vnet-cidr"),
    ("cidr-host-bits", [NAME, "--pod-cidr", "10.244.1.0/16"], "--pod-cidr"),
    ("cidr-no-prefix", [NAME, "--api-server-allowed-cidr", "203.0.113.7"], "--api-server-allowed-cidr"),
    ("pod-range-inside-vnet", [NAME, "--pod-cidr", "10.0.128.0/17"], "--vnet-cidr"),
    (
        "service-overlaps-pods",
        [NAME, "--pod-cidr", "10.244.0.0/16", "--service-cidr", "10.244.10.0/24"],
        "--service-cidr",
    ),
    ("service-range-too-large", [NAME, "--service-cidr", "172.0.0.0/11"], "--service-cidr"),
    ("subnet-outside-vnet", [NAME, "--node-subnet-cidr", "10.1.0.0/24"], "--node-subnet-cidr"),
    (
        "subnets-overlap",
        [NAME, "--control-plane-subnet-cidr", "10.0.16.0/24"],
        "--control-plane-subnet-cidr",
    ),
    ("version-without-v", [NAME, "--kubernetes-version", "1.37.2"], "--kubernetes-version"),
    ("version-word", [NAME, "--kubernetes-version", "latest"], "--kubernetes-version"),
    ("control-plane-even", [NAME, "--control-plane-count", "2"], "--control-plane-count"),
    ("control-plane-zero", [NAME, "--control-plane-count", "0"], "--control-plane-count"),
    ("control-plane-too-many", [NAME, "--control-plane-count", "7"], "--control-plane-count"),
    ("node-count-negative", [NAME, "--node-count", "-1"], "--node-count"),
    ("node-count-too-large", [NAME, "--node-count", "1001"], "--node-count"),
    ("node-count-not-a-number", [NAME, "--node-count", "many"], "--node-count"),
    ("resource-group-slash", [NAME, "--resource-group", "my/rg"], "--resource-group"),
    ("resource-group-trailing-period", [NAME, "--resource-group", "rg."], "--resource-group"),
    ("resource-group-too-long", [NAME, "--resource-group", "r" * 91], "--resource-group"),
    ("name-upper-case", ["My_Cluster"], "NAME"),
    ("name-trailing-dash", ["demo-"], "NAME"),
    ("name-too-long", ["a" * 41], "NAME"),
    ("tag-without-value", [NAME, "--tag", "team"], "--tag"),
    ("tag-without-key", [NAME, "--tag", "=platform"], "--tag"),
    ("tag-reserved-prefix", [NAME, "--tag", "azk.io_cluster_demo=owned"], "--tag"),
    ("identity-unknown", [NAME, "--identity", "Password"], "--identity"),
    ("subscription-not-a-guid", [NAME, "--subscription", "my-subscription"], "--subscription"),
    ("client-id-not-a-guid", [NAME, "--client-id", "azk-app"], "--client-id"),
    ("tenant-id-not-a-guid", [NAME, "--tenant-id", "contoso.onmicrosoft.com"], "--tenant-id"),
    ("location-display-name", [NAME, "--location", "East US"], "--location"),
    ("vm-size-shape", [NAME, "--node-size", "D4s_v5"], "--node-size"),
    ("control-plane-size-shape", [NAME, "--control-plane-size", "Standard D2s v5"], "--control-plane-size"),
    ("zone-unknown", [NAME, "--zone", "4"], "--zone"),
    ("dns-prefix-too-short", [NAME, "--dns-prefix", "ab"], "--dns-prefix"),
    ("namespace-upper-case", [NAME, "--namespace", "AzkSystem"], "--namespace"),
    ("operator-image-blank", [NAME, "--operator-image", "my image"], "--operator-image"),
    ("timeout-not-a-number", [NAME, "--timeout", "soon"], "--timeout"),
]


@pytest.mark.parametrize(
    ("args", "flag"), [row[1:] for row in BAD_CREATE_INPUT], ids=[r[0] for r in BAD_CREATE_INPUT]
)
def test_bad_create_input_names_the_flag_and_never_reaches_azure(
    azure: ArmEmulator, home: Path, args: list[str], flag: str
) -> None:
    arm_tripwire(azure)
    result = azk("create", "--yes", *args)
    assert_clean_failure(result, 2, flag)
    assert_nothing_reached_azure(azure, home)


def test_every_bad_flag_is_reported_at_once(azure: ArmEmulator, home: Path) -> None:
    arm_tripwire(azure)
    result = azk(
        "create", NAME, "--yes", "--pod-cidr", "10.0.0.0/8", "--kubernetes-version", "1.37",
        "--node-count", "-3", "--resource-group", "rg.",
    )  # fmt: skip
    assert_clean_failure(result, 2, "--pod-cidr", "--kubernetes-version", "--node-count", "--resource-group")
    assert result.output.count("--kubernetes-version:") == 1, "the pool's copy of the version is not repeated"
    assert_nothing_reached_azure(azure, home)


def test_a_missing_client_id_names_the_flag_and_its_variable(
    azure: ArmEmulator, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_CLIENT_ID")
    arm_tripwire(azure)
    result = azk("create", NAME, "--yes")
    assert_clean_failure(result, 2, "--client-id", "AZURE_CLIENT_ID")
    assert_nothing_reached_azure(azure, home)


def test_overlap_messages_say_which_range_is_a_default(azure: ArmEmulator) -> None:
    result = azk("create", NAME, "--yes", "--pod-cidr", "10.0.128.0/17")
    assert_clean_failure(
        result, 2, "--pod-cidr: 10.0.128.0/17 must not overlap --vnet-cidr 10.0.0.0/16 (default)"
    )


@pytest.mark.parametrize(
    ("args", "flag", "why"),
    [
        (["--location", "atlantis"], "--location", "unknown location atlantis"),
        (["--node-size", "Standard_Imaginary_v9"], "--node-size", "offered: "),
        (["--control-plane-size", "Standard_Imaginary_v9"], "--control-plane-size", "offered: "),
    ],
)
def test_unknown_location_or_vm_size_is_found_with_reads_only(
    azure: ArmEmulator, home: Path, args: list[str], flag: str, why: str
) -> None:
    result = azk("create", NAME, "--yes", *args)
    assert_clean_failure(result, 2, flag, why)
    journal = azure.control.journal()
    assert journal, "the offer is read from Azure"
    assert {r.method for r in journal} == {"GET"}, "no write before the checks pass"
    assert not home.exists()


def test_bad_input_in_local_mode_starts_nothing(home: Path) -> None:
    try:
        result = azk("create", NAME, "--local", "--yes", "--control-plane-count", "4")
        assert_clean_failure(result, 2, "--control-plane-count")
        assert not home.exists(), "local mode (emulator, simulator, runners) was not started"
    finally:
        stop_local_mode(home)


def test_local_dry_run_needs_no_subscription_and_starts_nothing(home: Path) -> None:
    try:
        result = azk("create", NAME, "--local", "--yes", "--dry-run", "-o", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["cluster"] == NAME
        assert not home.exists()
    finally:
        stop_local_mode(home)


def test_dry_run_against_azure_makes_no_request(azure: ArmEmulator, home: Path) -> None:
    result = azk("create", NAME, "--yes", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.output
    assert {r["type"] for r in json.loads(result.stdout)["azure"]} >= {"Microsoft.Resources/resourceGroups"}
    assert_nothing_reached_azure(azure, home)


# -- credential failures say what was tried ---------------------------------------------------------------


def test_a_wrong_client_secret_names_the_service_principal_tried(
    azure: ArmEmulator, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", WRONG_SECRET)
    result = azk("create", NAME, "--yes")
    assert_clean_failure(
        result, 2, "Azure refused the credentials tried", "service principal", TEST_CLIENT_ID,
        "AZURE_CLIENT_SECRET", azure.endpoint, "Invalid client secret",
    )  # fmt: skip
    assert WRONG_SECRET not in result.output
    assert_nothing_reached_azure(azure, home)


def test_no_credentials_at_all_names_the_azure_cli_login(
    azure: ArmEmulator, home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    monkeypatch.setenv("PATH", str(tmp_path / "no-az-here"))  # no `az` to ask
    result = azk("create", NAME, "--yes", "--identity", "ManagedIdentity")
    assert_clean_failure(
        result, 2, "Azure refused the credentials tried", "Azure CLI login", "AZURE_CLIENT_SECRET"
    )
    assert_nothing_reached_azure(azure, home)


def test_a_service_principal_operator_without_a_secret_is_refused_before_azure(
    azure: ArmEmulator, home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    monkeypatch.setenv("PATH", str(tmp_path / "no-az-here"))
    result = azk("create", NAME, "--yes")
    assert_clean_failure(result, 2, "--identity", "AZURE_CLIENT_SECRET")
    assert_nothing_reached_azure(azure, home)


def test_half_set_credentials_name_what_is_missing(
    azure: ArmEmulator, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZK_AZURE_AUTH", "workload-identity")
    result = azk("create", NAME, "--yes")
    assert_clean_failure(result, 2, "Azure credentials", "AZURE_FEDERATED_TOKEN_FILE")
    assert_nothing_reached_azure(azure, home)


def test_delete_with_a_wrong_client_secret_names_the_credentials(
    azure: ArmEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = record_cluster(azure)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", WRONG_SECRET)
    result = azk("delete", NAME, "--yes")
    assert_clean_failure(result, 2, "Azure refused the credentials tried", "service principal")
    assert cluster.resources(), "the records stay until Azure is empty"


# -- delete -----------------------------------------------------------------------------------------------


def test_delete_when_azure_holds_nothing_forgets_the_cluster(azure: ArmEmulator) -> None:
    cluster = record_cluster(azure)
    result = azk("delete", NAME, "--yes")
    assert result.exit_code == 0, result.output
    assert f"cluster {NAME} deleted" in result.stdout
    assert not cluster.root.exists()
    assert {r.method for r in azure.control.journal()} == {"GET"}


def test_delete_leaves_what_it_cannot_reach_unless_forced(azure: ArmEmulator, arm_clients: Any) -> None:
    cluster = record_cluster(azure)
    arm_clients.resource.resource_groups.create_or_update(
        f"{NAME}-rg", {"location": "eastus", "tags": owned_tags(NAME)}
    )
    refused = azk("delete", NAME, "--yes")
    assert_clean_failure(refused, 1, "--force")
    assert arm_clients.resource.resource_groups.check_existence(f"{NAME}-rg")
    assert cluster.resources(), "the records stay while Azure holds the cluster"

    forced = azk("delete", NAME, "--yes", "--force", "--timeout", "60")
    assert forced.exit_code == 0, forced.output
    assert not arm_clients.resource.resource_groups.check_existence(f"{NAME}-rg")
    assert not cluster.root.exists()


# -- status against a real API server ---------------------------------------------------------------------


def _condition(type_: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2030-01-01T00:00:00Z",
        "observedGeneration": 1,
    }


def test_status_shows_the_cluster_its_pools_and_their_conditions(
    home: Path, kubeconfig: Path, azk_crds: list[str], namespace: str, k8s_api: kubernetes.client.ApiClient
) -> None:
    request = build_request(
        CreateOptions(
            name=NAME,
            namespace=namespace,
            subscription_id="11111111-2222-4333-8444-555555555555",
            identity="ManagedIdentity",
        )
    )
    custom = kubernetes.client.CustomObjectsApi(k8s_api)
    statuses: dict[str, dict[str, Any]] = {
        "clusters": {
            "conditions": [
                _condition("Ready", "True", "Ready", "control plane 1/1"),
                _condition("Infrastructure", "True", "Provisioned", "base infrastructure ready"),
            ],
            "endpoint": "https://203.0.113.10:6443",
        },
        "nodepools": {
            "conditions": [_condition("Ready", "False", "ScalingUp", "1 of 2 nodes Ready")],
            "readyReplicas": 1,
        },
    }
    for manifest, plural in zip(request.manifests, ("clusters", "nodepools"), strict=True):
        custom.create_namespaced_custom_object("engine.azk.io", "v1alpha1", namespace, plural, manifest)
        custom.patch_namespaced_custom_object_status(
            "engine.azk.io", "v1alpha1", namespace, plural, manifest["metadata"]["name"],
            {"status": statuses[plural]},
        )  # fmt: skip

    as_json = azk("status", NAME, "-n", namespace, "--kubeconfig", str(kubeconfig), "-o", "json")
    assert as_json.exit_code == 0, as_json.output
    shown = json.loads(as_json.stdout)
    assert shown["cluster"]["name"] == NAME
    assert shown["cluster"]["endpoint"] == "https://203.0.113.10:6443"
    assert {c["type"]: c["status"] for c in shown["cluster"]["conditions"]} == {
        "Ready": "True",
        "Infrastructure": "True",
    }
    assert [(p["name"], p["replicas"], p["readyReplicas"]) for p in shown["nodePools"]] == [
        (f"{NAME}-workers", 2, 1)
    ]
    assert shown["nodePools"][0]["conditions"][0]["reason"] == "ScalingUp"

    as_yaml = azk("status", NAME, "-n", namespace, "--kubeconfig", str(kubeconfig), "-o", "yaml")
    assert yaml.safe_load(as_yaml.stdout) == shown

    table = azk("status", NAME, "-n", namespace, "--kubeconfig", str(kubeconfig))
    assert table.exit_code == 0, table.output
    assert "https://203.0.113.10:6443" in table.stdout
    assert "1 of 2 nodes Ready" in table.stdout
    assert "ScalingUp" in table.stdout

    missing = azk("status", "ghost", "-n", namespace, "--kubeconfig", str(kubeconfig))
    assert_clean_failure(missing, 1, f"no Cluster ghost in namespace {namespace}")
    assert not home.exists()


# -- real subprocesses ------------------------------------------------------------------------------------


def test_the_console_script_answers_help(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("azk")
    assert script.is_file(), "pip install -e . installs the `azk` console script"
    done = azk_process("--help", env=process_env(tmp_path / "home"), executable=[str(script)])
    assert done.returncode == 0, done.stderr
    for command in ("create", "status", "kubeconfig", "delete", "version", "operator", "emulator", "local"):
        assert command in done.stdout


def test_version_in_a_subprocess(tmp_path: Path) -> None:
    done = azk_process("version", env=process_env(tmp_path / "home"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"azk {__version__}"


def test_bad_input_in_a_subprocess_exits_2_before_azure(arm_emulator: ArmEmulator, tmp_path: Path) -> None:
    home = tmp_path / "home"
    arm_tripwire(arm_emulator)
    done = azk_process(
        "create", NAME, "--yes", "--service-cidr", "10.0.0.0/24",
        env=process_env(home, **emulator_env(arm_emulator)),
    )  # fmt: skip
    assert_clean_failure(done, 2, "--service-cidr", "--vnet-cidr")
    assert done.stdout == "", "errors go to stderr"
    assert_nothing_reached_azure(arm_emulator, home)


def test_a_wrong_secret_in_a_subprocess_prints_one_clear_message(
    arm_emulator: ArmEmulator, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    done = azk_process(
        "create", NAME, "--yes", env=process_env(home, **emulator_env(arm_emulator, secret=WRONG_SECRET))
    )
    assert_clean_failure(done, 2, "Azure refused the credentials tried: service principal")
    assert "get_token_info failed" not in done.stderr, "azure-identity's own warning is not repeated"
    assert WRONG_SECRET not in done.stderr
    assert_nothing_reached_azure(arm_emulator, home)


@pytest.fixture
def local_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    yield home
    stop_local_mode(home)  # whatever the test did, no daemon outlives it


def test_local_up_status_down(local_home: Path) -> None:
    env = process_env(local_home)
    started = azk_process("local", "up", "-o", "json", env=env)
    assert started.returncode == 0, started.stderr
    state = json.loads(started.stdout)
    assert state["started"] is True
    assert state["endpoint"].startswith("https://127.")
    journal = EmulatorControl(state["endpoint"], state["ca_path"]).journal()
    assert journal == [], "the emulator answers and nothing has used it yet"

    again = azk_process("local", "up", env=env)
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout

    status = azk_process("local", "status", "-o", "yaml", env=env)
    assert status.returncode == 0, status.stderr
    shown = yaml.safe_load(status.stdout)
    assert shown["running"] is True
    assert shown["pid"] == state["pid"]

    stopped = azk_process("local", "down", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert "local mode stopped" in stopped.stdout
    after = azk_process("local", "status", "-o", "json", env=env)
    assert after.returncode == 3
    assert json.loads(after.stdout) == {"running": False}


def test_emulator_run_serves_until_interrupted(tmp_path: Path) -> None:
    env_file = tmp_path / "emulator.env"
    process = subprocess.Popen(
        [sys.executable, "-m", "azk_operator.cli", "emulator", "run", "--env-file", str(env_file)],
        env=process_env(tmp_path / "home"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
        while not env_file.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert env_file.exists(), "the emulator wrote its env file"
        values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        assert values["AZK_ARM_ENDPOINT"].startswith("https://127.0.0.1:")
        assert Path(values["AZK_ARM_CA"]).is_file()
        assert EmulatorControl(values["AZK_ARM_ENDPOINT"], values["AZK_ARM_CA"]).journal() == []
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert f"AZK_ARM_ENDPOINT={values['AZK_ARM_ENDPOINT']}" in stdout


class Terminal:
    """`azk` on a real pseudo-terminal: what a user at a prompt sees, and the answers they type."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        import pty

        self._primary, replica = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "azk_operator.cli", *args],
            stdin=replica,
            stdout=replica,
            stderr=replica,
            env=env,
            close_fds=True,
        )
        os.close(replica)
        self.seen = ""

    def _read(self, deadline: float) -> str | None:
        """What the program shows next: "" when nothing came by `deadline`, None once it has ended."""
        import select

        ready, _, _ = select.select([self._primary], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return ""
        try:
            return os.read(self._primary, 4096).decode(errors="replace") or None
        except OSError:  # the program ended and closed its side
            return None

    def expect(self, text: str, within_s: float = 30) -> str:
        """Read until `text` shows; return everything read up to it."""
        deadline = time.monotonic() + within_s
        while text not in self.seen:
            chunk = self._read(deadline)
            if not chunk:
                raise AssertionError(f"{text!r} never showed; the terminal shows:\n{self.seen}")
            self.seen += chunk
        before, _, self.seen = self.seen.partition(text)
        return before + text

    def rest(self, within_s: float = 60) -> str:
        """Everything shown until the program ends (the terminal's CR LF as plain newlines)."""
        deadline = time.monotonic() + within_s
        while (chunk := self._read(deadline)) is not None and time.monotonic() < deadline:
            self.seen += chunk
        shown, self.seen = self.seen, ""
        return shown.replace("\r\n", "\n")

    def answer(self, text: str) -> None:
        os.write(self._primary, f"{text}\n".encode())

    def close(self) -> int:
        code = self.process.wait(timeout=SUBPROCESS_TIMEOUT_S)
        os.close(self._primary)
        return code


def test_in_a_terminal_create_prompts_for_what_is_missing_and_offers_the_locations_vm_sizes(
    azure: ArmEmulator, home: Path
) -> None:
    env = {**os.environ, "TERM": "dumb", "COLUMNS": "200"}
    terminal = Terminal(["create", "--dry-run", "-o", "json"], env)
    try:
        terminal.expect("Cluster name [demo]:")
        terminal.answer("shop")
        terminal.expect("Resource group [shop-rg]:")
        terminal.answer("")
        terminal.expect("Location [eastus]:")
        terminal.answer("westeurope")
        terminal.expect("DNS prefix of the API endpoint (empty: none) []:")
        terminal.answer("shop-api")
        offered = terminal.expect("Kubernetes version [v1.37.2]:")
        assert "VM sizes offered in westeurope: " in offered and "Standard_D4s_v5" in offered
        terminal.answer("")
        terminal.expect("Control-plane VM size [Standard_D2s_v5]:")
        terminal.answer("Standard_Z99s_v9")  # not offered: asked again
        terminal.expect("Standard_Z99s_v9 is not one of the VM sizes offered here")
        terminal.expect("Control-plane VM size [Standard_D2s_v5]:")
        terminal.answer("standard_d4s_v5")
        terminal.expect("Control-plane VMs (1, 3 or 5) [1]:")
        terminal.answer("3")
        terminal.expect("Worker VM size [Standard_D2s_v5]:")
        terminal.answer("")
        terminal.expect("Worker nodes [2]:")
        terminal.answer("4")
        shown = terminal.rest()
        plan = json.loads(shown[shown.index("\n{") :])
    finally:
        code = terminal.close()
    assert code == 0
    cluster = next(o for o in plan["kubernetes"] if o["kind"] == "Cluster")
    assert cluster["name"] == "shop"
    assert next(r for r in plan["azure"] if r["type"].endswith("resourceGroups"))["name"] == "shop-rg"
    journal = azure.control.journal()
    assert {r.method for r in journal} == {"GET"}, "prompting reads the offered sizes, writes nothing"
    assert not home.exists(), "a dry run writes nothing locally"
