"""`azk create --dry-run` and `--render-dir`: what a create would make, without making it.

The plan lists the Azure resources (the base infrastructure, the control-plane scale set, the worker scale
set the operator will add) and the Kubernetes objects installed. The rendered folder holds every cloud-init
document and manifest, exactly as the create would send them; they carry the cluster's keys and token, so
the folder is 0700 and every file 0600.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from azk_operator.api.crdgen import crds
from azk_operator.api.nodeset import NodeSet
from azk_operator.azure.naming import ClusterNames
from azk_operator.bootstrap.cloudinit import BootstrapSecrets, render_node_document
from azk_operator.bootstrap.cluster_secrets import admin_kubeconfig_secret, cluster_token_secret, pki_secret
from azk_operator.bootstrap.files import write_secret_file
from azk_operator.bootstrap.kubeconfig import super_admin_kubeconfig
from azk_operator.bootstrap.pki import ClusterPKI, generate_cluster_pki
from azk_operator.bootstrap.tokens import BootstrapToken
from azk_operator.controllers.context import ClusterContext
from azk_operator.create.first_control_plane import APISERVER_PORT
from azk_operator.create.manifests import operator_manifests, peering_crds
from azk_operator.create.request import AZURE_CREDENTIALS_SECRET, CreateRequest
from azk_operator.planner.control_plane import control_plane_nodeset
from azk_operator.planner.scaleset import node_bootstrap_config, scale_set_name


def _ref(manifest: dict[str, Any]) -> dict[str, str]:
    meta = manifest["metadata"]
    ref = {"kind": manifest["kind"], "name": meta["name"]}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


def azure_plan(request: CreateRequest) -> list[dict[str, str]]:
    """The Azure resources of the cluster, in creation order, and who creates each."""
    spec = request.cluster.spec
    names = ClusterNames(request.name)
    rows = [
        ("Microsoft.Resources/resourceGroups", spec.azure.resource_group, "azk create"),
        ("Microsoft.Network/networkSecurityGroups", names.control_plane_nsg, "azk create"),
        ("Microsoft.Network/networkSecurityGroups", names.node_nsg, "azk create"),
        ("Microsoft.Network/routeTables", names.node_route_table, "azk create"),
        ("Microsoft.Network/publicIPAddresses", names.apiserver_public_ip, "azk create"),
        ("Microsoft.Network/virtualNetworks", names.virtual_network, "azk create"),
        ("Microsoft.Network/loadBalancers", names.apiserver_load_balancer, "azk create"),
        (
            "Microsoft.Compute/virtualMachineScaleSets",
            scale_set_name(f"{request.name}-control-plane"),
            f"azk create (1 VM), then the operator (replicas: {spec.control_plane.replicas})",
        ),
        (
            "Microsoft.Compute/virtualMachineScaleSets",
            f"{request.options.pool_name}-<template hash>",
            f"the operator (replicas: {request.options.node_count})",
        ),
    ]
    return [{"type": t, "name": n, "createdBy": by} for t, n, by in rows]


def kubernetes_plan(request: CreateRequest) -> list[dict[str, str]]:
    """The objects `azk create` installs into the new cluster (Secrets by name only)."""
    ns = request.namespace
    objects = [
        _ref(m) for m in [*crds(), *peering_crds(), *operator_manifests(ns, request.options.operator_image)]
    ]
    secrets = [f"{request.name}-pki", f"{request.name}-admin-kubeconfig", "bootstrap-token-<id>"]
    if request.options.identity == "ServicePrincipal":
        secrets.append(AZURE_CREDENTIALS_SECRET)
    for name in secrets:
        objects.append(
            {"kind": "Secret", "name": name, "namespace": "kube-system" if "token" in name else ns}
        )
    objects += [_ref(m) for m in request.manifests]
    return objects


def plan(request: CreateRequest) -> dict[str, Any]:
    return {
        "cluster": request.name,
        "namespace": request.namespace,
        "azure": azure_plan(request),
        "kubernetes": kubernetes_plan(request),
    }


def render(
    request: CreateRequest,
    directory: Path,
    pki: ClusterPKI | None,
    token: BootstrapToken,
    token_expires: Any,
    endpoint: str | None = None,
) -> list[Path]:
    """Write every document and manifest of the create to `directory`; return the files written.

    Before the API address is known, documents name the endpoint by its DNS label.
    """
    spec = request.cluster.spec
    pki = pki or generate_cluster_pki()
    host = (
        endpoint
        or f"{spec.dns_prefix or request.name}.{spec.azure.location}.cloudapp.azure.com:{APISERVER_PORT}"
    )
    ctx = ClusterContext(
        name=request.name,
        namespace=request.namespace,
        uid="",
        spec=spec,
        endpoint=host,
        pki=pki,
        token=token,
        token_expires=token_expires,
    )
    secrets = BootstrapSecrets(pki, token, token_expires)
    control_plane = NodeSet.model_validate(control_plane_nodeset(request.name, request.namespace, "", spec))
    worker_doc = request.manifests[1]
    worker = NodeSet.model_validate(
        {
            "apiVersion": worker_doc["apiVersion"],
            "kind": "NodeSet",
            "metadata": {"name": f"{request.options.pool_name}-preview", "namespace": request.namespace},
            "spec": {
                "clusterName": request.name,
                "role": "Worker",
                **{k: worker_doc["spec"][k] for k in ("replicas", "template")},
            },
        }
    )
    documents = {
        "cloud-init/first-control-plane.yaml": (control_plane, True),
        "cloud-init/control-plane-join.yaml": (control_plane, False),
        "cloud-init/worker.yaml": (worker, False),
    }
    files: dict[str, str] = {}
    for path, (nodeset, first) in documents.items():
        config = ctx.bootstrap_config(nodeset.spec.template.kubernetes_version)
        files[path] = render_node_document(
            config, node_bootstrap_config(nodeset, first_control_plane=first), secrets
        )
    admin = super_admin_kubeconfig(request.name, f"https://{host}", pki)
    manifests = {
        "manifests/00-crds.yaml": [*crds(), *peering_crds()],
        "manifests/10-operator.yaml": operator_manifests(request.namespace, request.options.operator_image),
        "manifests/20-secrets.yaml": [
            pki_secret(request.name, request.namespace, pki),
            admin_kubeconfig_secret(request.name, request.namespace, admin),
            cluster_token_secret(request.name, request.namespace, token, token_expires),
        ],
        "manifests/30-resources.yaml": list(request.manifests),
    }
    for path, docs in manifests.items():
        files[path] = yaml.safe_dump_all(docs, sort_keys=False)
    files["admin.kubeconfig"] = admin
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    written = []
    for relative, text in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        target.parent.chmod(0o700)
        write_secret_file(target, text.encode())
        written.append(target)
    return written
