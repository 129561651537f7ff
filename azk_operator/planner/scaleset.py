"""A NodeSet as Azure and kubeadm see it: scale-set spec, names, node labels, and scale decisions (pure).

Names
- The scale set is named after the NodeSet (Azure allows 64 characters; longer names keep 58 characters
  plus a 5-character hash, so they stay unique and stable).
- Computer names are `<prefix><6 base-36 digits>` (Azure appends the digits to the prefix). The prefix is
  at most 9 characters so that a computer name fits in 15, Azure's NetBIOS-safe length: a NodeSet name of
  up to 9 characters is used as is; a longer one becomes its first 4 characters plus a 5-character hash of
  the whole name. Node names are computer names, so Nodes of different NodeSets never collide.

Scaling (see `plan_scale`): capacity only ever rises by a capacity write. It falls only by deleting chosen
instances (`planner.victims` order) after their nodes were drained; Azure lowers the capacity itself
when it deletes them, so no capacity write ever lets Azure pick which VMs go.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from azk_operator.api.nodeset import InstanceState, NodeSet
from azk_operator.azure.services.scale_set import ImageSpec, ScaleSetSpec
from azk_operator.azure.skus import VmSku
from azk_operator.bootstrap.config import NodeBootstrapConfig, NodeRole, Taint
from azk_operator.planner.victims import Instance, choose_victims

CLUSTER_LABEL = "engine.azk.io/cluster"
NODESET_LABEL = "engine.azk.io/nodeset"
NODEPOOL_LABEL = "engine.azk.io/nodepool"
NODESET_TAG = "azk.io_nodeset"
ROLE_TAG = "azk.io_role"

MAX_SCALE_SET_NAME = 64
MAX_COMPUTER_NAME_PREFIX = 9
ADMIN_USERNAME = "azk"
#: Ubuntu LTS: the node script installs the pinned kubeadm/kubelet packages itself, so any recent Ubuntu
#: image boots every supported Kubernetes version.
DEFAULT_IMAGE = ImageSpec("Canonical", "ubuntu-24_04-lts", "server", "latest")


def _short_hash(text: str, length: int) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return base64.b32encode(digest).decode().lower()[:length]


def scale_set_name(nodeset_name: str) -> str:
    if len(nodeset_name) <= MAX_SCALE_SET_NAME:
        return nodeset_name
    return f"{nodeset_name[:58].rstrip('-.')}-{_short_hash(nodeset_name, 5)}"


def computer_name_prefix(nodeset_name: str) -> str:
    """A stable prefix of at most 9 lower-case letters, digits and hyphens (see the module docstring)."""
    cleaned = re.sub(r"[^a-z0-9-]", "-", nodeset_name.lower()).strip("-") or "node"
    if cleaned == nodeset_name and len(cleaned) <= MAX_COMPUTER_NAME_PREFIX:
        return cleaned
    return f"{cleaned[:4].rstrip('-')}{_short_hash(nodeset_name, 5)}"


def selector(nodeset_name: str) -> str:
    """The scale subresource's label selector: the label every Node of the NodeSet carries."""
    return f"{NODESET_LABEL}={nodeset_name}"


def _name(nodeset: NodeSet) -> str:
    return nodeset.metadata.name or ""


def node_labels(nodeset: NodeSet) -> dict[str, str]:
    """Labels the kubelet registers the Node with: the template's plus the ones azk finds nodes by."""
    labels = dict(nodeset.spec.template.labels)
    labels[CLUSTER_LABEL] = nodeset.spec.cluster_name
    labels[NODESET_LABEL] = _name(nodeset)
    pool = (nodeset.metadata.labels or {}).get(NODEPOOL_LABEL)
    if pool:
        labels[NODEPOOL_LABEL] = pool
    return labels


def node_bootstrap_config(nodeset: NodeSet, *, first_control_plane: bool = False) -> NodeBootstrapConfig:
    """The node part of the document. Control planes with no taints keep kubeadm's control-plane taint."""
    if nodeset.spec.role == "ControlPlane":
        role = NodeRole.FIRST_CONTROL_PLANE if first_control_plane else NodeRole.CONTROL_PLANE
    else:
        role = NodeRole.WORKER
    taints = tuple(
        Taint(key=t.key, value=t.value or "", effect=t.effect) for t in nodeset.spec.template.taints
    )
    keep_default = role.is_control_plane and not taints
    return NodeBootstrapConfig(
        role=role, node_labels=node_labels(nodeset), taints=None if keep_default else taints
    )


def image_spec(nodeset: NodeSet) -> ImageSpec | None:
    """The marketplace image, azk's default, or None for an image id (not supported by azk yet)."""
    image = nodeset.spec.template.image
    if image is None:
        return DEFAULT_IMAGE
    if image.marketplace is None:
        return None
    m = image.marketplace
    return ImageSpec(m.publisher, m.offer, m.sku, m.version)


def scale_set_tags(cluster_tags: Mapping[str, str], nodeset: NodeSet) -> dict[str, str]:
    """The cluster's tags (ownership included) plus which NodeSet the scale set belongs to."""
    return {
        **cluster_tags,
        NODESET_TAG: f"{nodeset.metadata.namespace}.{_name(nodeset)}",
        ROLE_TAG: nodeset.spec.role,
    }


