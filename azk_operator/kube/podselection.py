"""Which pods on a node a drain evicts, which it waits for, and which it leaves alone (pure).

Left alone, like `kubectl drain --ignore-daemonsets`:
- DaemonSet pods: their controller ignores `unschedulable` and would recreate them on the node at once;
  they go with the VM.
- mirror pods (annotation `kubernetes.io/config.mirror`): static pods the kubelet runs from files; the API
  cannot evict them.
- finished pods (phase Succeeded or Failed): nothing runs; they are garbage-collected with the Node.
Waited for: pods already terminating (deletionTimestamp set) — evicting them again changes nothing.
Evicted: everything else, including pods without a controller and pods with emptyDir volumes: the node is
about to be deleted, so refusing them (as kubectl does without --force) would only stall the rollout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import kubernetes

from azk_operator.kube.objects import meta, name_of, namespace_of

MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True, order=True)
class PodRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class DrainSelection:
    to_evict: tuple[kubernetes.client.V1Pod, ...]
    terminating: tuple[kubernetes.client.V1Pod, ...]
    ignored: tuple[PodRef, ...]


def pod_ref(pod: kubernetes.client.V1Pod) -> PodRef:
    return PodRef(namespace_of(pod), name_of(pod))


def select_for_drain(pods: Iterable[kubernetes.client.V1Pod]) -> DrainSelection:
    to_evict, terminating, ignored = [], [], []
    for pod in sorted(pods, key=pod_ref):
        if _left_alone(pod):
            ignored.append(pod_ref(pod))
        elif meta(pod).deletion_timestamp is not None:
            terminating.append(pod)
        else:
            to_evict.append(pod)
    return DrainSelection(tuple(to_evict), tuple(terminating), tuple(ignored))


def _left_alone(pod: kubernetes.client.V1Pod) -> bool:
    if MIRROR_POD_ANNOTATION in (meta(pod).annotations or {}):
        return True
    if pod.status is not None and pod.status.phase in FINISHED_PHASES:
        return True
    owners = meta(pod).owner_references or []
    return any(owner.kind == "DaemonSet" and owner.controller for owner in owners)
