"""`azk create` end to end in local mode: the real CLI (subprocesses), the local-mode daemon (ARM emulator,
VM boot simulator, operator runner), and the cluster's own API server the simulator starts.

Every check is on what a user sees: exit codes, the kubeconfig, `kubectl`, and what Azure (the emulator)
holds, counted by type and by the cluster's ownership tag.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from azk_operator.azure.tags import ownership_key
from azk_operator.create.flow import STEPS
from azk_operator.emulator.client import EmulatorControl, InventoryItem
from azk_operator.local.records import read_state

pytestmark = pytest.mark.timeout(900)
NAME = "demo"
NAMESPACE = "azk-system"
CREATE_TIMEOUT_S = 300
WRITES = {"PUT", "PATCH", "POST", "DELETE"}
# What one cluster with a 2-node worker pool holds in Azure: no more, no less.
EXPECTED_TYPES = Counter(
    {
        "microsoft.resources/resourcegroups": 1,
        "microsoft.network/virtualnetworks": 1,
        "microsoft.network/networksecuritygroups": 2,
        "microsoft.network/routetables": 1,
        "microsoft.network/publicipaddresses": 1,
        "microsoft.network/loadbalancers": 1,
        "microsoft.compute/virtualmachinescalesets": 2,
        "microsoft.compute/virtualmachinescalesets/virtualmachines": 3,
    }
)


@dataclass
class LocalMode:
    home: Path
    env: dict[str, str]

    def azk(self, *args: str, timeout: float = CREATE_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "azk_operator.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def create(self) -> subprocess.CompletedProcess[str]:
        return self.azk("create", NAME, "--local", "--yes", "--node-count", "2")

    @property
    def emulator(self) -> EmulatorControl:
        state = read_state(self.home)
        assert state is not None, "local mode is running"
        return EmulatorControl(state.endpoint, state.ca_path)

    @property
    def kubeconfig(self) -> Path:
        return self.home / NAME / "admin.kubeconfig"

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "kubectl",
                f"--kubeconfig={self.kubeconfig}",
                f"--cache-dir={self.home / 'kubectl-cache'}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def owned(self) -> list[InventoryItem]:
        key = ownership_key(NAME).lower()
        return [i for i in self.emulator.inventory() if any(k.lower() == key for k in i.tags)]

    def home_ca(self) -> bytes:
        return (self.home / NAME / "pki" / "ca.crt").read_bytes()


@pytest.fixture
def local_mode(tmp_path: Path) -> Iterator[LocalMode]:
    """`azk local up` in a private AZK_HOME; `azk local down` afterwards, whatever the test did."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "AZK_"))}
    env["AZK_HOME"] = str(tmp_path / "azk-home")
    mode = LocalMode(tmp_path / "azk-home", env)
    started = mode.azk("local", "up", timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        yield mode
    finally:
        stopped = mode.azk("local", "down", timeout=180)
        assert stopped.returncode == 0, stopped.stderr


def assert_one_cluster_in_azure(mode: LocalMode) -> None:
    """Exactly one cluster's resources, each carrying the ownership tag: no duplicate, nothing untagged."""
    inventory = mode.emulator.inventory()
    assert Counter(i.type.lower() for i in inventory) == EXPECTED_TYPES
    assert len(mode.owned()) == len(inventory)


def assert_one_ca(mode: LocalMode) -> None:
    """The CA in ~/.azk, in the cluster's PKI Secret and in the kubeconfig is one and the same."""
    ca = mode.home_ca()
    kubeconfig = yaml.safe_load(mode.kubeconfig.read_text())
    assert base64.b64decode(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]) == ca
    secret = mode.kubectl("get", "secret", f"{NAME}-pki", "-n", NAMESPACE, "-o", "json")
    assert secret.returncode == 0, secret.stderr
    assert base64.b64decode(json.loads(secret.stdout)["data"]["ca.crt"]) == ca


def delete_and_check_nothing_is_left(mode: LocalMode) -> None:
    deleted = mode.azk("delete", NAME, "--local", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert mode.owned() == [], "nothing tagged with the cluster is left in Azure"
    assert not (mode.home / NAME).exists(), "the cluster's local records went with it"


def test_create_status_kubectl_rerun_and_delete(local_mode: LocalMode) -> None:
    mode = local_mode
    created = mode.create()
    assert created.returncode == 0, created.stderr
    assert f"cluster {NAME} is Ready" in created.stdout
    assert mode.kubeconfig.stat().st_mode & 0o777 == 0o600
    assert_one_cluster_in_azure(mode)

    status = mode.azk("status", NAME, "-o", "json", timeout=60)
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    objects = [shown["cluster"], *shown["nodePools"], *shown["nodeSets"]]
    assert [o["name"] for o in shown["nodePools"]] == [f"{NAME}-workers"]
    assert len(shown["nodeSets"]) == 2, "the control plane's and the pool's"
    for obj in objects:
        ready = next(c for c in obj["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", obj

    listed = mode.kubectl("get", "azk,nodes", "-A", "-o", "name")
    assert listed.returncode == 0, listed.stderr
    kinds = Counter(line.split("/")[0] for line in listed.stdout.split())
    assert kinds == Counter(
        {"cluster.engine.azk.io": 1, "nodepool.engine.azk.io": 1, "nodeset.engine.azk.io": 2, "node": 3}
    )
    assert_one_ca(mode)

    ca, mark = mode.home_ca(), len(mode.emulator.journal())
    again = mode.create()
    assert again.returncode == 0, again.stderr
    assert "already exists and is Ready" in again.stdout
    assert [r for r in mode.emulator.journal()[mark:] if r.method in WRITES] == [], "no Azure write"
    assert mode.home_ca() == ca
    assert_one_ca(mode)

    delete_and_check_nothing_is_left(mode)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_interrupted_create_resumes_with_one_ca_and_no_duplicate(local_mode: LocalMode, seed: int) -> None:
    """Ctrl-C (SIGINT) or a crash (SIGKILL) at a random step; the next run finishes the same cluster."""
    mode = local_mode
    rng = random.Random(seed)
    stop_at = rng.choice(STEPS[2:-1])  # from the PKI to the resources
    how = rng.choice([signal.SIGINT, signal.SIGKILL])
    process = subprocess.Popen(
        [sys.executable, "-m", "azk_operator.cli", "create", NAME, "--local", "--yes", "--node-count", "2"],
        env=mode.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith(f"[{stop_at}]"):
            process.send_signal(how)
            break
    _, rest = process.communicate(timeout=60)
    assert process.returncode != 0, f"stopped at {stop_at} by {how.name}"
    if how is signal.SIGINT:
        assert process.returncode == 130, rest
        assert "run the same command again to resume" in rest

    resumed = mode.create()
    assert resumed.returncode == 0, f"{stop_at}/{how.name}: {resumed.stderr}"
    assert_one_cluster_in_azure(mode)
    assert_one_ca(mode)
    delete_and_check_nothing_is_left(mode)