def node_ssh_public_key(ca_key_pem: bytes) -> str:
    """The nodes' SSH login key: Azure requires one when password login is off.

    Derived from the cluster CA's private key, so nothing new has to be stored and the model never changes;
    only holders of the CA key (who can already act as cluster-admin on every node) could derive the
    private half. azk itself never logs in to nodes.
    """
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"azk node ssh key").derive(ca_key_pem)
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


@dataclass(frozen=True)
class Placement:
    """Where the scale set's VMs go, from the cluster."""

    location: str
    subnet_id: str
    backend_pool_ids: tuple[str, ...] = ()


def desired_scale_set(
    nodeset: NodeSet,
    placement: Placement,
    *,
    image: ImageSpec,
    capacity: int,
    custom_data: str,
    ssh_public_key: str,
) -> ScaleSetSpec:
    template = nodeset.spec.template
    return ScaleSetSpec(
        name=scale_set_name(_name(nodeset)),
        location=placement.location,
        vm_size=template.vm_size,
        capacity=capacity,
        subnet_id=placement.subnet_id,
        image=image,
        admin_username=ADMIN_USERNAME,
        ssh_public_key=ssh_public_key,
        computer_name_prefix=computer_name_prefix(_name(nodeset)),
        custom_data=custom_data,
        zones=tuple(sorted(template.zones)),
        backend_pool_ids=placement.backend_pool_ids,
        os_disk_size_gb=template.os_disk_size_gb,
    )


# --- VM size check ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkuProblem:
    reason: str  # LocationUnknown | VmSizeUnknown | VmSizeNotOffered | ZoneNotOffered
    message: str


def check_vm_size(
    sizes: Mapping[str, VmSku], location: str, vm_size: str, zones: Sequence[str]
) -> SkuProblem | None:
    """What makes `vm_size` in `zones` unusable in `location` (from the cached SKU list), if anything."""
    if not sizes:
        return SkuProblem("LocationUnknown", f"location {location} offers no VM sizes to this subscription")
    sku = sizes.get(vm_size.lower())
    if sku is None:
        return SkuProblem("VmSizeUnknown", f"VM size {vm_size} does not exist in location {location}")
    if sku.restricted:
        return SkuProblem(
            "VmSizeNotOffered", f"VM size {vm_size} is not offered to this subscription in {location}"
        )
    missing = sorted(set(zones) - set(sku.zones))
    if missing:
        offered = ", ".join(sku.zones) or "none"
        return SkuProblem(
            "ZoneNotOffered",
            f"VM size {vm_size} is not offered in zone(s) {', '.join(missing)} of {location} "
            f"(offered: {offered})",
        )
    return None


# --- scaling and instance tracking --------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeView:
    name: str
    ready: bool
    draining: bool  # carries azk's drain-start annotation


@dataclass(frozen=True)
class ObservedInstance:
    instance_id: str
    provisioning_state: str  # Azure's, lower case
    created: float  # seconds since the epoch; 0 when unknown
    node: NodeView | None = None

    @property
    def deleting(self) -> bool:
        return self.provisioning_state == "deleting"

    @property
    def ready(self) -> bool:
        return self.node is not None and self.node.ready and not self.node.draining


@dataclass(frozen=True)
class ScalePlan:
    capacity: int
    """The capacity to converge the scale set to: never below the instances that still exist."""
    victims: tuple[ObservedInstance, ...]
    """Instances to drain and then delete, in removal order."""
    release: tuple[ObservedInstance, ...]
    """Instances whose drain started but that are wanted again: uncordon them."""

    @property
    def scaling_down(self) -> bool:
        return bool(self.victims)


def plan_scale(replicas: int, instances: Sequence[ObservedInstance]) -> ScalePlan:
    live = [i for i in instances if not i.deleting]
    excess = len(live) - replicas
    if excess <= 0:
        release = tuple(i for i in live if i.node is not None and i.node.draining)
        return ScalePlan(capacity=replicas, victims=(), release=release)
    chosen = choose_victims(
        [
            Instance(
                i.instance_id,
                ready=i.ready,
                created=i.created,
                draining=i.node is not None and i.node.draining,
            )
            for i in live
        ],
        excess,
    )
    by_id = {i.instance_id: i for i in live}
    victims = tuple(by_id[c.instance_id] for c in chosen)
    victim_ids = {v.instance_id for v in victims}
    release = tuple(
        i for i in live if i.instance_id not in victim_ids and i.node is not None and i.node.draining
    )
    return ScalePlan(capacity=len(live), victims=victims, release=release)


def instance_state(instance: ObservedInstance, *, victim: bool) -> InstanceState:
    if instance.deleting:
        return "Deleting"
    if victim:
        return "Draining"
    if instance.provisioning_state == "failed":
        return "Failed"
    if instance.provisioning_state == "creating":
        return "Creating"
    if instance.node is None:
        return "Joining"
    return "Ready" if instance.ready else "NotReady"


def instance_name(scale_set: str, instance_id: str) -> str:
    """The VM's name in Azure (Uniform scale sets name instances `<scale set>_<instance id>`)."""
    return f"{scale_set}_{instance_id}"
