"""Where local mode records itself: ``$AZK_HOME/local/`` (state.json, logs, the emulator's CA, VM folders).

state.json is written by the background process once it serves, and removed when it stops; it holds only
addresses, ids and file paths, never a secret.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from azk_operator.bootstrap.files import write_secret_file
from azk_operator.create.home import azk_home

DAEMON_MODULE = "azk_operator.local.daemon"


def local_dir(home: Path | None = None) -> Path:
    return (home or azk_home()) / "local"


@dataclass
class LocalState:
    pid: int
    endpoint: str
    ca_path: str
    subscription_id: str
    tenant_id: str
    log: str
    profile: str
    operators: dict[str, int] = field(default_factory=dict)
    """Cluster name -> pid of its `azk operator run` process."""

    def env(self) -> dict[str, str]:
        """What points azk's Azure layer at the emulator (the AZK_ARM_ENDPOINT/AZK_ARM_CA switch)."""
        return {
            "AZK_ARM_ENDPOINT": self.endpoint,
            "AZK_ARM_CA": self.ca_path,
            "AZURE_SUBSCRIPTION_ID": self.subscription_id,
            "AZURE_TENANT_ID": self.tenant_id,
        }


def state_path(home: Path | None = None) -> Path:
    return local_dir(home) / "state.json"


def write_state(state: LocalState, home: Path | None = None) -> None:
    write_secret_file(state_path(home), json.dumps(asdict(state), indent=2, sort_keys=True).encode())


def read_state(home: Path | None = None) -> LocalState | None:
    """The recorded state, or None when local mode is not running (no record, or its process is gone)."""
    path = state_path(home)
    if not path.is_file():
        return None
    state = LocalState(**json.loads(path.read_text()))
    return state if is_daemon(state.pid) else None


def is_daemon(pid: int) -> bool:
    """Whether `pid` is alive and is our background process (not a recycled pid of something else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return DAEMON_MODULE.encode() in cmdline and _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    status = Path(f"/proc/{pid}/status").read_text()
    return "State:\tZ" not in status
