"""Generate the CustomResourceDefinitions in crds/ from the models.

    python -m azk_operator.api.crdgen [OUTPUT_DIR] [--check]     (OUTPUT_DIR defaults to crds)

The models are the single source: this module adds only what a CRD has and a model does not (names,
printer columns, subresources). `--check` writes nothing and exits 1 when the files differ from the models.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from azk_operator.api.addonmanager import AddonManager
from azk_operator.api.cluster import Cluster
from azk_operator.api.meta import GROUP, VERSION, ObjectMeta, Resource
from azk_operator.api.nodepool import NodePool
from azk_operator.api.nodeset import NodeSet
from azk_operator.api.schema import JsonSchema, structural

CATEGORY = "azk"
HEADER = "# Generated from azk_operator/api by `python -m azk_operator.api.crdgen`. Do not edit.\n"

_READY = '.status.conditions[?(@.type=="Ready")]'


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    json_path: str
    description: str
    priority: int = 0

    def crd(self) -> dict[str, Any]:
        column: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "jsonPath": self.json_path,
            "description": self.description,
        }
        if self.priority:
            column["priority"] = self.priority
        return column


READY = Column("Ready", "string", f"{_READY}.status", "Status of the Ready condition")
REASON = Column("Reason", "string", f"{_READY}.reason", "Reason of the Ready condition")
AGE = Column("Age", "date", ".metadata.creationTimestamp", "Time since creation")
CLUSTER = Column("Cluster", "string", ".spec.clusterName", "The Cluster the object belongs to", 1)
TEMPLATE_VERSION = Column("Version", "string", ".spec.template.kubernetesVersion", "Kubernetes version")
VM_SIZE = Column("VM Size", "string", ".spec.template.vmSize", "Azure VM size", 1)


@dataclass(frozen=True)
class Kind:
    """What the CRD of one kind adds to its model."""

    model: type[Resource]
    short_names: tuple[str, ...]
    columns: tuple[Column, ...]
    scalable: bool = False

    @property
    def singular(self) -> str:
        return self.model.model_fields["kind"].default.lower()  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return f"{self.model.plural}.{GROUP}"

    @property
    def filename(self) -> str:
        return f"{GROUP}_{self.model.plural}.yaml"


# Short names are prefixed with "azk" so they never clash with built-in ones (no, ns, ds, rs, ...) nor with
# other projects' clusters and node pools.
KINDS: tuple[Kind, ...] = (
    Kind(
        Cluster,
        ("azkc",),
        (
            READY,
            REASON,
            Column("Version", "string", ".spec.kubernetesVersion", "Kubernetes version of the control plane"),
            Column("Replicas", "integer", ".spec.controlPlane.replicas", "Control-plane VMs"),
            Column("Endpoint", "string", ".status.endpoint", "API server URL", 1),
            Column("Location", "string", ".spec.azure.location", "Azure region", 1),
            Column("Resource Group", "string", ".spec.azure.resourceGroup", "Azure resource group", 1),
            AGE,
        ),
    ),
    Kind(
        NodeSet,
        ("azkns",),
        (
            READY,
            REASON,
            Column("Role", "string", ".spec.role", "ControlPlane or Worker"),
            TEMPLATE_VERSION,
            Column("Replicas", "integer", ".spec.replicas", "Desired VMs"),
            Column("Current", "integer", ".status.replicas", "VMs that exist"),
            Column("Ready Nodes", "integer", ".status.readyReplicas", "VMs whose Node is Ready"),
            CLUSTER,
            VM_SIZE,
            Column("Scale Set", "string", ".status.scaleSetName", "Azure VM scale set", 1),
            AGE,
        ),
        scalable=True,
    ),
    Kind(
        NodePool,
        ("azknp",),
        (
            READY,
            REASON,
            TEMPLATE_VERSION,
            Column("Replicas", "integer", ".spec.replicas", "Desired nodes"),
            Column("Current", "integer", ".status.replicas", "Nodes over all NodeSets"),
            Column("Ready Nodes", "integer", ".status.readyReplicas", "Ready nodes"),
            Column("Updated", "integer", ".status.updatedReplicas", "Nodes from the current template"),
            CLUSTER,
            VM_SIZE,
            Column("NodeSet", "string", ".status.currentNodeSet", "NodeSet of the current template", 1),
            AGE,
        ),
        scalable=True,
    ),
    Kind(
        AddonManager,
        ("azkam",),
        (
            READY,
            REASON,
            Column("Cluster", "string", ".spec.clusterName", "The Cluster the addons are applied to"),
            Column("Addons", "string", ".spec.addons[*].name", "Addons in the list", 1),
            AGE,
        ),
    ),
)


def _metadata_schema(model: type[Resource]) -> JsonSchema:
    """A CRD may constrain only metadata.name (and generateName); a kind whose metadata model narrows
    `name` gets that constraint, the others a plain object."""
    metadata_model = model.model_fields["metadata"].annotation
    schema: JsonSchema = {"type": "object"}
    if isinstance(metadata_model, type) and metadata_model is not ObjectMeta:
        name = structural(metadata_model.model_json_schema(by_alias=True))["properties"]["name"]
        schema["properties"] = {"name": name}
    return schema


def openapi_schema(model: type[Resource]) -> JsonSchema:
    schema = structural(model.model_json_schema(by_alias=True))
    properties = schema["properties"]
    properties["apiVersion"] = {
        "type": "string",
        "description": "APIVersion of the object (engine.azk.io/v1alpha1)",
    }
    properties["kind"] = {"type": "string", "description": f"Kind of the object ({model.__name__})"}
    properties["metadata"] = _metadata_schema(model)
    return schema


def crd(kind: Kind) -> dict[str, Any]:
    """The CustomResourceDefinition of `kind`."""
    subresources: dict[str, Any] = {"status": {}}
    if kind.scalable:
        subresources["scale"] = {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        }
    kind_name = kind.model.__name__
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": kind.name},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind_name,
                "listKind": f"{kind_name}List",
                "plural": kind.model.plural,
                "singular": kind.singular,
                "shortNames": list(kind.short_names),
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": subresources,
                    "additionalPrinterColumns": [column.crd() for column in kind.columns],
                    "schema": {"openAPIV3Schema": openapi_schema(kind.model)},
                }
            ],
        },
    }


def crds() -> list[dict[str, Any]]:
    """Every CRD, e.g. for the CLI to install into a new cluster."""
    return [crd(kind) for kind in KINDS]


def render() -> dict[str, str]:
    """File name -> YAML text of every CRD, exactly as committed in crds/."""
    return {
        kind.filename: HEADER + yaml.safe_dump(crd(kind), sort_keys=False, width=120, allow_unicode=True)
        for kind in KINDS
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m azk_operator.api.crdgen", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "output_dir", nargs="?", type=Path, default=Path("crds"), help="where the CRD files go"
    )
    parser.add_argument("--check", action="store_true", help="only report files that differ; exit 1 if any")
    args = parser.parse_args(argv)
    out: Path = args.output_dir
    stale = [name for name, text in render().items() if _read(out / name) != text]
    if args.check:
        for name in stale:
            print(
                f"{out / name} differs from the models; run python -m azk_operator.api.crdgen",
                file=sys.stderr,
            )
        return 1 if stale else 0
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        if name in stale:
            (out / name).write_text(text)
            print(f"wrote {out / name}")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


if __name__ == "__main__":
    raise SystemExit(main())
