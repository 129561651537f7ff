"""Benchmark: `azk create --local` on the emulator's realistic latency profile, through the real CLI.

Local mode is started first (`azk local up --profile realistic --scale S`, outside the figures), then the
installed `azk` command creates a cluster with a 2-node worker pool from nothing to Ready, and deletes it.
Prints, measured in one run:
  cli_help_s                      median wall time of `azk --help` over 5 runs (target: < 0.3)
  create_wall_s                   `azk create NAME --local --yes` from start to exit (cluster and pool Ready)
  create_critical_path_s          what the create cannot avoid waiting for: the base infrastructure's
                                  critical path, then the control-plane scale set, then the worker scale set
                                  (each with its nodes' Ready delay), in profile latencies
  create_wall_over_critical_path  wall / critical path: the time the CLI, the simulated control plane's real
                                  start and the operator add on top of Azure's own latencies
  delete_wall_s                   `azk delete NAME --local --yes` until nothing tagged is left

Usage: python bench/create.py [--scale 0.2]   (multiplies every profile latency; 1.0 is Azure-like)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra import critical_path, step_latencies  # the sibling benchmark's model of the base infrastructure

from azk_operator.emulator import LatencyProfile
from azk_operator.local.control import NODE_READY_DELAY_S

AZK = Path(sys.executable).with_name("azk")
NAME = "bench"
SCALE_SET_TYPE = "Microsoft.Compute/virtualMachineScaleSets"


def run(env: dict[str, str], *args: str) -> float:
    """Run `azk ARGS`; return its wall time, or exit with its output when it fails."""
    started = time.perf_counter()
    done = subprocess.run([str(AZK), *args], env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"azk {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return took


def create_critical_path(profile: LatencyProfile) -> float:
    node_scale_set = profile.latency(SCALE_SET_TYPE).seconds + NODE_READY_DELAY_S
    return critical_path(step_latencies(profile)) + 2 * node_scale_set


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.2, help="multiplier of the realistic latencies")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="azk-bench-create-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZK_"))}
        env["AZK_HOME"] = home
        # The operator's own timers (retries, polls) shrink with Azure's latencies, as in bench/rollout.py:
        # the run is a time-compressed model of a create against Azure at scale 1.0.
        env["AZK_OPERATOR_TIME_SCALE"] = str(args.scale)
        help_runs = sorted(run(env, "--help") for _ in range(5))
        run(env, "local", "up", "--profile", "realistic", "--scale", str(args.scale))
        try:
            create_wall = run(env, "create", NAME, "--local", "--yes", "--node-count", "2")
            delete_wall = run(env, "delete", NAME, "--local", "--yes")
        finally:
            run(env, "local", "down")
    critical = create_critical_path(LatencyProfile.realistic(scale=args.scale))
    print(f"create_profile_scale: {args.scale}")
    print(f"cli_help_s: {statistics.median(help_runs):.3f}")
    print(f"create_wall_s: {create_wall:.3f}")
    print(f"create_critical_path_s: {critical:.3f}")
    print(f"create_wall_over_critical_path: {create_wall / critical:.3f}")
    print(f"delete_wall_s: {delete_wall:.3f}")


if __name__ == "__main__":
    main()
