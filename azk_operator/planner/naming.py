"""NodeSet names: `<pool>-<hash of the template>`, so one template maps to exactly one NodeSet.

Naming a NodeSet after its template is what makes rollouts resumable and rollbacks cheap: after a restart
the planner finds the NodeSet of the current template by name instead of by remembered progress, and a
template set back to an earlier value finds that earlier NodeSet again if it still exists.

Which fields count: all of them. Every field of a node template needs new VMs:
- vmSize, zones, osDiskSizeGB, spot (priority and max price): properties of the scale set's VM model that
  Azure does not change on running VMs without deallocating or reimaging them;
- kubernetesVersion and image: the kubelet binary and the OS disk come from the image and cloud-init;
- labels and taints: the kubelet registers them from `--node-labels` / `--register-with-taints`, written by
  cloud-init. Patching Node objects in place would not survive a re-registration, and every VM the scale
  set adds later would still carry the old flags, so one NodeSet would hold nodes of two templates.
A NodeSet's template is immutable for the same reason, so hashing the whole template is exact.

Canonical form: keys sorted; None, empty lists and empty maps dropped (so a new optional API field does not
roll every pool when the operator is upgraded); lists sorted, because every list in a template is a set
(zones, taints keyed by key and effect) and reordering one must not replace nodes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Final

#: A JSON value as produced by a pydantic `model_dump(mode="json", by_alias=True)`.
JsonValue = None | bool | int | float | str | list["JsonValue"] | Mapping[str, "JsonValue"]

HASH_LENGTH: Final = 10
"""50 bits of sha256 in lowercase base32: DNS-safe and collision-free in practice for one pool's templates."""

MAX_NAME_LENGTH: Final = 63
"""A DNS-1123 label: NodeSet names are also label values (`engine.azk.io/nodeset`) and scale-set names."""

_POOL_HASH_LENGTH: Final = 5
_DNS1123_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NOT_LABEL_CHARS: Final = re.compile(r"[^a-z0-9-]+")


def _canonical(value: JsonValue) -> JsonValue:
    if isinstance(value, Mapping):
        pruned = {key: _canonical(item) for key, item in value.items()}
        return {key: item for key, item in sorted(pruned.items()) if not _is_empty(item)}
    if isinstance(value, list):
        items = [_canonical(item) for item in value]
        return sorted((item for item in items if not _is_empty(item)), key=_dumps)
    return value


def _is_empty(value: JsonValue) -> bool:
    return value is None or (isinstance(value, list | Mapping) and len(value) == 0)


def _dumps(value: JsonValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _digest(text: str, length: int) -> str:
    raw = hashlib.sha256(text.encode()).digest()
    return base64.b32encode(raw).decode().lower().rstrip("=")[:length]


def template_hash(template: Mapping[str, JsonValue]) -> str:
    """The short, stable hash of a node template (its JSON form, API field names)."""
    return _digest(_dumps(_canonical(template)), HASH_LENGTH)


def is_dns1123_label(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and _DNS1123_LABEL.fullmatch(name) is not None


def nodeset_name(pool: str, hash_: str) -> str:
    """`<pool>-<hash>`, always a valid DNS-1123 label.

    A pool name that is too long or not label-safe (NodePool names may contain dots) is shortened and
    suffixed with a hash of the full pool name: truncating alone would give two pools that share a prefix
    the same NodeSet names.
    """
    if not re.fullmatch(r"[a-z2-7]+", hash_) or len(hash_) > HASH_LENGTH:
        raise ValueError(f"not a template hash: {hash_!r}")
    room = MAX_NAME_LENGTH - len(hash_) - 1
    if is_dns1123_label(pool) and len(pool) <= room:
        return f"{pool}-{hash_}"
    safe = _NOT_LABEL_CHARS.sub("-", pool.lower()).strip("-")
    safe = re.sub(r"-{2,}", "-", safe)[: room - _POOL_HASH_LENGTH - 1].rstrip("-")
    pool_part = f"{safe}-{_digest(pool, _POOL_HASH_LENGTH)}" if safe else _digest(pool, _POOL_HASH_LENGTH)
    return f"{pool_part}-{hash_}"
