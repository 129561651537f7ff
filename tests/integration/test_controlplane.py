"""The test control plane is a real Kubernetes: kubectl, schemas, RBAC, GC and a kopf operator all work."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kopf
import kubernetes
import pytest
from fixtures.waiting import eventually

from azk_operator.testenv import ControlPlane

Api = kubernetes.client.ApiClient

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.testenv.azk.io"},
    "spec": {
        "group": "testenv.azk.io",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {"size": {"type": "integer", "minimum": 1, "maximum": 10}},
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def widget_crd(kubeconfig: Path) -> None:
    api = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    ext = kubernetes.client.ApiextensionsV1Api(api)
    try:
        ext.create_custom_resource_definition(WIDGET_CRD)
    except kubernetes.client.ApiException as exc:
        if exc.status != 409:
            raise

    def established() -> bool:
        crd = ext.read_custom_resource_definition("widgets.testenv.azk.io")
        return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

    eventually(established, "CRD Established", 30)
    api.close()


def widget(name: str, size: Any) -> dict[str, Any]:
    return {
        "apiVersion": "testenv.azk.io/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size},
    }


def test_system_kubectl_works_with_written_kubeconfig(control_plane: ControlPlane) -> None:
    out = subprocess.run(
        ["kubectl", "--kubeconfig", str(control_plane.kubeconfig), "version", "-o", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(out.stdout)["serverVersion"]["gitVersion"] == "v1.37.2"
    names = subprocess.run(
        ["kubectl", "--kubeconfig", str(control_plane.kubeconfig), "get", "namespaces", "-o", "name"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert "namespace/default" in names
    assert control_plane.kubeconfig.stat().st_mode & 0o777 == 0o600


def test_structural_schema_is_enforced(widget_crd: None, k8s_api: Api, namespace: str) -> None:
    custom = kubernetes.client.CustomObjectsApi(k8s_api)
    created = custom.create_namespaced_custom_object(
        "testenv.azk.io", "v1", namespace, "widgets", widget("ok", 3)
    )
    assert created["spec"]["size"] == 3
    for bad, field in ((widget("too-big", 11), "spec.size"), (widget("wrong-type", "three"), "spec.size")):
        with pytest.raises(kubernetes.client.ApiException) as err:
            custom.create_namespaced_custom_object("testenv.azk.io", "v1", namespace, "widgets", bad)
        assert err.value.status == 422
        assert field in err.value.body


def test_rbac_denies_unbound_service_account_and_allows_bound_one(
    k8s_api: Api, namespace: str, control_plane: ControlPlane
) -> None:
    core = kubernetes.client.CoreV1Api(k8s_api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "reader"}})
    token = core.create_namespaced_service_account_token(
        "reader", namespace, {"spec": {"expirationSeconds": 600}}
    ).status.token

    config = kubernetes.client.Configuration()
    config.host = control_plane.server
    config.ssl_ca_cert = str(control_plane.ca_cert_path)
    config.api_key = {"authorization": f"Bearer {token}"}
    with kubernetes.client.ApiClient(config) as as_reader:
        reader = kubernetes.client.CoreV1Api(as_reader)
        with pytest.raises(kubernetes.client.ApiException) as err:
            reader.list_namespaced_config_map(namespace)
        assert err.value.status == 403

        rbac = kubernetes.client.RbacAuthorizationV1Api(k8s_api)
        rbac.create_namespaced_role(
            namespace,
            {
                "metadata": {"name": "configmap-reader"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
            },
        )
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": "reader-configmaps"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "configmap-reader",
                },
                "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": namespace}],
            },
        )

        def allowed() -> bool:
            try:
                reader.list_namespaced_config_map(namespace)
            except kubernetes.client.ApiException as exc:
                assert exc.status == 403
                return False
            return True

        eventually(allowed, "RoleBinding takes effect", 10)


def test_garbage_collector_deletes_dependents_of_a_deleted_owner(k8s_api: Api, namespace: str) -> None:
    core = kubernetes.client.CoreV1Api(k8s_api)
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(
        namespace,
        {
            "metadata": {
                "name": "dependent",
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
                ],
            }
        },
    )
    core.delete_namespaced_config_map("owner", namespace)

    def dependent_gone() -> bool:
        try:
            core.read_namespaced_config_map("dependent", namespace)
        except kubernetes.client.ApiException as exc:
            return exc.status == 404
        return False

    eventually(dependent_gone, "dependent garbage-collected", 60)


def test_minimal_kopf_operator_reconciles_and_finalizes(
    widget_crd: None, k8s_api: Api, namespace: str, kopf_operator: Callable[..., Any]
) -> None:
    registry = kopf.OperatorRegistry()
    deleted: list[str] = []
    deleted_event = threading.Event()

    @kopf.on.create("testenv.azk.io", "v1", "widgets", registry=registry)
    def created(spec: kopf.Spec, patch: kopf.Patch, **_: Any) -> None:
        patch.status["observedSize"] = spec["size"]

    @kopf.on.delete("testenv.azk.io", "v1", "widgets", registry=registry)
    def removed(name: str, **_: Any) -> None:
        deleted.append(name)
        deleted_event.set()

    custom = kubernetes.client.CustomObjectsApi(k8s_api)
    with kopf_operator(registry, namespace):
        custom.create_namespaced_custom_object("testenv.azk.io", "v1", namespace, "widgets", widget("w1", 4))

        def reconciled() -> bool:
            obj = custom.get_namespaced_custom_object("testenv.azk.io", "v1", namespace, "widgets", "w1")
            return bool(obj.get("status", {}).get("observedSize") == 4)

        eventually(reconciled, "status patched by the create handler", 30)
        obj = custom.get_namespaced_custom_object("testenv.azk.io", "v1", namespace, "widgets", "w1")
        assert obj["metadata"]["finalizers"], "kopf adds its finalizer so the delete handler can run"

        custom.delete_namespaced_custom_object("testenv.azk.io", "v1", namespace, "widgets", "w1")
        assert deleted_event.wait(30), "delete handler ran"

        def gone() -> bool:
            try:
                custom.get_namespaced_custom_object("testenv.azk.io", "v1", namespace, "widgets", "w1")
            except kubernetes.client.ApiException as exc:
                return exc.status == 404
            return False

        eventually(gone, "object gone once the finalizer is removed", 30)
    assert deleted == ["w1"]


def _processes_mentioning(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _launch(tmp_path: Path) -> tuple[subprocess.Popen[str], Path, str]:
    bind = f"127.0.{random.randint(2, 250)}.{random.randint(2, 250)}"
    kubeconfig = tmp_path / "out" / "kubeconfig"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "azk_operator.testenv",
            "--kubeconfig",
            str(kubeconfig),
            "--bind",
            bind,
            "--work-dir",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "ready" in line:
            break
    else:
        raise AssertionError(f"launcher exited with {proc.wait()} before printing ready")
    return proc, kubeconfig, bind


def test_launcher_cli_serves_on_given_loopback_address_and_stops_children_on_sigterm(tmp_path: Path) -> None:
    proc, kubeconfig, bind = _launch(tmp_path)
    try:
        server = subprocess.run(
            [
                "kubectl",
                "--kubeconfig",
                str(kubeconfig),
                "config",
                "view",
                "-o",
                "jsonpath={.clusters[0].cluster.server}",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert server.startswith(f"https://{bind}:")
        subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "get", "ns", "default"],
            check=True,
            capture_output=True,
        )
        assert kubeconfig.stat().st_mode & 0o777 == 0o600
        children = set(_processes_mentioning(str(tmp_path / "state"))) - {proc.pid}
        assert len(children) == 3, "etcd, kube-apiserver, kube-controller-manager"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert _processes_mentioning(str(tmp_path / "state")) == []


def test_killed_launcher_leaves_no_orphans(tmp_path: Path) -> None:
    proc, _, _ = _launch(tmp_path)
    proc.kill()
    proc.wait()
    marker = str(tmp_path / "state")

    def no_orphans() -> bool:
        return _processes_mentioning(marker) == []

    eventually(no_orphans, "children of a SIGKILLed launcher exit", 20)
