"""Benchmark: a NodePool rollout on the emulator's realistic latency profile, with the real operator.

A cluster is bootstrapped as `azk create` does it (base infrastructure, first control-plane VM whose boot
starts the cluster's real API server, CRDs, Secrets), the operator runs in-process, a 20-node pool with
maxSurge 25% (5 nodes, maxUnavailable 0) becomes Ready, then its Kubernetes version changes. Prints,
measured in one run:
  rollout_wall_s                  template change -> every node Ready on the new version, no old VM left
  rollout_ready_after_s           template change -> pool Ready (the empty old NodeSet and scale set are
                                  deleted too: garbage collection, outside the bound)
  rollout_batches                 rollout batches (planner.bounds.rollout_batches)
  rollout_boot_s                  one batch's boot: scale-set update adding VMs + their nodes turning Ready
  rollout_drain_s                 one batch's removal: drain (no pods here: nothing to wait for) + the
                                  scale-set instance delete, which must finish before the next batch surges
  rollout_lower_bound_s           batches x (boot + drain), planner.bounds.rollout_lower_bound_s
  rollout_wall_over_lower_bound   target: <= 1.2

Usage: python bench/rollout.py [--scale 0.1]   (multiplies every profile latency; 1.0 is Azure-like, the
default 0.1 keeps a whole run within a few minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes

from azk_operator.api.cluster import Cluster
from azk_operator.azure.clients import AzureClientFactory
from azk_operator.azure.settings import AzureSettings
from azk_operator.bootstrap import (
    BootstrapToken,
    PKIOptions,
    generate_cluster_pki,
    super_admin_kubeconfig,
    write_kubeconfig,
)
from azk_operator.bootstrap.keys import KeyAlgorithm
from azk_operator.create.first_control_plane import boot_first_control_plane, build_base_infrastructure
from azk_operator.create.install import install_crds, install_resources, install_secrets
from azk_operator.emulator import TEST_CLIENT_ID, TEST_CLIENT_SECRET, ArmEmulator, LatencyProfile
from azk_operator.emulator.bootsim import VmBootSimulator
from azk_operator.kube.clients import KubeClients
from azk_operator.planner.bounds import rollout_batches, rollout_lower_bound_s
from azk_operator.planner.strategy import RolloutStrategy

GROUP, VERSION = "engine.azk.io", "v1alpha1"
CLUSTER, NAMESPACE, POOL = "bench", "azk-system", "workers"
REPLICAS, MAX_SURGE = 20, "25%"
OLD_VERSION, NEW_VERSION = "v1.37.2", "v1.37.3"
VM_SIZE = "Standard_D2s_v5"
NODE_READY_DELAY_S = 0.5
SCALE_SET = "microsoft.compute/virtualmachinescalesets"


def _environment(emu: ArmEmulator) -> dict[str, str]:
    return {
        "AZK_ARM_ENDPOINT": emu.endpoint,
        "AZK_ARM_CA": str(emu.ca_path),
        "AZK_ARM_POLLING_INTERVAL": "0.05",
        "AZURE_SUBSCRIPTION_ID": emu.subscription_id,
        "AZURE_TENANT_ID": emu.tenant_id,
        "AZURE_CLIENT_ID": TEST_CLIENT_ID,
        "AZURE_CLIENT_SECRET": TEST_CLIENT_SECRET,
        # Resync and retry timers only: every rollout step is driven by events and Azure's retry hints.
        "AZK_OPERATOR_TIME_SCALE": "0.05",
    }


def _cluster(emu: ArmEmulator) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Cluster",
        "metadata": {"name": CLUSTER, "namespace": NAMESPACE},
        "spec": {
            "azure": {
                "subscriptionId": emu.subscription_id,
                "resourceGroup": f"{CLUSTER}-rg",
                "location": "eastus",
                "identity": {
                    "type": "ServicePrincipal",
                    "clientId": TEST_CLIENT_ID,
                    "tenantId": emu.tenant_id,
                    "secretRef": {"name": "azure-credentials"},
                },
            },
            "kubernetesVersion": OLD_VERSION,
            "controlPlane": {"replicas": 1, "vmSize": VM_SIZE},
        },
    }


async def _bootstrap(emu: ArmEmulator, manifest: dict[str, Any], kubeconfig: Path) -> None:
    """What `azk create` does before the operator takes over."""
    cluster = Cluster.model_validate(manifest)
    pki = generate_cluster_pki(PKIOptions(key_algorithm=KeyAlgorithm.ECDSA_P256))
    token = BootstrapToken.generate()
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=24)
    async with AzureClientFactory(AzureSettings.from_env(_environment(emu))) as azure:
        endpoint = await build_base_infrastructure(azure, cluster, within_s=900)
        first = await boot_first_control_plane(azure, cluster, endpoint, pki, token, expires, within_s=900)
    admin = super_admin_kubeconfig(CLUSTER, first.server, pki)
    write_kubeconfig(kubeconfig, admin)
    with KubeClients.from_kubeconfig(kubeconfig) as kube:
        await install_crds(kube)
        await install_secrets(kube, CLUSTER, NAMESPACE, pki, token, expires, admin)
        await install_resources(kube, [manifest], NAMESPACE)


@contextlib.contextmanager
def _operator(kubeconfig: Path) -> Iterator[None]:
    """`azk operator run` in its own process, as in a cluster (not a thread sharing this one's GIL)."""
    command = [sys.executable, "-m", "azk_operator.cli", "operator", "run", "--standalone"]
    command += ["--kubeconfig", str(kubeconfig), "--namespace", NAMESPACE]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _pool(version: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "NodePool",
        "metadata": {"name": POOL, "namespace": NAMESPACE},
        "spec": {
            "clusterName": CLUSTER,
            "replicas": REPLICAS,
            "template": {"vmSize": VM_SIZE, "kubernetesVersion": version},
            "strategy": {"maxSurge": MAX_SURGE, "maxUnavailable": 0},
        },
    }


def _pool_ready(custom: kubernetes.client.CustomObjectsApi) -> bool:
    pool: Any = custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "nodepools", POOL)
    status = pool.get("status") or {}
    ready: dict[str, Any] = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), {})
    return (
        ready.get("status") == "True" and status.get("observedGeneration") == pool["metadata"]["generation"]
    )


