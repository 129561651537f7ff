"""Ownership tags: azk deletes or modifies only what carries ``azk.io_cluster_<name>: owned``."""

from __future__ import annotations

from collections.abc import Mapping

OWNED = "owned"
_PREFIX = "azk.io_cluster_"


def ownership_key(cluster: str) -> str:
    return f"{_PREFIX}{cluster}"


def owned_tags(cluster: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The tags azk sets on everything it creates: the user's tags plus the ownership tag (which wins)."""
    tags = dict(extra or {})
    tags[ownership_key(cluster)] = OWNED
    return tags


def is_owned(tags: Mapping[str, str] | None, cluster: str) -> bool:
    # ARM tag names are case-insensitive; values are not.
    key = ownership_key(cluster).lower()
    return any(name.lower() == key and value == OWNED for name, value in (tags or {}).items())


def merged_tags(existing: Mapping[str, str] | None, desired: Mapping[str, str]) -> dict[str, str]:
    """Existing tags others set are kept; the ones azk manages take azk's value."""
    result = {name: value for name, value in (existing or {}).items() if name.lower() not in _lower(desired)}
    result.update(desired)
    return result


def tags_differ(existing: Mapping[str, str] | None, desired: Mapping[str, str]) -> bool:
    current = {name.lower(): value for name, value in (existing or {}).items()}
    return any(current.get(name.lower()) != value for name, value in desired.items())


def _lower(tags: Mapping[str, str]) -> set[str]:
    return {name.lower() for name in tags}
