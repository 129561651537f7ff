"""`azk status`: the cluster, its pools and node sets, and their conditions (what is happening now)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azk_operator.cli.common import KubeconfigOpt, NameArg, NamespaceOpt, OutputOpt, fail
from azk_operator.cli.output import Format, emit


def resolve_kubeconfig(name: str, kubeconfig: Path | None) -> tuple[Path, str | None]:
    """The kubeconfig to use and the namespace `azk create` recorded (exits when there is none)."""
    from azk_operator.create.home import ClusterHome

    home = ClusterHome.of(name)
    path = kubeconfig or home.kubeconfig()
    if path is None:
        raise fail(
            f"unknown cluster {name}: azk holds no kubeconfig for it in {home.root} "
            f"(create it with `azk create {name}`, or give --kubeconfig)"
        )
    namespace = home.settings().get("namespace")
    return path, str(namespace) if namespace else None


async def collect(kubeconfig: Path, namespace: str, name: str) -> dict[str, Any]:
    import kubernetes

    from azk_operator.api.meta import GROUP, VERSION
    from azk_operator.kube.clients import KubeClients

    with KubeClients.from_kubeconfig(kubeconfig) as kube:
        custom = kubernetes.client.CustomObjectsApi(kube.api)

        async def listed(plural: str, selector: str | None = None) -> list[dict[str, Any]]:
            result: Any = await kube.call(
                custom.list_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                plural,
                label_selector=selector or "",
                _request_timeout=15,
            )
            return list(result.get("items", []))

        clusters = [c for c in await listed("clusters") if c["metadata"]["name"] == name]
        pools = [p for p in await listed("nodepools") if p.get("spec", {}).get("clusterName") == name]
        sets = [s for s in await listed("nodesets") if s.get("spec", {}).get("clusterName") == name]
    return {
        "cluster": _summary(clusters[0]) if clusters else None,
        "nodePools": [_summary(p) for p in pools],
        "nodeSets": [_summary(s) for s in sets],
    }


def _summary(obj: dict[str, Any]) -> dict[str, Any]:
    spec, status = obj.get("spec", {}), obj.get("status") or {}
    summary: dict[str, Any] = {"name": obj["metadata"]["name"]}
    if "replicas" in spec:
        summary["replicas"] = spec["replicas"]
        summary["readyReplicas"] = status.get("readyReplicas", 0)
    if "endpoint" in status:
        summary["endpoint"] = status["endpoint"]
    summary["conditions"] = [
        {key: c.get(key, "") for key in ("type", "status", "reason", "message")}
        for c in status.get("conditions", [])
    ]
    return summary


def _ready(summary: dict[str, Any]) -> str:
    return next((c["status"] for c in summary["conditions"] if c["type"] == "Ready"), "Unknown")


def status(
    name: NameArg,
    namespace: NamespaceOpt = None,
    kubeconfig: KubeconfigOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Show the cluster, its NodePools and NodeSets, and every condition."""
    import asyncio

    path, recorded = resolve_kubeconfig(name, kubeconfig)
    ns = namespace or recorded or "azk-system"
    try:
        data = asyncio.run(collect(path, ns, name))
    except Exception as error:  # an unreachable API server is an answer, not a crash
        raise fail(f"cannot read cluster {name} through {path}: {type(error).__name__}: {error}") from None
    if data["cluster"] is None:
        raise fail(f"no Cluster {name} in namespace {ns}")
    objects = [("Cluster", data["cluster"])]
    objects += [("NodePool", p) for p in data["nodePools"]] + [("NodeSet", s) for s in data["nodeSets"]]
    rows = [
        [kind, o["name"], _ready(o), f"{o.get('readyReplicas', '-')}/{o.get('replicas', '-')}"]
        for kind, o in objects
    ]
    conditions = [
        [f"{kind}/{o['name']}", c["type"], c["status"], c["reason"], c["message"]]
        for kind, o in objects
        for c in o["conditions"]
    ]
    emit(
        data,
        output,
        [
            (
                f"cluster {name} ({data['cluster'].get('endpoint', 'no endpoint yet')})",
                rows,
                ["kind", "name", "ready", "nodes"],
            ),
            ("conditions", conditions, ["resource", "type", "status", "reason", "message"]),
        ],
    )
