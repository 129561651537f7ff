"""Writing artifacts to disk so that a secret is never, even for an instant, in a file others can read.

A file is created under a temporary name with its final mode already set by ``os.open`` (``O_EXCL``, so an
existing file's wider mode is never inherited) and then renamed over the target. Changing the mode after
writing would leave a window in which the secret sits in a world-readable file; renaming also means a
reader never sees a half-written key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

SECRET_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644
PRIVATE_DIR_MODE = 0o700


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def write_secret_file(path: Path, data: bytes) -> None:
    """Write ``data`` (a key, token or kubeconfig) to ``path`` with mode 0600, replacing any old file."""
    _write_atomically(path, data, SECRET_FILE_MODE)


def write_public_file(path: Path, data: bytes) -> None:
    """Write non-secret ``data`` (a certificate or public key) to ``path`` with mode 0644."""
    _write_atomically(path, data, PUBLIC_FILE_MODE)


def is_private_to_owner(path: Path) -> bool:
    """Whether neither group nor others have any access to ``path``."""
    return path.stat().st_mode & 0o077 == 0
