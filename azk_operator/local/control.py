"""Start, stop and inspect local mode's background process (a detached process of our own)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from azk_operator.create.home import azk_home
from azk_operator.emulator import TEST_CLIENT_ID, TEST_CLIENT_SECRET
from azk_operator.local.records import DAEMON_MODULE, LocalState, is_daemon, local_dir, read_state, state_path

START_TIMEOUT_S = 60.0
NODE_READY_DELAY_S = 0.5
"""How long a simulated node takes from registering to Ready (a kubelet's first status and CNI)."""
STOP_TIMEOUT_S = 90.0


class LocalModeError(RuntimeError):
    """Local mode could not start or stop; the message says why (and where its log is)."""


def up(
    home: Path | None = None,
    profile: str = "fast",
    scale: float = 1.0,
    node_ready_delay_s: float = NODE_READY_DELAY_S,
) -> tuple[LocalState, bool]:
    """Start local mode unless it runs; returns its state and whether this call started it."""
    home = home or azk_home()
    running = read_state(home)
    if running is not None:
        return running, False
    folder = local_dir(home)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    state_path(home).unlink(missing_ok=True)
    log_path = folder / "daemon.log"
    with log_path.open("ab") as log_file:
        os.chmod(log_path, 0o600)
        process = subprocess.Popen(  # our own interpreter and module
            [
                sys.executable,
                "-m",
                DAEMON_MODULE,
                "--home",
                str(home),
                "--profile",
                profile,
                "--scale",
                str(scale),
                "--node-ready-delay",
                str(node_ready_delay_s),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # detached: outlives this command, not killed by its terminal's Ctrl-C
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        state = read_state(home)
        if state is not None and state.pid == process.pid:
            return state, True
        if process.poll() is not None:
            raise LocalModeError(f"local mode exited at start (code {process.returncode}); see {log_path}")
        time.sleep(0.1)
    process.terminate()
    raise LocalModeError(f"local mode did not start within {START_TIMEOUT_S:.0f} s; see {log_path}")


def down(home: Path | None = None) -> LocalState | None:
    """Stop local mode and everything it started; returns what was stopped (None if it was not running)."""
    home = home or azk_home()
    state = read_state(home)
    if state is None:
        state_path(home).unlink(missing_ok=True)
        return None
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while is_daemon(state.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_daemon(state.pid):
        # Its own session: the group holds only what it started (runners; control planes die with it).
        os.killpg(state.pid, signal.SIGKILL)
    for pid in state.operators.values():
        _kill_if_operator(pid)
    state_path(home).unlink(missing_ok=True)
    return state


def _kill_if_operator(pid: int) -> None:
    """A runner left behind by a killed daemon (only if that pid still is an `azk operator run`)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return
    if b"azk_operator.cli" in cmdline and b"operator" in cmdline:
        os.kill(pid, signal.SIGKILL)


def azure_env(state: LocalState) -> dict[str, str]:
    """The environment `azk create --local` runs the Azure layer with: the emulator and its test identity."""
    return {
        **state.env(),
        "AZURE_CLIENT_ID": TEST_CLIENT_ID,
        "AZURE_CLIENT_SECRET": TEST_CLIENT_SECRET,
        "AZK_ARM_POLLING_INTERVAL": os.environ.get("AZK_ARM_POLLING_INTERVAL", "0.5"),
    }
