"""deploy/ is generated from the same code `azk create` installs the operator with; it must not drift."""

from __future__ import annotations

from pathlib import Path

import yaml

from azk_operator.controllers.settings import PEERING_NAME
from azk_operator.create.manifests import DEPLOY_FILE, main, render_deploy

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_committed_deploy_folder_matches_the_code() -> None:
    assert (DEPLOY / DEPLOY_FILE).read_text() == render_deploy()[DEPLOY_FILE]
    assert main([str(DEPLOY), "--check"]) == 0


def test_the_operator_runs_two_unprivileged_replicas_with_a_liveness_probe() -> None:
    documents = list(yaml.safe_load_all(render_deploy()[DEPLOY_FILE]))
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert deployment["spec"]["replicas"] == 2, "two replicas, one active through kopf peering"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert all("valueFrom" not in e for e in container.get("env", [])), "credentials come as files only"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["azure-credentials"]["secret"]["optional"] is True, "no Secret needed for other identities"


def test_the_replicas_meet_in_a_peering_object_of_their_namespace() -> None:
    """kopf only patches the peering object: without it two replicas could never agree on one active."""
    documents = list(yaml.safe_load_all(render_deploy()[DEPLOY_FILE]))
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    peerings = [d for d in documents if d["kind"] == "KopfPeering"]
    assert [(p["metadata"]["name"], p["metadata"]["namespace"]) for p in peerings] == [
        (PEERING_NAME, deployment["metadata"]["namespace"])
    ]
    assert "--standalone" not in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
