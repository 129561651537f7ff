"""The plan's scheduling (pure asyncio, no Azure): concurrency, dependencies, delays, conditions, drive."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping

from azk_operator.azure.infra import DEPENDENCIES, InfraStatus, drive, run_steps
from azk_operator.azure.lro import compact_token
from azk_operator.azure.results import StepResult, StepState


async def test_independent_steps_run_concurrently_and_dependents_start_in_the_same_call() -> None:
    running: set[str] = set()
    overlaps: set[frozenset[str]] = set()
    order: list[str] = []

    async def run(name: str) -> StepResult:
        running.add(name)
        await asyncio.sleep(0.01)
        overlaps.add(frozenset(running))
        running.discard(name)
        order.append(name)
        return StepResult.ready(name)

    results = await run_steps(DEPENDENCIES, run, blocked_by=lambda r: r.state is not StepState.READY)
    assert all(result.state is StepState.READY for result in results.values())
    assert order[0] == "ResourceGroup"
    assert order.index("VirtualNetwork") > max(order.index(n) for n in DEPENDENCIES["VirtualNetwork"])
    assert any(
        {"ControlPlaneSecurityGroup", "NodeSecurityGroup", "NodeRouteTable", "ApiServerPublicIP"} <= o
        for o in overlaps
    )


async def test_a_blocked_dependency_holds_back_only_its_dependents() -> None:
    async def run(name: str) -> StepResult:
        if name == "ApiServerPublicIP":
            return StepResult.in_progress(name, "Creating", 2.0, token="t")
        return StepResult.ready(name)

    results = await run_steps(DEPENDENCIES, run, blocked_by=lambda r: r.state is not StepState.READY)
    waiting = results["ApiServerLoadBalancer"]
    assert (waiting.state, waiting.reason) == (StepState.IN_PROGRESS, "WaitingForDependency")
    assert "ApiServerPublicIP" in waiting.message
    assert results["VirtualNetwork"].state is StepState.READY


async def test_delays_count_from_when_azure_answered_not_from_the_end_of_the_call() -> None:
    async def run(name: str) -> StepResult:
        if name == "NodeRouteTable":
            return StepResult.in_progress(name, "Creating", 0.5, token="t")
        await asyncio.sleep(0.2)  # other steps keep the call busy after the route table answered
        return StepResult.ready(name)

    results = await run_steps(DEPENDENCIES, run, blocked_by=lambda r: r.state is not StepState.READY)
    delay = results["NodeRouteTable"].retry_after
    assert delay is not None and delay < 0.45


def status(*steps: StepResult, operation: str = "write") -> InfraStatus:
    return InfraStatus(tuple(steps), operation)


def test_conditions_summarise_steps_with_the_failing_reason_first() -> None:
    everything_ready = [StepResult.ready(name) for name in DEPENDENCIES]
    assert all(c.status for c in status(*everything_ready).conditions())
    mixed = [
        StepResult.in_progress(n, "Creating", 1.0, token="tok")
        if n == "NodeRouteTable"
        else StepResult(n, StepState.FAILED, "QuotaExceeded", "QuotaExceeded: no")
        if n == "VirtualNetwork"
        else StepResult.ready(n)
        for n in DEPENDENCIES
    ]
    result = status(*mixed)
    network = next(c for c in result.conditions() if c.type == "NetworkReady")
    assert (network.status, network.reason) == (False, "QuotaExceeded")
    assert network.message == "VirtualNetwork: QuotaExceeded: no"
    assert next(c for c in result.conditions() if c.type == "LoadBalancerReady").status
    assert result.tokens == {"write/NodeRouteTable": "tok"}
    assert result.retry_after == 1.0 and not result.done


async def test_drive_sleeps_as_asked_and_settles_finished_steps() -> None:
    calls: list[tuple[dict[str, str], set[str]]] = []
    seen_a = StepResult.ready("A", "first look")
    slept: list[float] = []

    async def advance(tokens: Mapping[str, str], *, settled: Mapping[str, StepResult]) -> InfraStatus:
        calls.append((dict(tokens), set(settled)))
        if len(calls) == 1:
            return status(seen_a, StepResult.in_progress("B", "Creating", 0.25, token="tb"))
        assert settled["A"] is seen_a
        return status(settled["A"], StepResult.ready("B"))

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    final = await drive(advance, within_s=10, sleep=sleep)
    assert final.done
    assert slept == [0.25]
    assert calls[1] == ({"write/B": "tb"}, {"A"})


def sdk_token(content: bytes) -> str:
    state = {
        "version": 1,
        "data": {
            "request": {"method": "PUT", "url": "https://127.0.0.1/x", "headers": {}},
            "response": {
                "status_code": 201,
                "headers": {"Azure-AsyncOperation": "https://127.0.0.1/op"},
                "content": base64.b64encode(content).decode(),
            },
            "context": {"deserialized_data": json.loads(content)},
        },
    }
    return base64.b64encode(json.dumps(state).encode()).decode()


def test_compact_token_drops_the_response_body_only() -> None:
    token = sdk_token(json.dumps({"properties": {"big": "x" * 5000}}).encode())
    small = compact_token(token)
    assert len(small) < 600 < len(token)
    data = json.loads(base64.b64decode(small))["data"]
    assert data["response"]["headers"] == {"Azure-AsyncOperation": "https://127.0.0.1/op"}
    assert data["request"]["method"] == "PUT" and data["response"]["status_code"] == 201
    assert compact_token("not-a-token") == "not-a-token"
