"""The generated CRDs: committed files match the models, and the schemas are what the API server needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from azk_operator.api import crdgen
from azk_operator.api.rules import ApiModel, Rule, TransitionRule

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"

# Short names of the built-in resources (kubectl api-resources on a 1.37 cluster) and of common add-ons.
BUILT_IN_SHORT_NAMES = {
    "cm", "cs", "csr", "crd", "crds", "cj", "ds", "deploy", "ep", "eps", "ev", "hpa", "ing", "ingclass",
    "limits", "netpol", "no", "ns", "pc", "pdb", "po", "psp", "pv", "pvc", "quota", "rc", "rs", "sa", "sc",
    "sts", "svc", "vac", "ipa", "cidr", "cl", "mp", "md", "ms", "kcp",
}  # fmt: skip


def crd_docs() -> dict[str, dict[str, Any]]:
    return {kind.filename: crdgen.crd(kind) for kind in crdgen.KINDS}


def walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, child in node.get("properties", {}).items():
            yield from walk(child, f"{path}.{key}")
        if "items" in node:
            yield from walk(node["items"], f"{path}[]")
        if isinstance(node.get("additionalProperties"), dict):
            yield from walk(node["additionalProperties"], f"{path}.*")


def schema_of(doc: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def test_committed_crds_match_the_models() -> None:
    committed = {path.name: path.read_text() for path in CRD_DIR.glob("*.yaml")}
    assert committed == crdgen.render(), (
        "crds/ drifted from the models: run python -m azk_operator.api.crdgen"
    )


def test_check_mode_reports_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert crdgen.main([str(tmp_path), "--check"]) == 1
    assert crdgen.main([str(tmp_path)]) == 0
    assert crdgen.main([str(tmp_path), "--check"]) == 0
    (tmp_path / "engine.azk.io_nodepools.yaml").write_text("edited by hand\n")
    assert crdgen.main([str(tmp_path), "--check"]) == 1
    assert "engine.azk.io_nodepools.yaml differs" in capsys.readouterr().err


def test_files_are_plain_crds() -> None:
    for name, text in crdgen.render().items():
        doc = yaml.safe_load(text)
        assert doc["apiVersion"] == "apiextensions.k8s.io/v1" and doc["kind"] == "CustomResourceDefinition"
        assert name == f"{doc['spec']['group']}_{doc['spec']['names']['plural']}.yaml"


@pytest.mark.parametrize("kind", crdgen.KINDS, ids=lambda kind: kind.model.__name__)
def test_names_scope_and_category(kind: crdgen.Kind) -> None:
    spec = crdgen.crd(kind)["spec"]
    assert spec["group"] == "engine.azk.io" and spec["scope"] == "Namespaced"
    assert spec["names"]["categories"] == ["azk"]
    assert spec["names"]["kind"] == kind.model.__name__
    version = spec["versions"][0]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert "status" in version["subresources"]


def test_short_names_unique_and_clash_with_nothing_built_in() -> None:
    short_names = [name for kind in crdgen.KINDS for name in kind.short_names]
    assert len(short_names) == len(set(short_names)) == 4
    assert not set(short_names) & BUILT_IN_SHORT_NAMES


def test_scale_subresource_on_node_pool_and_node_set_only() -> None:
    scalable = {
        doc["spec"]["names"]["kind"]: doc["spec"]["versions"][0]["subresources"].get("scale")
        for doc in crd_docs().values()
    }
    expected = {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }
    assert scalable == {"Cluster": None, "NodeSet": expected, "NodePool": expected, "AddonManager": None}
    for kind in ("nodesets", "nodepools"):
        status = schema_of(crd_docs()[f"engine.azk.io_{kind}.yaml"])["properties"]["status"]["properties"]
        assert status["selector"]["type"] == "string" and status["replicas"]["type"] == "integer"


@pytest.mark.parametrize("filename", sorted(crd_docs()))
def test_schema_is_structural(filename: str) -> None:
    for path, node in walk(schema_of(crd_docs()[filename])):
        assert not {"$ref", "anyOf", "oneOf", "allOf", "nullable", "title"} & node.keys(), path
        assert node.get("additionalProperties") is not False, path
        assert "type" in node or node.get("x-kubernetes-int-or-string"), path


def test_free_form_and_int_or_string_only_where_intended() -> None:
    found: dict[str, set[str]] = {
        "x-kubernetes-preserve-unknown-fields": set(),
        "x-kubernetes-int-or-string": set(),
    }
    for filename, doc in crd_docs().items():
        for path, node in walk(schema_of(doc)):
            for marker, paths in found.items():
                if node.get(marker):
                    paths.add(f"{filename}:{path}")
    assert found["x-kubernetes-preserve-unknown-fields"] == {
        "engine.azk.io_addonmanagers.yaml:.spec.addons[].config"
    }
    assert found["x-kubernetes-int-or-string"] == {
        "engine.azk.io_nodepools.yaml:.spec.strategy.maxSurge",
        "engine.azk.io_nodepools.yaml:.spec.strategy.maxUnavailable",
    }


@pytest.mark.parametrize("filename", sorted(crd_docs()))
def test_every_string_and_list_is_bounded(filename: str) -> None:
    """Unbounded values make objects large and CEL cost estimates explode."""
    for path, node in walk(schema_of(crd_docs()[filename])):
        if path.startswith((".apiVersion", ".kind", ".metadata")) or node.get("format") == "date-time":
            continue
        if node.get("type") == "string" and "enum" not in node:
            assert "maxLength" in node, path
        if node.get("type") == "array":
            assert "maxItems" in node, path
        if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
            assert "maxProperties" in node, path


def _model_rules(model: type[ApiModel]) -> Iterator[str]:
    rules: list[Rule | TransitionRule] = [*model.rules, *model.transition_rules]
    yield from (rule.message for rule in rules)
    for info in model.model_fields.values():
        for candidate in (info.annotation, *getattr(info.annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, ApiModel):
                yield from _model_rules(candidate)


@pytest.mark.parametrize("kind", crdgen.KINDS, ids=lambda kind: kind.model.__name__)
def test_every_model_rule_is_in_the_crd(kind: crdgen.Kind) -> None:
    in_crd = {
        entry["message"]
        for _, node in walk(schema_of(crdgen.crd(kind)))
        for entry in node.get("x-kubernetes-validations", [])
    }
    model_rules = set(_model_rules(kind.model))
    assert model_rules and model_rules <= in_crd


def test_printer_columns_show_ready_reason_version_replicas_age() -> None:
    for doc in crd_docs().values():
        columns = {
            column["name"]: column for column in doc["spec"]["versions"][0]["additionalPrinterColumns"]
        }
        assert columns["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
        assert columns["Reason"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].reason'
        assert columns["Age"]["type"] == "date"
        if doc["spec"]["names"]["kind"] != "AddonManager":
            assert {"Version", "Replicas"} <= columns.keys()


def test_defaults_in_schema_match_model_defaults() -> None:
    """The API server fills in the same defaults the models apply (a nested default is the whole object)."""
    cluster_spec = schema_of(crd_docs()["engine.azk.io_clusters.yaml"])["properties"]["spec"]["properties"]
    assert cluster_spec["network"]["default"] == {
        "vnetCidr": "10.0.0.0/16",
        "controlPlaneSubnetCidr": "10.0.0.0/24",
        "nodeSubnetCidr": "10.0.16.0/20",
        "podCidr": "10.244.0.0/16",
        "serviceCidr": "10.96.0.0/12",
        "apiServerAllowedCidrs": ["0.0.0.0/0"],
    }
    assert cluster_spec["controlPlane"]["properties"]["replicas"]["default"] == 3
