"""Kubernetes manifests as plain dicts: parsed from (multi-document) YAML, checked, and referenced."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

Manifest = dict[str, Any]
ManifestSource = str | Mapping[str, Any] | Iterable[Mapping[str, Any]]


class ManifestError(ValueError):
    """A document is not a usable Kubernetes object; the message says which document and what is missing."""


@dataclass(frozen=True)
class ObjectRef:
    api_version: str
    kind: str
    name: str
    namespace: str | None

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{where}{self.name}"


def load_manifests(source: ManifestSource) -> list[Manifest]:
    """Every object in `source`: a YAML text (documents separated by `---`), one dict, or dicts.

    Empty documents are dropped (common at the end of generated YAML); `kind: List` is flattened, as
    `kubectl apply` does.
    """
    if isinstance(source, str):
        documents: list[Any] = list(yaml.safe_load_all(source))
    elif isinstance(source, Mapping):
        documents = [source]
    else:
        documents = list(source)
    objects: list[Manifest] = []
    for index, document in enumerate(documents):
        if document is None:
            continue
        if not isinstance(document, Mapping):
            raise ManifestError(f"document {index}: not a mapping")
        if document.get("kind") == "List":
            objects.extend(load_manifests(document.get("items") or []))
            continue
        _check(document, index)
        objects.append(dict(document))
    return objects


def object_ref(manifest: Mapping[str, Any], default_namespace: str | None = None) -> ObjectRef:
    metadata = manifest.get("metadata") or {}
    return ObjectRef(
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        name=metadata["name"],
        namespace=metadata.get("namespace") or default_namespace,
    )


def _check(document: Mapping[str, Any], index: int) -> None:
    for key in ("apiVersion", "kind"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise ManifestError(f"document {index}: {key} is missing")
    metadata = document.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("name"):
        raise ManifestError(f"document {index} ({document['kind']}): metadata.name is missing")
