"""Kubernetes manifests azk installs besides its own CRDs, built in code so the CLI needs no data files."""

from __future__ import annotations

from typing import Any

PEERING_GROUP = "kopf.dev"


def _peering_crd(kind: str, plural: str, scope: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{PEERING_GROUP}"},
        "spec": {
            "group": PEERING_GROUP,
            "scope": scope,
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                            },
                        }
                    },
                }
            ],
        },
    }


def peering_crds() -> list[dict[str, Any]]:
    """The resources kopf's peering uses so that, of two operator replicas, exactly one is active."""
    return [
        _peering_crd("KopfPeering", "kopfpeerings", "Namespaced"),
        _peering_crd("ClusterKopfPeering", "clusterkopfpeerings", "Cluster"),
    ]


def peering_object(namespace: str) -> dict[str, Any]:
    """The peering the operator's replicas meet in. kopf only patches it; without it both would act."""
    from azk_operator.controllers.settings import PEERING_NAME

    return {
        "apiVersion": f"{PEERING_GROUP}/v1",
        "kind": "KopfPeering",
        "metadata": {"name": PEERING_NAME, "namespace": namespace},
    }


# --- the operator ------------------------------------------------------------------------------------------

OPERATOR_NAME = "azk-operator"
OPERATOR_LABELS = {"app.kubernetes.io/name": OPERATOR_NAME, "app.kubernetes.io/part-of": "azk"}
LIVENESS_PORT = 8080
METRICS_PORT = 9090
# A distroless-style unprivileged id (the image's `azk` user); the pod never runs as root.
OPERATOR_UID = 10001
AZURE_SECRET_MOUNT = "/var/run/secrets/azk/azure"  # noqa: S105 (a mount path)
AZK_RESOURCES = ("clusters", "nodesets", "nodepools", "addonmanagers")


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def operator_cluster_role() -> dict[str, Any]:
    """Cluster-scoped rights: only what draining nodes and kopf's start-up need.

    Nodes are read and cordoned (patch), pods anywhere are listed and evicted (deleted only after a drain
    timeout with the DELETE_PODS policy), PodDisruptionBudgets read to name what blocks a drain, and CRDs read
    because kopf checks that the resources it watches are served.
    """
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": OPERATOR_NAME, "labels": dict(OPERATOR_LABELS)},
        "rules": [
            _rule([""], ["nodes"], ["get", "list", "watch", "patch"]),
            _rule([""], ["pods"], ["get", "list", "watch", "delete"]),
            _rule([""], ["pods/eviction"], ["create"]),
            _rule(["policy"], ["poddisruptionbudgets"], ["get", "list", "watch"]),
            _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["get", "list", "watch"]),
            _rule([""], ["namespaces"], ["get", "list", "watch"]),
        ],
    }


def operator_role(namespace: str) -> dict[str, Any]:
    """Rights in the namespace of the Cluster resources: azk's kinds, peering, events and the cluster's
    Secrets (PKI, admin kubeconfig, Azure credentials)."""
    status = [f"{plural}/status" for plural in AZK_RESOURCES]
    scale = ["nodesets/scale", "nodepools/scale"]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": OPERATOR_NAME, "namespace": namespace, "labels": dict(OPERATOR_LABELS)},
        "rules": [
            _rule(
                ["engine.azk.io"],
                list(AZK_RESOURCES),
                ["get", "list", "watch", "create", "patch", "update", "delete"],
            ),
            _rule(["engine.azk.io"], status, ["get", "patch", "update"]),
            _rule(["engine.azk.io"], scale, ["get"]),
            _rule([PEERING_GROUP], ["kopfpeerings"], ["get", "list", "watch", "create", "patch"]),
            _rule(["", "events.k8s.io"], ["events"], ["create", "patch"]),
            _rule([""], ["secrets"], ["get", "list", "watch", "create", "patch"]),
        ],
    }


