"""The VM boot simulator: what a booting VM would do, played for real on one machine.

Plugged into the emulator's boot hooks, it reads each machine's customData (the cloud-init document azk
rendered) and does what kubeadm on that VM would have done:

- the first control-plane machine starts a real control plane (etcd, kube-apiserver,
  kube-controller-manager) with the CA, service-account keys and front-proxy CA carried in its document,
  serving a certificate with kubeadm's SANs, bound to the load balancer's frontend (a loopback address) on
  the document's port, with bootstrap-token authentication on; like `kubeadm init` it creates the
  document's bootstrap-token Secret;
- every other machine joins the cluster behind its document's control-plane endpoint, but only when its
  bootstrap token authenticates there (an expired or unknown token means the node never registers, as on
  Azure);
- each booted machine registers its Node (name = computer name, providerID as Azure's cloud provider writes
  it, kubeadm's labels plus instance type, region and zone, kubeletVersion from its document) and turns it
  Ready after a configurable delay;
- deleting a machine removes its Node; deleting the last control-plane machine stops that control plane.

Fault knobs (`SimulatorFaults`) make chosen machines never register or turn NotReady.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fnmatch
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes

from azk_operator.bootstrap.config import NodeRole
from azk_operator.bootstrap.document import NodeDocument, parse_node_document
from azk_operator.bootstrap.errors import BootstrapError
from azk_operator.bootstrap.pki import (
    CLUSTER_ADMINS_GROUP,
    ControlPlaneNode,
    issue_control_plane_certificates,
)
from azk_operator.bootstrap.tokens import bootstrap_token_secret
from azk_operator.emulator.boot import BootEvent, ShutdownEvent
from azk_operator.testenv import ControlPlane, SuppliedPKI

log = logging.getLogger(__name__)

CONTROL_PLANE_ROLE_LABEL = "node-role.kubernetes.io/control-plane"
# A deleted VM is powered off, not shut down politely: its control plane gets this long after SIGTERM
# (an apiserver with clients still connected would otherwise take its full graceful-shutdown time).
POWER_OFF_GRACE_S = 1.0
_RESOURCE_GROUP_IN_ID = re.compile(r"(/resourceGroups/)([^/]+)", re.IGNORECASE)


@dataclass
class SimulatorFaults:
    """Which machines misbehave, by computer-name glob (e.g. "pool-a-*")."""

    never_register: set[str] = field(default_factory=set)
    not_ready: set[str] = field(default_factory=set)

    def _matches(self, patterns: set[str], computer_name: str) -> bool:
        return any(fnmatch.fnmatchcase(computer_name, p) for p in patterns)

    def registers(self, computer_name: str) -> bool:
        return not self._matches(self.never_register, computer_name)

    def stays_not_ready(self, computer_name: str) -> bool:
        return self._matches(self.not_ready, computer_name)


@dataclass
class SimulatedCluster:
    """A control plane the simulator started, and the control-plane machines that are its members."""

    endpoint: str
    plane: ControlPlane
    members: set[str] = field(default_factory=set)
    nodes: dict[str, str] = field(default_factory=dict)  # machine resource id -> Node name

    def api(self) -> kubernetes.client.ApiClient:
        client: kubernetes.client.ApiClient = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(self.plane.kubeconfig)
        )
        return client


def provider_id(resource_id: str) -> str:
    """The providerID cloud-provider-azure writes: `azure://` + the ARM id, resource group lowercased."""
    return "azure://" + _RESOURCE_GROUP_IN_ID.sub(lambda m: m.group(1) + m.group(2).lower(), resource_id)


class VmBootSimulator:
    """A BootHandler for the ARM emulator (see azk_operator.emulator.boot)."""

    def __init__(
        self,
        work_dir: Path,
        node_ready_delay_s: float = 0.5,
        faults: SimulatorFaults | None = None,
    ) -> None:
        self.work_dir = work_dir
        self.node_ready_delay_s = node_ready_delay_s
        self.faults = faults or SimulatorFaults()
        self.clusters: dict[str, SimulatedCluster] = {}
        # Control-plane processes are forked from this one long-lived thread: their parent-death signal is
        # tied to the forking thread, so forking from short-lived executor threads would kill them early.
        self._spawner = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="bootsim-spawn"
        )
        self._calls = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="bootsim-api")
        self._machines: dict[str, SimulatedCluster] = {}  # machine resource id (lower) -> its cluster

    async def on_boot(self, event: BootEvent) -> None:
        known = self._machines.get(event.resource_id.lower())
        if event.reason == "started" and known is not None:
            # A powered-off machine came back: its kubelet posts Ready again.
            name = known.nodes.get(event.resource_id.lower())
            if name is not None and not self.faults.stays_not_ready(event.computer_name):
                await self._call(_set_node_ready, known, name, True)
            return
        if not event.custom_data:
            log.info("bootsim: %s has no customData; nothing boots", event.computer_name)
            return
        try:
            document = parse_node_document(event.custom_data.decode())
        except (BootstrapError, UnicodeDecodeError) as error:
            log.warning(
                "bootsim: %s: unusable customData (%s); the machine never joins", event.computer_name, error
            )
            return
        if document.role is NodeRole.FIRST_CONTROL_PLANE:
            cluster = await self._init_control_plane(event, document)
        else:
            found = self.clusters.get(document.control_plane_endpoint)
            if found is None:
                log.warning(
                    "bootsim: %s: no control plane at %s",
                    event.computer_name,
                    document.control_plane_endpoint,
                )
                return
            cluster = found
            if not await self._call(_token_authenticates, cluster, document):
                log.warning(
                    "bootsim: %s: bootstrap token %s rejected; not joining",
                    event.computer_name,
                    document.token,
                )
                return
        if document.role.is_control_plane:
            cluster.members.add(event.resource_id.lower())
        self._machines[event.resource_id.lower()] = cluster
        if not self.faults.registers(event.computer_name):
            log.info("bootsim: %s boots but never registers (fault)", event.computer_name)
            return
        await self._call(_register_node, cluster, event, document)
        cluster.nodes[event.resource_id.lower()] = event.computer_name
        if self.faults.stays_not_ready(event.computer_name):
            return
        await asyncio.sleep(self.node_ready_delay_s)
        await self._call(_set_node_ready, cluster, event.computer_name, True)

    async def on_shutdown(self, event: ShutdownEvent) -> None:
        key = event.resource_id.lower()
        if event.reason == "stopped":
            # Powered off, not deleted: the Node stays and turns NotReady, as when a kubelet stops posting.
            stopped = self._machines.get(key)
            name = stopped.nodes.get(key) if stopped else None
            if stopped is not None and name is not None:
                await self._call(_set_node_ready, stopped, name, False)
            return
        cluster = self._machines.pop(key, None)
        if cluster is None:
            return
        node = cluster.nodes.pop(key, None)
        cluster.members.discard(key)
        if not cluster.members:
            log.info("bootsim: last control-plane machine of %s is gone; stopping it", cluster.endpoint)
            self.clusters.pop(cluster.endpoint, None)
            await asyncio.get_running_loop().run_in_executor(
                self._spawner, cluster.plane.stop, POWER_OFF_GRACE_S
            )
            return
        if node is not None:
            await self._call(_delete_node, cluster, node)

    async def set_ready(self, computer_name: str, ready: bool) -> None:
        """Turn a registered node Ready or NotReady (a node that fails, or recovers, after it joined)."""
        for cluster in self.clusters.values():
            if computer_name in cluster.nodes.values():
                await self._call(_set_node_ready, cluster, computer_name, ready)
                return
        raise KeyError(f"no registered node named {computer_name}")

    def close(self) -> None:
        """Stop every control plane the simulator started."""
        for cluster in list(self.clusters.values()):
            cluster.plane.stop(POWER_OFF_GRACE_S)
        self.clusters.clear()
        self._spawner.shutdown(wait=True)
        self._calls.shutdown(wait=True)

    async def _init_control_plane(self, event: BootEvent, document: NodeDocument) -> SimulatedCluster:
        if document.control_plane_endpoint in self.clusters:
            # A re-created first machine (same document) finds its cluster already there, as kubeadm's
            # retry after `kubeadm reset` would find etcd's data on a reused disk; keep the one we have.
            return self.clusters[document.control_plane_endpoint]
        if document.pki is None:
            raise BootstrapError("first control-plane document carries no PKI")
        if not event.frontends:
            raise BootstrapError(f"{event.computer_name} is behind no load-balancer frontend")
        bind = event.frontends[0].loopback
        port = int(document.control_plane_endpoint.rpartition(":")[2])
        leaves = issue_control_plane_certificates(
            document.pki,
            ControlPlaneNode.of(event.computer_name, [bind, *event.private_ips]),
            document.apiserver_sans(),
        )
        pki = SuppliedPKI.of_cluster(document.pki, leaves)
        work_dir = self.work_dir / f"{document.cluster_name}-{bind}"
        if event.reason != "restored":
            # A new machine starts from an empty disk; a restored one (emulator restarted from its state
            # file) keeps its etcd data, like a VM whose disk survived.
            shutil.rmtree(work_dir, ignore_errors=True)
        plane = ControlPlane(
            work_dir=work_dir,
            bind=bind,
            pki=pki,
            secure_port=port,
            extra_apiserver_args=["--enable-bootstrap-token-auth=true"],
        )
        await asyncio.get_running_loop().run_in_executor(self._spawner, plane.start)
        cluster = SimulatedCluster(endpoint=document.control_plane_endpoint, plane=plane)
        self.clusters[document.control_plane_endpoint] = cluster
        log.info(
            "bootsim: %s started the control plane of %s at %s",
            event.computer_name,
            document.cluster_name,
            plane.server,
        )
        await self._call(_kubeadm_init_objects, cluster, document)
        return cluster

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._calls, fn, *args)


def _kubeadm_init_objects(cluster: SimulatedCluster, document: NodeDocument) -> None:
    """What `kubeadm init` stores besides the control plane: its bootstrap token (from
    InitConfiguration.bootstrapTokens) and the binding that gives `kubeadm:cluster-admins` (the group of
    admin.conf's certificate) cluster-admin rights."""
    import datetime

    if document.token_ttl is None:
        raise BootstrapError("the init document gives its bootstrap token no ttl")
    secret = bootstrap_token_secret(document.token, datetime.datetime.now(datetime.UTC) + document.token_ttl)
    binding = kubernetes.client.V1ClusterRoleBinding.model_validate(
        {
            "metadata": {"name": CLUSTER_ADMINS_GROUP},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": CLUSTER_ADMINS_GROUP}
            ],
        }
    )
    with cluster.api() as api:
        for create in (
            lambda: kubernetes.client.CoreV1Api(api).create_namespaced_secret(
                "kube-system", kubernetes.client.V1Secret.model_validate(secret)
            ),
            lambda: kubernetes.client.RbacAuthorizationV1Api(api).create_cluster_role_binding(binding),
        ):
            try:
                create()
            except kubernetes.client.ApiException as exc:
                if exc.status != 409:  # the CLI or operator may have stored it already
                    raise


