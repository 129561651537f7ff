"""The ``--state`` file: the whole emulator state as JSON, written atomically with mode 0600.

It holds customData (bootstrap secrets) and the token-signing key, hence the mode. A write goes to a
temporary file in the same directory and is renamed over the old one, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

STATE_VERSION = 1


def save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"version": STATE_VERSION, **state}, separators=(",", ":")).encode()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def load_state(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_bytes())
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: unsupported emulator state version {data.get('version')!r}")
    return data
