"""Typed access to the metadata the generated client models declare optional.

Objects read from the apiserver always carry metadata with a name (and a namespace when namespaced); the
models still type them `Optional`. These accessors turn a violation into a clear error instead of `None`
leaking into names and selectors.
"""

from __future__ import annotations

from typing import Protocol

import kubernetes


class HasMetadata(Protocol):
    @property
    def metadata(self) -> kubernetes.client.V1ObjectMeta | None: ...


def meta(obj: HasMetadata) -> kubernetes.client.V1ObjectMeta:
    if obj.metadata is None:
        raise ValueError(f"{type(obj).__name__} without metadata")
    return obj.metadata


def name_of(obj: HasMetadata) -> str:
    name = meta(obj).name
    if not name:
        raise ValueError(f"{type(obj).__name__} without metadata.name")
    return name


def namespace_of(obj: HasMetadata) -> str:
    namespace = meta(obj).namespace
    if not namespace:
        raise ValueError(f"{type(obj).__name__} {name_of(obj)} without metadata.namespace")
    return namespace
