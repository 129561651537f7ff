"""Request accounting, the throttle gate and the retry policy's limits."""

from __future__ import annotations

import pytest
from azure.core.rest import HttpRequest

from azk_operator.azure.accounting import RequestAccounting, category_of, resource_type_of
from azk_operator.azure.policies import AzkRetryPolicy, ThrottleGate, throttle_scopes

SUB = "/subscriptions/0000"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://h{SUB}/resourcegroups/rg?api-version=1", "microsoft.resources/resourcegroups"),
        (
            f"https://h{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
            "microsoft.network/virtualnetworks",
        ),
        (
            f"https://h{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
            "microsoft.network/virtualnetworks/subnets",
        ),
        (
            f"https://h{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/s/delete",
            "microsoft.compute/virtualmachinescalesets",
        ),
        (
            f"https://h{SUB}/providers/Microsoft.Network/locations/x/operations/1",
            "microsoft.network/locations/operations",
        ),
        (f"https://h{SUB}/providers/Microsoft.Compute/skus", "microsoft.compute/skus"),
        (f"https://h{SUB}/operationresults/1", "microsoft.resources/subscriptions"),
    ],
)
def test_resource_type_of(url: str, expected: str) -> None:
    assert resource_type_of(url, "POST" if url.endswith("/delete") else "GET") == expected


def test_a_trailing_segment_is_a_collection_for_reads() -> None:
    url = f"https://h{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/s/virtualMachines"
    assert resource_type_of(url) == "microsoft.compute/virtualmachinescalesets/virtualmachines"


def test_accounting_counts_by_category_type_and_outcome() -> None:
    accounting = RequestAccounting()
    vnet = f"https://h{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
    before = accounting.snapshot()
    accounting.record("GET", vnet, 404)
    accounting.record("PUT", vnet, 201)
    accounting.record("PUT", vnet, 429)
    accounting.record("DELETE", vnet, None)
    accounting.record("POST", vnet + "/x", 202)
    diff = accounting.snapshot() - before
    assert diff.count("read", outcome="not_found") == 1
    assert diff.count("write") == 3
    assert diff.count("write", "Microsoft.Network/virtualNetworks", "throttled") == 1
    assert diff.count("delete", outcome="connection_error") == 1
    assert diff.count() == 5
    assert [category_of(m) for m in ("HEAD", "PATCH", "DELETE")] == ["read", "write", "delete"]


def test_gate_closes_per_scope_until_the_delay_passes() -> None:
    now = [100.0]
    gate = ThrottleGate(clock=lambda: now[0])
    vmss = f"https://h{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/pool-a/x"
    other_vmss = vmss.replace("pool-a", "pool-b")
    vnet = f"https://h{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
    gate.close(throttle_scopes(vmss)[-1], 5.0)
    assert gate.remaining(throttle_scopes(vmss)) == 5.0
    assert gate.remaining(throttle_scopes(other_vmss)) == 0.0  # a per-scale-set limit stays there
    assert gate.remaining(throttle_scopes(vnet)) == 0.0
    gate.close(throttle_scopes(vnet)[-1], 2.0)  # a subscription-wide 429 holds back everything
    assert gate.remaining(throttle_scopes(other_vmss)) == 2.0
    gate.close(throttle_scopes(vnet)[-1], 1.0)  # a shorter later delay never reopens early
    now[0] += 2.0
    assert gate.remaining(throttle_scopes(vnet)) == 0.0
    assert gate.remaining(throttle_scopes(vmss)) == 3.0


class _Response:
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status_code = status
        self.headers = headers


class _PipelineResponse:
    def __init__(self, method: str, status: int, headers: dict[str, str]) -> None:
        self.http_request = HttpRequest(method, "https://127.0.0.1/subscriptions/s/resourcegroups/rg")
        self.http_response = _Response(status, headers)


@pytest.mark.parametrize(
    ("method", "status", "headers", "retried"),
    [
        ("GET", 429, {"Retry-After": "1"}, False),  # never slept on inside a call: the gate handles it
        ("PUT", 429, {}, False),
        ("GET", 503, {"Retry-After": "30"}, False),  # too long to wait inside a handler
        ("GET", 503, {"Retry-After": "1"}, True),
        ("PUT", 500, {}, True),
        ("GET", 404, {}, False),
        ("PUT", 400, {}, False),
    ],
)
def test_retry_policy_retries_only_short_blips(
    method: str, status: int, headers: dict[str, str], retried: bool
) -> None:
    policy = AzkRetryPolicy()
    settings = policy.configure_retries({})
    assert bool(policy.is_retry(settings, _PipelineResponse(method, status, headers))) is retried  # type: ignore[arg-type]
