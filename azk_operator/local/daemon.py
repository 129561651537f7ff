"""The background process of local mode: `python -m azk_operator.local.daemon --home DIR`.

One process holds the ARM emulator and the VM boot simulator (the simulator is the emulator's boot hook,
and the control planes it starts are its children), and supervises one `azk operator run` process per
local cluster that has its operator installed: there is no kubelet to run the operator's pod, so this is
where the operator of a local cluster runs. SIGTERM stops runners, control planes and the emulator.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from azk_operator.create.home import ClusterHome
from azk_operator.emulator import TEST_CLIENT_ID, TEST_CLIENT_SECRET, ArmEmulator, LatencyProfile
from azk_operator.emulator.bootsim import VmBootSimulator
from azk_operator.local.records import LocalState, local_dir, state_path, write_state

log = logging.getLogger("azk.local")
SUPERVISE_INTERVAL_S = 0.5
RESTART_BACKOFF_S = 2.0
STOP_GRACE_S = 15.0
# The operator's Azure polling fallback (the emulator sends retry hints, this only bounds the rest).
POLLING_INTERVAL_S = "0.5"


@dataclass
class Runner:
    cluster: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]
    started: float


class OperatorRunners:
    """Keeps exactly one operator process per local cluster whose operator `azk create` installed."""

    def __init__(self, home: Path, state: LocalState) -> None:
        self.home = home
        self.state = state
        self.runners: dict[str, Runner] = {}
        self._exited: dict[str, float] = {}

    def wanted(self) -> dict[str, ClusterHome]:
        clusters = {}
        for folder in sorted(self.home.iterdir()) if self.home.is_dir() else []:
            if not folder.is_dir() or folder == local_dir(self.home):
                continue
            cluster = ClusterHome(folder)
            settings = cluster.settings()
            if settings.get("local") and settings.get("operatorInstalled") and cluster.kubeconfig():
                clusters[folder.name] = cluster
        return clusters

    def sync(self) -> bool:
        """Start missing runners, restart dead ones (with a back-off), stop unwanted ones; True if changed."""
        changed = False
        wanted = self.wanted()
        for name in list(self.runners):
            runner = self.runners[name]
            if name not in wanted:
                self._stop(runner)
                del self.runners[name]
                changed = True
            elif runner.process.poll() is not None:
                log.warning("operator of %s exited with %s", name, runner.process.returncode)
                runner.log_file.close()
                del self.runners[name]
                self._exited[name] = time.monotonic()
                changed = True
        for name, cluster in wanted.items():
            if name in self.runners:
                continue
            if time.monotonic() - self._exited.get(name, 0.0) < RESTART_BACKOFF_S:
                continue
            self.runners[name] = self._start(name, cluster)
            changed = True
        self.state.operators = {name: runner.process.pid for name, runner in self.runners.items()}
        return changed

    def _start(self, name: str, cluster: ClusterHome) -> Runner:
        kubeconfig = cluster.kubeconfig()
        assert kubeconfig is not None  # wanted() only lists clusters with one
        env = {
            **os.environ,
            **self.state.env(),
            "AZURE_CLIENT_ID": TEST_CLIENT_ID,
            "AZURE_CLIENT_SECRET": TEST_CLIENT_SECRET,
            "AZK_ARM_POLLING_INTERVAL": os.environ.get("AZK_ARM_POLLING_INTERVAL", POLLING_INTERVAL_S),
        }
        env.pop("AZK_AZURE_AUTH", None)
        namespace = str(cluster.settings().get("namespace", "azk-system"))
        command = [
            sys.executable,
            "-m",
            "azk_operator.cli",
            "operator",
            "run",
            "--kubeconfig",
            str(kubeconfig),
            "--namespace",
            namespace,
            "--standalone",
        ]
        log_path = local_dir(self.home) / f"operator-{name}.log"
        log_file = log_path.open("ab")
        os.chmod(log_path, 0o600)
        process = subprocess.Popen(  # our own interpreter and module
            command, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
        )
        log.info("operator of %s started (pid %d, log %s)", name, process.pid, log_path)
        return Runner(name, process, log_file, time.monotonic())

    def _stop(self, runner: Runner) -> None:
        if runner.process.poll() is None:
            runner.process.terminate()
            try:
                runner.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                runner.process.kill()
                runner.process.wait()
        runner.log_file.close()
        log.info("operator of %s stopped", runner.cluster)

    def stop_all(self) -> None:
        for runner in self.runners.values():
            self._stop(runner)
        self.runners.clear()


def serve(home: Path, profile: LatencyProfile, node_ready_delay_s: float, stop: threading.Event) -> None:
    folder = local_dir(home)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    simulator = VmBootSimulator(folder / "vms", node_ready_delay_s=node_ready_delay_s)
    try:
        with ArmEmulator(profile=profile, boot_handler=simulator, tls_dir=folder / "tls") as emulator:
            state = LocalState(
                pid=os.getpid(),
                endpoint=emulator.endpoint,
                ca_path=str(emulator.ca_path),
                subscription_id=emulator.subscription_id,
                tenant_id=emulator.tenant_id,
                log=str(folder / "daemon.log"),
                profile=f"{profile.name} x{profile.scale:g}",
            )
            write_state(state, home)
            log.info("emulator serving on %s", emulator.endpoint)
            runners = OperatorRunners(home, state)
            try:
                while not stop.wait(SUPERVISE_INTERVAL_S):
                    if runners.sync():
                        write_state(state, home)
            finally:
                runners.stop_all()
    finally:
        simulator.close()
        state_path(home).unlink(missing_ok=True)
        log.info("stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="azk local mode's background process")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--profile", default="fast", choices=("fast", "realistic"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--node-ready-delay", type=float, default=0.5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    serve(args.home, LatencyProfile.by_name(args.profile, args.scale), args.node_ready_delay, stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
