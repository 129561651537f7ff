"""Evict one pod through the Eviction API (policy/v1), or delete it, and say what the apiserver decided.

The Eviction API is a delete that first asks the pod's PodDisruptionBudget: with no budget covering the pod
it deletes at once; when the budget allows no disruption it answers 429 with a `DisruptionBudget` cause;
when several budgets cover one pod it answers 500 (it cannot decide). Either way the pod is untouched.
A pod that is not Running (Pending, or already terminating) is evicted without asking any budget.
Both calls carry the pod's uid as a precondition, so a replacement pod with the same name (StatefulSets)
is never removed by mistake.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import kubernetes

from azk_operator.kube.clients import KubeClients
from azk_operator.kube.objects import meta
from azk_operator.kube.pdb import budgets_for_pod
from azk_operator.kube.podselection import PodRef, pod_ref

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evicted:
    pod: PodRef


@dataclass(frozen=True)
class AlreadyGone:
    pod: PodRef


@dataclass(frozen=True)
class RefusedByBudget:
    pod: PodRef
    budgets: tuple[str, ...]  # may be empty when the budget went away between the refusal and the lookup
    message: str


@dataclass(frozen=True)
class Throttled:
    """429 without a budget cause: the apiserver's own flow control; retry later."""

    pod: PodRef
    retry_after_s: float | None


EvictionOutcome = Evicted | AlreadyGone | RefusedByBudget | Throttled


async def evict_pod(
    clients: KubeClients, pod: kubernetes.client.V1Pod, grace_period_seconds: int | None = None
) -> EvictionOutcome:
    """Ask the Eviction API to remove `pod`. `grace_period_seconds=None` keeps the pod's own grace period."""
    ref = pod_ref(pod)
    body = kubernetes.client.V1Eviction(
        metadata=kubernetes.client.V1ObjectMeta(name=ref.name, namespace=ref.namespace),
        delete_options=_delete_options(pod, grace_period_seconds),
    )
    try:
        await clients.call(clients.core.create_namespaced_pod_eviction, ref.name, ref.namespace, body)
    except kubernetes.client.ApiException as exc:
        if exc.status in (404, 409):  # 409: the uid precondition failed, i.e. our pod is gone
            return AlreadyGone(ref)
        causes = _cause_reasons(exc)
        budget_refusal = exc.status == 429 and "DisruptionBudget" in causes
        if budget_refusal or (exc.status == 500 and _multiple_budgets(exc)):
            budgets = tuple(await budgets_for_pod(clients, pod))
            logger.info("eviction of pod %s refused by disruption budget(s) %s", ref, ", ".join(budgets))
            return RefusedByBudget(ref, budgets, _message(exc))
        if exc.status == 429:
            return Throttled(ref, _retry_after(exc))
        raise
    logger.info("evicted pod %s", ref)
    return Evicted(ref)


async def delete_pod(
    clients: KubeClients, pod: kubernetes.client.V1Pod, grace_period_seconds: int | None = None
) -> bool:
    """Delete `pod` bypassing disruption budgets (the drain-timeout policy that chooses so). False if gone."""
    ref = pod_ref(pod)
    try:
        await clients.call(
            clients.core.delete_namespaced_pod,
            ref.name,
            ref.namespace,
            body=_delete_options(pod, grace_period_seconds),
        )
    except kubernetes.client.ApiException as exc:
        if exc.status in (404, 409):
            return False
        raise
    logger.warning("deleted pod %s without its disruption budget's consent (drain timeout)", ref)
    return True


def _delete_options(
    pod: kubernetes.client.V1Pod, grace_period_seconds: int | None
) -> kubernetes.client.V1DeleteOptions:
    return kubernetes.client.V1DeleteOptions(
        grace_period_seconds=grace_period_seconds,
        preconditions=kubernetes.client.V1Preconditions(uid=meta(pod).uid),
    )


def _status_body(exc: kubernetes.client.ApiException) -> dict[str, object]:
    try:
        decoded = json.loads(exc.body or "{}")
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _cause_reasons(exc: kubernetes.client.ApiException) -> set[str]:
    details = _status_body(exc).get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    return {c.get("reason", "") for c in causes or [] if isinstance(c, dict)}


def _message(exc: kubernetes.client.ApiException) -> str:
    message = _status_body(exc).get("message")
    return message if isinstance(message, str) else f"eviction refused (HTTP {exc.status})"


def _multiple_budgets(exc: kubernetes.client.ApiException) -> bool:
    return "more than one PodDisruptionBudget" in _message(exc)


def _retry_after(exc: kubernetes.client.ApiException) -> float | None:
    value = (exc.headers or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