def _replaced(emu: ArmEmulator, core: kubernetes.client.CoreV1Api, version: str) -> bool:
    """Every node of the pool Ready on `version`, and no VM beyond them left in Azure."""
    nodes: list[Any] = core.list_node(label_selector=f"engine.azk.io/nodepool={POOL}").items
    ready = [
        n
        for n in nodes
        if n.status.node_info.kubelet_version == version
        and any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
    ]
    marker = f"/virtualmachinescalesets/{POOL}-"
    vms = [
        i for i in emu.control.inventory() if marker in i.id.lower() and "/virtualmachines/" in i.id.lower()
    ]
    return len(nodes) == len(ready) == len(vms) == REPLICAS


def _wait(probe: Any, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError("the pool did not converge")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.1, help="latency scale of the realistic profile")
    args = parser.parse_args()
    profile = LatencyProfile.realistic(scale=args.scale)
    with tempfile.TemporaryDirectory() as tmp, ArmEmulator(profile=profile) as emu:
        os.environ.update(_environment(emu))
        simulator = VmBootSimulator(Path(tmp) / "vms", node_ready_delay_s=NODE_READY_DELAY_S)
        emu.set_boot_handler(simulator)
        kubeconfig = Path(tmp) / "admin.kubeconfig"
        try:
            asyncio.run(_bootstrap(emu, _cluster(emu), kubeconfig))
            with KubeClients.from_kubeconfig(kubeconfig) as kube, _operator(kubeconfig):
                custom = kubernetes.client.CustomObjectsApi(kube.api)
                custom.create_namespaced_custom_object(
                    GROUP, VERSION, NAMESPACE, "nodepools", _pool(OLD_VERSION)
                )
                _wait(lambda: _pool_ready(custom) and _replaced(emu, kube.core, OLD_VERSION), within_s=1800)
                started = time.monotonic()
                custom.patch_namespaced_custom_object(
                    GROUP, VERSION, NAMESPACE, "nodepools", POOL, {"spec": _pool(NEW_VERSION)["spec"]}
                )
                _wait(lambda: _replaced(emu, kube.core, NEW_VERSION), within_s=3600)
                wall = time.monotonic() - started
                _wait(lambda: _pool_ready(custom), within_s=600)
                ready_after = time.monotonic() - started
        finally:
            simulator.close()
    strategy = RolloutStrategy(max_surge=MAX_SURGE, max_unavailable=0)
    scale_set_op = profile.latency(SCALE_SET).seconds
    boot_s, drain_s = scale_set_op + NODE_READY_DELAY_S, scale_set_op
    bound = rollout_lower_bound_s(REPLICAS, strategy, boot_s=boot_s, drain_s=drain_s)
    print(f"rollout_wall_s: {wall:.2f}")
    print(f"rollout_ready_after_s: {ready_after:.2f}")
    print(f"rollout_batches: {rollout_batches(REPLICAS, strategy)}")
    print(f"rollout_boot_s: {boot_s:.2f}")
    print(f"rollout_drain_s: {drain_s:.2f}")
    print(f"rollout_lower_bound_s: {bound:.2f}")
    print(f"rollout_wall_over_lower_bound: {wall / bound:.3f}")


if __name__ == "__main__":
    main()
