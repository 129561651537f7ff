"""Benchmark: base infrastructure on the emulator's realistic latency profile.

Prints, measured in one run:
  infra_wall_s                   wall time of driving BaseInfrastructure.reconcile from nothing to Ready
  infra_critical_path_s          the longest dependency chain of the plan, in profile latencies
  infra_sequential_s             the sum of all operation latencies (a strictly sequential reconciler)
  infra_wall_over_critical_path  target: <= 1.1 (independent steps run concurrently, polls land on time)

Usage: python bench/infra.py [--scale 1.0]   (the scale multiplies every profile latency; 1.0 is Azure-like)
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Mapping

from azk_operator.azure.clients import AzureClientFactory
from azk_operator.azure.infra import (
    DEPENDENCIES,
    RESOURCE_GROUP,
    RESOURCE_TYPES,
    BaseInfraSpec,
    BaseInfrastructure,
    drive,
)
from azk_operator.azure.settings import AzureSettings
from azk_operator.emulator import TEST_CLIENT_ID, TEST_CLIENT_SECRET, ArmEmulator, LatencyProfile


def step_latencies(profile: LatencyProfile) -> dict[str, float]:
    """Each step's operation latency in the profile; a resource group PUT is synchronous in ARM."""
    return {
        name: 0.0 if name == RESOURCE_GROUP else profile.latency(RESOURCE_TYPES[name]).seconds
        for name in DEPENDENCIES
    }


def critical_path(latencies: Mapping[str, float]) -> float:
    finish: dict[str, float] = {}

    def done_at(name: str) -> float:
        if name not in finish:
            finish[name] = latencies[name] + max((done_at(dep) for dep in DEPENDENCIES[name]), default=0.0)
        return finish[name]

    return max(done_at(name) for name in DEPENDENCIES)


async def run(emu: ArmEmulator) -> tuple[float, int, int]:
    settings = AzureSettings.from_env(
        {
            "AZK_ARM_ENDPOINT": emu.endpoint,
            "AZK_ARM_CA": str(emu.ca_path),
            "AZURE_SUBSCRIPTION_ID": emu.subscription_id,
            "AZURE_TENANT_ID": emu.tenant_id,
            "AZURE_CLIENT_ID": TEST_CLIENT_ID,
            "AZURE_CLIENT_SECRET": TEST_CLIENT_SECRET,
        }
    )
    async with AzureClientFactory(settings) as factory:
        clients = factory.subscription()
        plan = BaseInfrastructure(
            clients,
            BaseInfraSpec(
                cluster="bench",
                subscription_id=clients.subscription_id,
                resource_group="bench-rg",
                location="westeurope",
                dns_prefix="bench-api",
            ),
        )
        await factory.credential.get_token("https://management.azure.com/.default")  # login is not infra time
        started = time.perf_counter()
        status = await drive(plan.reconcile, within_s=600)
        wall = time.perf_counter() - started
        if not status.done:
            raise SystemExit(f"base infrastructure did not converge: {status}")
        counts = factory.accounting.snapshot()
        return wall, counts.count("read"), counts.count("write")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiplier of the realistic latencies")
    args = parser.parse_args()
    profile = LatencyProfile.realistic(scale=args.scale)
    latencies = step_latencies(profile)
    critical, sequential = critical_path(latencies), sum(latencies.values())
    with ArmEmulator(profile=profile) as emu:
        wall, reads, writes = asyncio.run(run(emu))
    print(f"infra_profile_scale: {args.scale}")
    print(f"infra_wall_s: {wall:.3f}")
    print(f"infra_critical_path_s: {critical:.3f}")
    print(f"infra_sequential_s: {sequential:.3f}")
    print(f"infra_wall_over_critical_path: {wall / critical:.3f}")
    print(f"infra_azure_reads: {reads}")
    print(f"infra_azure_writes: {writes}")


if __name__ == "__main__":
    main()
