"""The PodDisruptionBudgets that cover a pod: same namespace, selector matching the pod's labels."""

from __future__ import annotations

import kubernetes

from azk_operator.kube.clients import KubeClients
from azk_operator.kube.objects import meta, name_of, namespace_of
from azk_operator.kube.selectors import selector_matches


async def budgets_for_pod(clients: KubeClients, pod: kubernetes.client.V1Pod) -> list[str]:
    """Names of the budgets in the pod's namespace whose selector matches it, sorted."""
    budgets = await clients.call(clients.policy.list_namespaced_pod_disruption_budget, namespace_of(pod))
    labels = meta(pod).labels or {}
    return sorted(
        name_of(b) for b in budgets.items if b.spec is not None and selector_matches(b.spec.selector, labels)
    )