def _token_authenticates(cluster: SimulatedCluster, document: NodeDocument) -> bool:
    """Ask the apiserver who the document's bootstrap token is, as kubelet's TLS bootstrap would."""
    config = kubernetes.client.Configuration()
    config.host = cluster.plane.server
    config.ssl_ca_cert = str(cluster.plane.ca_cert_path)
    config.api_key = {"authorization": f"Bearer {document.token.value}"}
    with kubernetes.client.ApiClient(config) as api:
        try:
            review = kubernetes.client.AuthenticationV1Api(api).create_self_subject_review(
                kubernetes.client.V1SelfSubjectReview()
            )
        except kubernetes.client.ApiException as exc:
            if exc.status in (401, 403):
                return False
            raise
    user = review.status.user_info if review.status else None
    return user is not None and user.username == document.token.username


def _register_node(cluster: SimulatedCluster, event: BootEvent, document: NodeDocument) -> None:
    labels = {
        "kubernetes.io/hostname": event.computer_name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": event.vm_size,
        "topology.kubernetes.io/region": event.location,
        "topology.kubernetes.io/zone": f"{event.location}-{event.zones[0]}" if event.zones else "0",
        **document.node_labels,
    }
    if document.role.is_control_plane:
        labels[CONTROL_PLANE_ROLE_LABEL] = ""
    taints = (
        [{"key": CONTROL_PLANE_ROLE_LABEL, "effect": "NoSchedule"}] if document.role.is_control_plane else []
    )
    node = kubernetes.client.V1Node.model_validate(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": event.computer_name, "labels": labels},
            "spec": {"providerID": provider_id(event.resource_id), "taints": taints or None},
        }
    )
    version = document.kubernetes_version
    with cluster.api() as api:
        core = kubernetes.client.CoreV1Api(api)
        try:
            core.create_node(node)
        except kubernetes.client.ApiException as exc:
            if exc.status != 409:
                raise
        core.patch_node_status(
            event.computer_name,
            {
                "status": {
                    "nodeInfo": {
                        "kubeletVersion": version if version.startswith("v") else f"v{version}",
                        "machineID": "",
                        "systemUUID": "",
                        "bootID": "",
                        "kernelVersion": "",
                        "osImage": "",
                        "containerRuntimeVersion": "",
                        "kubeProxyVersion": "",
                        "operatingSystem": "linux",
                        "architecture": "amd64",
                    },
                    "addresses": [{"type": "InternalIP", "address": ip} for ip in event.private_ips]
                    + [{"type": "Hostname", "address": event.computer_name}],
                    "conditions": [_ready_condition(False, "KubeletNotReady", "container runtime starting")],
                }
            },
        )


def _set_node_ready(cluster: SimulatedCluster, name: str, ready: bool) -> None:
    reason, message = (
        ("KubeletReady", "kubelet is posting ready status")
        if ready
        else ("KubeletNotReady", "node stopped posting ready status")
    )
    with cluster.api() as api:
        kubernetes.client.CoreV1Api(api).patch_node_status(
            name, {"status": {"conditions": [_ready_condition(ready, reason, message)]}}
        )


def _delete_node(cluster: SimulatedCluster, name: str) -> None:
    with cluster.api() as api:
        try:
            kubernetes.client.CoreV1Api(api).delete_node(name)
        except kubernetes.client.ApiException as exc:
            if exc.status != 404:
                raise


def _ready_condition(ready: bool, reason: str, message: str) -> dict[str, str]:
    import datetime

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": "Ready",
        "status": "True" if ready else "False",
        "reason": reason,
        "message": message,
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