def operator_token_role() -> dict[str, Any]:
    """kube-system: the bootstrap-token Secrets the operator rotates (kubeadm's place for them)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {
            "name": f"{OPERATOR_NAME}-bootstrap-tokens",
            "namespace": "kube-system",
            "labels": dict(OPERATOR_LABELS),
        },
        "rules": [_rule([""], ["secrets"], ["get", "list", "create", "patch", "delete"])],
    }


def _binding(kind: str, role: dict[str, Any], namespace: str) -> dict[str, Any]:
    metadata = {key: value for key, value in role["metadata"].items() if key != "labels"}
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": {**metadata, "labels": dict(OPERATOR_LABELS)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role["kind"], "name": metadata["name"]},
        "subjects": [{"kind": "ServiceAccount", "name": OPERATOR_NAME, "namespace": namespace}],
    }


def operator_deployment(namespace: str, image: str, replicas: int = 2) -> dict[str, Any]:
    """Two replicas with kopf peering (one active), probed on kopf's liveness endpoint, unprivileged.

    Azure credentials of a service principal come from the `azure-credentials` Secret mounted as files
    (AZK_AZURE_SECRET_DIR), never from environment values in the spec; the volume is optional so workload
    and managed identities need no Secret.
    """
    container = {
        "name": "operator",
        "image": image,
        "args": [
            "--namespace",
            namespace,
            "--liveness",
            f"http://0.0.0.0:{LIVENESS_PORT}/healthz",
            "--metrics",
            f"0.0.0.0:{METRICS_PORT}",
        ],
        "env": [{"name": "AZK_AZURE_SECRET_DIR", "value": AZURE_SECRET_MOUNT}],
        "ports": [
            {"name": "liveness", "containerPort": LIVENESS_PORT},
            {"name": "metrics", "containerPort": METRICS_PORT},
        ],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "liveness"},
            "initialDelaySeconds": 30,
            "periodSeconds": 30,
            "timeoutSeconds": 10,
            "failureThreshold": 3,
        },
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "azure-credentials", "mountPath": AZURE_SECRET_MOUNT, "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": OPERATOR_NAME, "namespace": namespace, "labels": dict(OPERATOR_LABELS)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": OPERATOR_NAME}},
            "template": {
                "metadata": {"labels": dict(OPERATOR_LABELS)},
                "spec": {
                    "serviceAccountName": OPERATOR_NAME,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": OPERATOR_UID,
                        "runAsGroup": OPERATOR_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    # It manages the control plane it runs on: it must be allowed there.
                    "tolerations": [
                        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                    ],
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "azure-credentials",
                            "secret": {"secretName": "azure-credentials", "optional": True},
                        }
                    ],
                },
            },
        },
    }


def operator_manifests(namespace: str, image: str) -> list[dict[str, Any]]:
    """Everything that runs the operator in its cluster, in apply order."""
    cluster_role, role, token_role = operator_cluster_role(), operator_role(namespace), operator_token_role()
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        peering_object(namespace),
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": OPERATOR_NAME, "namespace": namespace, "labels": dict(OPERATOR_LABELS)},
        },
        cluster_role,
        _binding("ClusterRoleBinding", cluster_role, namespace),
        role,
        _binding("RoleBinding", role, namespace),
        token_role,
        _binding("RoleBinding", token_role, namespace),
        operator_deployment(namespace, image),
    ]


# --- deploy/ -----------------------------------------------------------------------------------------------

DEPLOY_FILE = "operator.yaml"


def render_deploy(namespace: str = "azk-system", image: str = "azk-operator:0.1.0") -> dict[str, str]:
    """deploy/'s files (name -> text): the operator install for `kubectl apply -f deploy/`."""
    import yaml

    header = "# Generated by `python -m azk_operator.create.manifests deploy`; do not edit.\n"
    documents = [*peering_crds(), *operator_manifests(namespace, image)]
    return {DEPLOY_FILE: header + yaml.safe_dump_all(documents, sort_keys=False)}


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the deploy/ folder."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 when the files differ")
    args = parser.parse_args(argv)
    drift = []
    for name, text in render_deploy().items():
        path = args.directory / name
        if args.check:
            if not path.is_file() or path.read_text() != text:
                drift.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if drift:
        print(f"out of date: {', '.join(drift)} (run python -m azk_operator.create.manifests deploy)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
