"""Requests per second the ARM emulator serves to the real SDK (a figure, not a test).

Prints ``emulator_get_rps`` (simple GETs of a virtual network) and ``emulator_put_lro_rps`` (complete
PUT-with-LRO cycles of a network security group: PUT, operation poll, final GET) so later work can see the
emulator is not the bottleneck; ``emulator_put_lro_rps_with_state`` is the same cycle with a state file
(local mode, ``azk emulator run --state``), and ``emulator_state_over_memory_put_rps`` their ratio.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm
from azure.mgmt.resource.resources import ResourceManagementClient

from azk_operator.emulator import ArmEmulator, EmulatorCredential

GETS = 400
PUT_CYCLES = 100


def measure(state_file: Path | None) -> tuple[float, float]:
    """(GETs per second, PUT-with-LRO cycles per second) of one emulator."""
    with ArmEmulator(state_file=state_file) as emu:
        common = {"base_url": emu.endpoint, "connection_verify": str(emu.ca_path), "polling_interval": 0.001}
        credential = EmulatorCredential()
        resource = ResourceManagementClient(credential, emu.subscription_id, **common)
        network = NetworkManagementClient(credential, emu.subscription_id, **common)
        resource.resource_groups.create_or_update("bench", {"location": "eastus"})
        vnet = nm.VirtualNetwork(
            location="eastus", address_space=nm.AddressSpace(address_prefixes=["10.0.0.0/16"])
        )
        network.virtual_networks.begin_create_or_update("bench", "vnet", vnet).result()

        start = time.perf_counter()
        for _ in range(GETS):
            network.virtual_networks.get("bench", "vnet")
        get_rps = GETS / (time.perf_counter() - start)

        start = time.perf_counter()
        for index in range(PUT_CYCLES):
            group = nm.NetworkSecurityGroup(location="eastus", tags={"n": str(index)})
            network.network_security_groups.begin_create_or_update(
                "bench", f"nsg-{index % 10}", group
            ).result()
        put_rps = PUT_CYCLES / (time.perf_counter() - start)
    return get_rps, put_rps


def main() -> None:
    get_rps, put_rps = measure(None)
    with tempfile.TemporaryDirectory(prefix="azk-bench-emulator-") as folder:
        _, put_rps_with_state = measure(Path(folder) / "state.json")
    print(f"emulator_get_rps: {get_rps:.0f}")
    print(f"emulator_put_lro_rps: {put_rps:.1f}")
    print(f"emulator_put_lro_rps_with_state: {put_rps_with_state:.1f}")
    print(f"emulator_state_over_memory_put_rps: {put_rps_with_state / put_rps:.2f}")


if __name__ == "__main__":
    main()
