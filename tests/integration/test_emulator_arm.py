"""ARM semantics with the real SDKs: LRO styles and their headers, operation URLs, continuation tokens,
resource groups, api-version, auth, paging, retries and error mapping."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceExistsError
from azure.core.rest import HttpRequest
from azure.mgmt.compute import models as cm
from azure.mgmt.network import models as nm
from azure.mgmt.resource.resources import ResourceManagementClient
from fixtures.emulator import (
    ArmClients,
    client_kwargs,
    make_clients,
    resource_id,
    scale_set_model,
    vnet_model,
)

from azk_operator.emulator import ArmEmulator, EmulatorCredential, Latency, LatencyProfile
from azk_operator.emulator.operations import UNWATCHED_GRACE_S

GROUP = "arm-rg"
API = "api-version=2024-05-01"


def _group(clients: ArmClients, name: str = GROUP) -> None:
    clients.resource.resource_groups.create_or_update(
        name, {"location": "eastus", "tags": {"azk.io_cluster_c1": "owned"}}
    )


def _raw(
    clients: ArmClients, method: str, url: str, body: object | None = None
) -> tuple[int, dict[str, str], object]:
    request = HttpRequest(method, url, json=body)
    response = clients.network.send_request(request)
    payload = response.json() if response.content else None
    return response.status_code, dict(response.headers), payload


def test_resource_group_is_synchronous_and_delete_cascades(
    arm_clients: ArmClients, arm_emulator: ArmEmulator
) -> None:
    groups = arm_clients.resource.resource_groups
    created = groups.create_or_update(GROUP, {"location": "eastus", "tags": {"a": "1"}})
    assert created.properties is not None and created.properties.provisioning_state == "Succeeded"
    assert groups.check_existence(GROUP) is True and groups.check_existence("other") is False
    groups.update(GROUP, {"tags": {"a": "2"}})
    assert groups.get(GROUP).tags == {"a": "2"}
    arm_clients.network.virtual_networks.begin_create_or_update(GROUP, "vnet", vnet_model()).result()
    assert [r.name for r in arm_clients.resource.resources.list_by_resource_group(GROUP)] == ["vnet"]

    rg_path = f"/subscriptions/{arm_emulator.subscription_id}/resourcegroups/{GROUP}"
    status, headers, _ = _raw(arm_clients, "DELETE", f"{rg_path}?{API}")
    assert status == 202 and "Azure-AsyncOperation" not in headers
    location = headers["Location"]
    assert location.startswith(arm_emulator.endpoint)
    assert _raw(arm_clients, "GET", location)[0] == 204
    assert _raw(arm_clients, "GET", location)[0] == 204  # a finished operation's Location never 404s
    assert groups.check_existence(GROUP) is False
    assert arm_emulator.control.inventory() == []

    statuses = [
        (e.method, e.status)
        for e in arm_emulator.control.journal()
        if e.resource_type.endswith("resourceGroups")
    ]
    assert ("PUT", 201) in statuses and ("DELETE", 202) in statuses


def test_put_answers_with_async_operation_and_non_terminal_state(
    arm_clients: ArmClients, arm_emulator: ArmEmulator
) -> None:
    _group(arm_clients)
    vnet_path = resource_id(arm_emulator, GROUP, "Microsoft.Network/virtualNetworks", "vnet")
    body = {"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    status, headers, payload = _raw(arm_clients, "PUT", f"{vnet_path}?{API}", body)
    assert status == 201 and "Location" not in headers
    assert isinstance(payload, dict) and payload["properties"]["provisioningState"] == "Updating"
    operation = headers["Azure-AsyncOperation"]
    assert operation.startswith(f"{arm_emulator.endpoint}/subscriptions/")
    assert int(headers["retry-after-ms"]) >= 1 and "Retry-After" not in headers
    for _ in range(2):  # operation URLs keep answering 200 after completion
        code, _, op_body = _raw(arm_clients, "GET", operation)
        assert code == 200 and isinstance(op_body, dict) and op_body["status"] == "Succeeded"
    assert _raw(arm_clients, "PUT", f"{vnet_path}?{API}", body)[0] == 200

    status, headers, _ = _raw(arm_clients, "DELETE", f"{vnet_path}?{API}")
    assert status == 202 and "Azure-AsyncOperation" in headers and "Location" in headers
    assert _raw(arm_clients, "GET", headers["Location"])[0] == 204
    assert _raw(arm_clients, "DELETE", f"{vnet_path}?{API}")[0] == 204  # deleting a missing resource


def test_compute_patch_and_post_actions_are_long_running(
    arm_clients: ArmClients, arm_emulator: ArmEmulator
) -> None:
    _group(arm_clients)
    vnet = arm_clients.network.virtual_networks.begin_create_or_update(
        GROUP, "v", vnet_model(subnets={"s": "10.0.0.0/24"})
    ).result()
    arm_clients.compute.virtual_machine_scale_sets.begin_create_or_update(
        GROUP, "pool", scale_set_model((vnet.subnets or [])[0].id or "", capacity=1)
    ).result()
    path = resource_id(arm_emulator, GROUP, "Microsoft.Compute/virtualMachineScaleSets", "pool")
    status, headers, payload = _raw(arm_clients, "PATCH", f"{path}?{API}", {"tags": {"x": "y"}})
    assert status == 200 and "Azure-AsyncOperation" in headers
    assert isinstance(payload, dict) and payload["properties"]["provisioningState"] == "Updating"
    status, headers, _ = _raw(arm_clients, "POST", f"{path}/restart?{API}", {})
    assert status == 202 and {"Azure-AsyncOperation", "Location"} <= set(headers)


def test_api_version_is_required_and_recorded(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    _group(arm_clients)
    status, _, payload = _raw(
        arm_clients, "GET", f"/subscriptions/{arm_emulator.subscription_id}/resourcegroups/{GROUP}"
    )
    assert (
        status == 400
        and isinstance(payload, dict)
        and payload["error"]["code"] == "MissingApiVersionParameter"
    )
    arm_clients.resource.resource_groups.get(GROUP)
    last = arm_emulator.control.journal()[-1]
    assert last.api_version == arm_clients.resource._config.api_version
    assert last.client_request_id  # the SDK sends x-ms-client-request-id and the journal keeps it


def test_missing_or_foreign_token_is_refused(arm_emulator: ArmEmulator) -> None:
    context = ssl.create_default_context(cafile=str(arm_emulator.ca_path))
    url = f"{arm_emulator.endpoint}/subscriptions/{arm_emulator.subscription_id}/resourcegroups?{API}"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the emulator's https URL
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, context=context)  # noqa: S310 - the emulator's https URL
        assert err.value.code == 401
    clients = make_clients(arm_emulator, credential=_Static("forged.token.value"))
    with pytest.raises(ClientAuthenticationError):
        clients.resource.resource_groups.get("x")
    issued = make_clients(arm_emulator, credential=_Static(arm_emulator.control.issue_token()))
    assert list(issued.resource.resource_groups.list()) == []


class _Static:
    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: object) -> object:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, 2**31)


def test_paging_follows_absolute_next_links(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    _group(arm_clients)
    arm_emulator.control.set_page_size(2)
    for index in range(5):
        arm_clients.network.network_security_groups.begin_create_or_update(
            GROUP, f"nsg-{index}", nm.NetworkSecurityGroup(location="eastus")
        ).result()
    names = [nsg.name for nsg in arm_clients.network.network_security_groups.list(GROUP)]
    assert names == [f"nsg-{index}" for index in range(5)]
    list_calls = [
        e
        for e in arm_emulator.control.journal()
        if e.method == "GET" and e.path.endswith("networkSecurityGroups")
    ]
    assert len(list_calls) == 3
    page = _raw(arm_clients, "GET", f"{list_calls[0].path}?{API}")[2]
    assert isinstance(page, dict) and page["nextLink"].startswith(arm_emulator.endpoint)


def test_continuation_token_resumes_on_a_fresh_client(
    arm_emulator_factory: Callable[..., ArmEmulator],
) -> None:
    emu = arm_emulator_factory(profile=LatencyProfile(default=Latency(polls=1, seconds=1.0)))
    first = make_clients(emu)
    _group(first)
    poller = first.network.virtual_networks.begin_create_or_update(GROUP, "vnet", vnet_model())
    token = poller.continuation_token()
    assert first.network.virtual_networks.get(GROUP, "vnet").provisioning_state == "Updating"
    assert [op["target"].rsplit("/", 1)[-1] for op in emu.control.operations()] == ["vnet"]
    second = make_clients(emu)
    resumed = second.network.virtual_networks.begin_create_or_update(
        GROUP, "vnet", None, continuation_token=token
    )
    assert resumed.result().provisioning_state == "Succeeded"
    assert emu.control.operations() == []


def test_realistic_profile_takes_scaled_wall_time(arm_emulator_factory: Callable[..., ArmEmulator]) -> None:
    emu = arm_emulator_factory(
        profile=LatencyProfile.realistic(scale=0.003)
    )  # VMSS 0.27 s, group delete 0.09 s
    clients = make_clients(emu)
    _group(clients)
    vnet = clients.network.virtual_networks.begin_create_or_update(
        GROUP, "v", vnet_model(subnets={"s": "10.0.0.0/24"})
    ).result()
    path = resource_id(emu, GROUP, "Microsoft.Compute/virtualMachineScaleSets", "pool")
    model = scale_set_model((vnet.subnets or [])[0].id or "", capacity=1)
    status, headers, _ = _raw(clients, "PUT", f"{path}?{API}", model.as_dict())
    assert status == 201 and 1 <= int(headers["retry-after-ms"]) <= 270
    result = clients.compute.virtual_machine_scale_sets.get(GROUP, "pool")
    assert result.provisioning_state == "Creating"
    op_body = _raw(clients, "GET", headers["Azure-AsyncOperation"])[2]
    while isinstance(op_body, dict) and op_body["status"] == "InProgress":
        op_body = _raw(clients, "GET", headers["Azure-AsyncOperation"])[2]
    assert isinstance(op_body, dict) and op_body["status"] == "Succeeded"
    from datetime import datetime

    took = datetime.fromisoformat(op_body["endTime"]) - datetime.fromisoformat(op_body["startTime"])
    assert took.total_seconds() >= 0.27


def test_group_being_deleted_refuses_writes(arm_emulator_factory: Callable[..., ArmEmulator]) -> None:
    emu = arm_emulator_factory(profile=LatencyProfile(per_type={"resourcegroups/delete": Latency(polls=5)}))
    clients = make_clients(emu)
    _group(clients)
    clients.resource.resource_groups.begin_delete(GROUP)
    with pytest.raises(ResourceExistsError) as err:
        clients.network.virtual_networks.begin_create_or_update(GROUP, "vnet", vnet_model())
    assert err.value.error is not None and err.value.error.code == "ResourceGroupBeingDeleted"


def test_an_operation_nobody_polls_still_finishes(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    """Azure finishes a group delete whose caller went away (the operator deleting its own cluster)."""
    _group(arm_clients)
    arm_clients.network.virtual_networks.begin_create_or_update(GROUP, "vnet", vnet_model()).result()
    arm_clients.resource.resource_groups.begin_delete(GROUP, polling=False)  # accepted, never polled
    assert arm_emulator.control.inventory() != [], "not finished at once"
    deadline = time.monotonic() + UNWATCHED_GRACE_S + 10
    while arm_emulator.control.inventory() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert arm_emulator.control.inventory() == []


def test_failed_operation_reports_its_error(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    _group(arm_clients)
    arm_emulator.control.fail_next_operation("AllocationFailed", "No capacity", path="virtualNetworks/vnet$")
    with pytest.raises(HttpResponseError) as err:
        arm_clients.network.virtual_networks.begin_create_or_update(GROUP, "vnet", vnet_model()).result()
    assert err.value.error is not None and err.value.error.code == "AllocationFailed"
    assert arm_clients.network.virtual_networks.get(GROUP, "vnet").provisioning_state == "Failed"
    fixed = arm_clients.network.virtual_networks.begin_create_or_update(GROUP, "vnet", vnet_model()).result()
    assert fixed.provisioning_state == "Succeeded"


def test_retry_after_is_honoured(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    _group(arm_clients)
    arm_emulator.control.inject_fault(f"resourcegroups/{GROUP}$", "GET", status=503, retry_after=1, count=1)
    assert arm_clients.resource.resource_groups.get(GROUP).name == GROUP
    gets = [e for e in arm_emulator.control.journal() if e.method == "GET"]
    assert [e.status for e in gets] == [503, 200]
    assert gets[1].time - gets[0].time >= 1.0


def test_injected_errors_map_to_sdk_exceptions(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    _group(arm_clients)
    control = arm_emulator.control
    control.inject_fault("virtualNetworks/v1$", "PUT", status=409, code="AnotherOperationInProgress", count=1)
    with pytest.raises(ResourceExistsError) as conflict:
        arm_clients.network.virtual_networks.begin_create_or_update(GROUP, "v1", vnet_model())
    assert conflict.value.error is not None and conflict.value.error.code == "AnotherOperationInProgress"
    no_retry = make_clients(arm_emulator, retry_total=0)
    control.inject_fault("resourcegroups", "GET", status=429, retry_after=7, count=1)
    with pytest.raises(HttpResponseError) as throttled:
        no_retry.resource.resource_groups.get(GROUP)
    assert throttled.value.status_code == 429
    assert throttled.value.response is not None and throttled.value.response.headers["Retry-After"] == "7"
    assert [r["hits"] for r in control.faults()["rules"]] == [1, 1]


def test_seeded_probabilistic_faults_are_reproducible(
    arm_clients: ArmClients, arm_emulator: ArmEmulator
) -> None:
    _group(arm_clients)
    no_retry = make_clients(arm_emulator, retry_total=0)

    def outcomes() -> list[bool]:
        arm_emulator.control.clear_faults()
        arm_emulator.control.inject_fault("resourcegroups", "GET", status=500, probability=0.5, seed=42)
        results = []
        for _ in range(12):
            try:
                no_retry.resource.resource_groups.get(GROUP)
                results.append(True)
            except HttpResponseError:
                results.append(False)
        return results

    first = outcomes()
    assert True in first and False in first
    assert outcomes() == first


def test_latency_fault_delays_without_failing(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    _group(arm_clients)
    fault = arm_emulator.control.inject_fault("resourcegroups", "GET", latency_ms=400, count=1)
    started = time.monotonic()
    assert arm_clients.resource.resource_groups.get(GROUP).name == GROUP
    assert time.monotonic() - started >= 0.4, "the answer came no sooner than the injected latency"
    assert [r["hits"] for r in arm_emulator.control.faults()["rules"] if r["id"] == fault] == [1]


def test_a_fault_answers_with_the_given_body(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    _group(arm_clients)
    body = {"error": {"code": "SkuNotAvailable", "message": "no capacity in this zone", "target": "sku"}}
    arm_emulator.control.inject_fault("resourcegroups", "GET", status=409, body=body, count=1)
    with pytest.raises(HttpResponseError) as err:
        arm_clients.resource.resource_groups.get(GROUP)
    assert err.value.status_code == 409
    assert err.value.error is not None and err.value.error.code == "SkuNotAvailable"
    assert err.value.error.message == "no capacity in this zone"


def test_throttling_buckets_answer_429_with_integer_retry_after(
    arm_clients: ArmClients, arm_emulator: ArmEmulator
) -> None:
    _group(arm_clients)
    vnet = arm_clients.network.virtual_networks.begin_create_or_update(
        GROUP, "v", vnet_model(subnets={"s": "10.0.0.0/24"})
    ).result()
    arm_clients.compute.virtual_machine_scale_sets.begin_create_or_update(
        GROUP, "pool", scale_set_model((vnet.subnets or [])[0].id or "", capacity=1)
    ).result()
    no_retry = make_clients(arm_emulator, retry_total=0)
    arm_emulator.control.set_throttling(reads=(3, 0.5), scale_set_updates=(1, 0.01))
    for _ in range(3):
        no_retry.resource.resource_groups.get(GROUP)
    with pytest.raises(HttpResponseError) as err:
        no_retry.resource.resource_groups.get(GROUP)
    assert (
        err.value.status_code == 429
        and err.value.error is not None
        and err.value.error.code == "TooManyRequests"
    )
    assert err.value.response is not None and err.value.response.headers["Retry-After"] == "2"

    update = cm.VirtualMachineScaleSetUpdate(tags={"n": "1"})
    no_retry.compute.virtual_machine_scale_sets.begin_update(GROUP, "pool", update)
    with pytest.raises(HttpResponseError) as vmss:
        no_retry.compute.virtual_machine_scale_sets.begin_update(GROUP, "pool", update)
    assert vmss.value.status_code == 429
    arm_emulator.control.set_throttling(enabled=False)
    assert no_retry.resource.resource_groups.get(GROUP).name == GROUP


def test_counters_and_inventory(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    _group(arm_clients)
    arm_clients.network.virtual_networks.begin_create_or_update(GROUP, "vnet", vnet_model()).result()
    arm_clients.network.virtual_networks.get(GROUP, "vnet")
    arm_clients.network.virtual_networks.begin_delete(GROUP, "vnet").result()
    counters = arm_emulator.control.counters()["Microsoft.Network/virtualNetworks"]
    assert counters["write"] == 1 and counters["delete"] == 1 and counters["read"] >= 2
    [group] = arm_emulator.control.inventory()
    assert group.tags == {"azk.io_cluster_c1": "owned"} and group.type == "Microsoft.Resources/resourceGroups"
    assert json.dumps(arm_emulator.control.health())


def test_write_buckets_are_per_subscription(arm_emulator_factory: Callable[..., ArmEmulator]) -> None:
    other = "00000000-0000-4000-8000-0000000000b2"
    emu = arm_emulator_factory(extra_subscriptions=[other])
    first, second = make_clients(emu, retry_total=0), make_clients(emu, retry_total=0)
    second.resource = ResourceManagementClient(
        EmulatorCredential(), other, **client_kwargs(emu, retry_total=0)
    )
    emu.control.set_throttling(writes=(1, 0.1))
    first.resource.resource_groups.create_or_update(GROUP, {"location": "eastus"})
    with pytest.raises(HttpResponseError) as err:
        first.resource.resource_groups.create_or_update(GROUP, {"location": "eastus"})
    assert err.value.status_code == 429
    created = second.resource.resource_groups.create_or_update(GROUP, {"location": "eastus"})
    assert created.id == f"/subscriptions/{other}/resourceGroups/{GROUP}", "another subscription's bucket"


def test_write_bucket_is_separate_from_reads(arm_clients: ArmClients, arm_emulator: ArmEmulator) -> None:
    _group(arm_clients)
    no_retry = make_clients(arm_emulator, retry_total=0)
    arm_emulator.control.set_throttling(writes=(2, 0.1))
    no_retry.resource.resource_groups.update(GROUP, {"tags": {"n": "1"}})
    no_retry.resource.resource_groups.update(GROUP, {"tags": {"n": "2"}})
    with pytest.raises(HttpResponseError) as err:
        no_retry.resource.resource_groups.update(GROUP, {"tags": {"n": "3"}})
    assert err.value.status_code == 429
    assert err.value.response is not None and err.value.response.headers["Retry-After"] == "10"
    assert no_retry.resource.resource_groups.get(GROUP).tags == {"n": "2"}  # reads have their own bucket
