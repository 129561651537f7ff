"""Network resources through the real azure-mgmt-network client: CRUD, derived fields and ARM validation."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.network import models as nm
from fixtures.emulator import ArmClients, resource_id, vnet_model

from azk_operator.emulator import ArmEmulator

GROUP = "net-rg"


@pytest.fixture
def group(arm_clients: ArmClients) -> str:
    arm_clients.resource.resource_groups.create_or_update(GROUP, {"location": "eastus"})
    return GROUP


def _vnet(clients: ArmClients, name: str = "vnet", **subnets: str) -> nm.VirtualNetwork:
    model = vnet_model(subnets=subnets or {"nodes": "10.0.1.0/24"})
    return clients.network.virtual_networks.begin_create_or_update(GROUP, name, model).result()


def test_virtual_network_with_subnets_round_trips(arm_clients: ArmClients, group: str) -> None:
    created = _vnet(arm_clients, nodes="10.0.1.0/24", control="10.0.2.0/24")
    assert created.provisioning_state == "Succeeded"
    assert created.etag and created.etag.startswith('W/"')
    assert [s.name for s in created.subnets or []] == ["nodes", "control"]
    assert created.subnets and created.subnets[0].id == f"{created.id}/subnets/nodes"

    fetched = arm_clients.network.virtual_networks.get(group, "VNET")  # paths are case-insensitive
    assert fetched.id == created.id
    assert [v.name for v in arm_clients.network.virtual_networks.list(group)] == ["vnet"]
    assert [v.name for v in arm_clients.network.virtual_networks.list_all()] == ["vnet"]

    arm_clients.network.virtual_networks.begin_delete(group, "vnet").result()
    with pytest.raises(ResourceNotFoundError) as err:
        arm_clients.network.virtual_networks.get(group, "vnet")
    assert err.value.error is not None and err.value.error.code == "ResourceNotFound"


def test_subnet_as_child_resource(arm_clients: ArmClients, group: str) -> None:
    _vnet(arm_clients)
    subnets = arm_clients.network.subnets
    added = subnets.begin_create_or_update(
        group, "vnet", "extra", nm.Subnet(address_prefix="10.0.9.0/24")
    ).result()
    assert added.provisioning_state == "Succeeded" and added.address_prefix == "10.0.9.0/24"
    assert sorted(s.name or "" for s in subnets.list(group, "vnet")) == ["extra", "nodes"]
    assert subnets.get(group, "vnet", "extra").id == added.id
    subnets.begin_delete(group, "vnet", "extra").result()
    vnet = arm_clients.network.virtual_networks.get(group, "vnet")
    assert [s.name for s in vnet.subnets or []] == ["nodes"]


@pytest.mark.parametrize(
    ("subnets", "code"),
    [
        ({"outside": "10.1.0.0/24"}, "NetcfgSubnetRangeOutsideVnet"),
        ({"a": "10.0.1.0/24", "b": "10.0.1.128/25"}, "NetcfgSubnetRangesOverlap"),
        ({"bad": "10.0.1.7/24"}, "InvalidAddressPrefixFormat"),
    ],
)
def test_subnet_ranges_are_validated(
    arm_clients: ArmClients, group: str, subnets: dict[str, str], code: str
) -> None:
    with pytest.raises(HttpResponseError) as err:
        arm_clients.network.virtual_networks.begin_create_or_update(
            group, "vnet", vnet_model(subnets=subnets)
        )
    assert err.value.status_code == 400
    assert err.value.error is not None and err.value.error.code == code


def test_unknown_location_and_missing_group_are_refused(arm_clients: ArmClients, group: str) -> None:
    with pytest.raises(HttpResponseError) as err:
        arm_clients.network.virtual_networks.begin_create_or_update(group, "v", vnet_model(location="moon"))
    assert err.value.error is not None and err.value.error.code == "LocationNotAvailableForResourceType"
    with pytest.raises(ResourceNotFoundError) as missing:
        arm_clients.network.virtual_networks.begin_create_or_update("no-such-group", "v", vnet_model())
    assert missing.value.error is not None and missing.value.error.code == "ResourceGroupNotFound"


def _nic(
    clients: ArmClients, subnet_id: str, name: str = "nic", nsg_id: str | None = None
) -> nm.NetworkInterface:
    model = nm.NetworkInterface(
        location="eastus",
        ip_configurations=[nm.NetworkInterfaceIPConfiguration(name="ip", subnet=nm.Subnet(id=subnet_id))],
        network_security_group=nm.NetworkSecurityGroup(id=nsg_id) if nsg_id else None,
    )
    return clients.network.network_interfaces.begin_create_or_update(GROUP, name, model).result()


def test_network_interface_gets_a_private_address_from_its_subnet(
    arm_clients: ArmClients, group: str
) -> None:
    vnet = _vnet(arm_clients)
    subnet_id = (vnet.subnets or [])[0].id or ""
    first = _nic(arm_clients, subnet_id, "nic-a")
    second = _nic(arm_clients, subnet_id, "nic-b")
    addresses = [(n.ip_configurations or [])[0].private_ip_address for n in (first, second)]
    assert addresses == ["10.0.1.4", "10.0.1.5"]  # Azure reserves the first four addresses
    assert first.mac_address and (first.ip_configurations or [])[0].primary is True


def test_subnet_in_use_cannot_be_deleted(arm_clients: ArmClients, group: str) -> None:
    vnet = _vnet(arm_clients)
    _nic(arm_clients, (vnet.subnets or [])[0].id or "")
    with pytest.raises(HttpResponseError) as err:
        arm_clients.network.subnets.begin_delete(group, "vnet", "nodes")
    assert err.value.error is not None and err.value.error.code == "InUseSubnetCannotBeDeleted"
    with pytest.raises(HttpResponseError) as whole:
        arm_clients.network.virtual_networks.begin_delete(group, "vnet")
    assert whole.value.error is not None and whole.value.error.code == "InUseSubnetCannotBeDeleted"
    arm_clients.network.network_interfaces.begin_delete(group, "nic").result()
    arm_clients.network.virtual_networks.begin_delete(group, "vnet").result()


def test_reference_to_missing_subnet_is_refused(
    arm_clients: ArmClients, arm_emulator: ArmEmulator, group: str
) -> None:
    missing = resource_id(arm_emulator, group, "Microsoft.Network/virtualNetworks", "nope") + "/subnets/x"
    with pytest.raises(HttpResponseError) as err:
        _nic(arm_clients, missing)
    assert err.value.error is not None and err.value.error.code == "InvalidResourceReference"


def test_security_group_with_rules(arm_clients: ArmClients, group: str) -> None:
    rule = nm.SecurityRule(
        name="apiserver",
        protocol="Tcp",
        access="Allow",
        direction="Inbound",
        priority=100,
        source_address_prefix="*",
        source_port_range="*",
        destination_address_prefix="*",
        destination_port_range="6443",
    )
    nsg = arm_clients.network.network_security_groups.begin_create_or_update(
        group, "nsg", nm.NetworkSecurityGroup(location="eastus", security_rules=[rule])
    ).result()
    assert [r.name for r in nsg.security_rules or []] == ["apiserver"]
    assert "DenyAllInBound" in [r.name for r in nsg.default_security_rules or []]
    rules = arm_clients.network.security_rules
    ssh = nm.SecurityRule(
        protocol="Tcp", access="Deny", direction="Inbound", priority=200, destination_port_range="22"
    )
    assert rules.begin_create_or_update(group, "nsg", "ssh", ssh).result().priority == 200
    assert sorted(r.name or "" for r in rules.list(group, "nsg")) == ["apiserver", "ssh"]

    clash = nm.SecurityRule(protocol="Tcp", access="Allow", direction="Inbound", priority=100)
    with pytest.raises(HttpResponseError) as err:
        rules.begin_create_or_update(group, "nsg", "clash", clash)
    assert err.value.error is not None and err.value.error.code == "SecurityRuleConflict"

    vnet = arm_clients.network.virtual_networks.begin_create_or_update(
        group,
        "vnet",
        nm.VirtualNetwork(
            location="eastus",
            address_space=nm.AddressSpace(address_prefixes=["10.0.0.0/16"]),
            subnets=[
                nm.Subnet(
                    name="s",
                    address_prefix="10.0.0.0/24",
                    network_security_group=nm.NetworkSecurityGroup(id=nsg.id),
                )
            ],
        ),
    ).result()
    assert (vnet.subnets or [])[0].network_security_group is not None
    with pytest.raises(HttpResponseError) as in_use:
        arm_clients.network.network_security_groups.begin_delete(group, "nsg")
    assert (
        in_use.value.error is not None
        and in_use.value.error.code == "InUseNetworkSecurityGroupCannotBeDeleted"
    )


def test_route_table_with_routes(arm_clients: ArmClients, group: str) -> None:
    table = arm_clients.network.route_tables.begin_create_or_update(
        group,
        "rt",
        nm.RouteTable(
            location="eastus",
            routes=[
                nm.Route(
                    name="pods",
                    address_prefix="10.244.0.0/24",
                    next_hop_type="VirtualAppliance",
                    next_hop_ip_address="10.0.1.4",
                )
            ],
        ),
    ).result()
    assert [r.name for r in table.routes or []] == ["pods"]
    extra = nm.Route(
        address_prefix="10.244.1.0/24", next_hop_type="VirtualAppliance", next_hop_ip_address="10.0.1.5"
    )
    arm_clients.network.routes.begin_create_or_update(group, "rt", "pods-1", extra).result()
    assert len(list(arm_clients.network.routes.list(group, "rt"))) == 2
    arm_clients.network.routes.begin_delete(group, "rt", "pods").result()
    assert [r.name for r in arm_clients.network.route_tables.get(group, "rt").routes or []] == ["pods-1"]
    bad = nm.Route(address_prefix="10.244.2.0/24", next_hop_type="VirtualAppliance")
    with pytest.raises(HttpResponseError):
        arm_clients.network.routes.begin_create_or_update(group, "rt", "bad", bad)


def _public_ip(clients: ArmClients, name: str, label: str | None = None) -> nm.PublicIPAddress:
    model = nm.PublicIPAddress(
        location="eastus",
        sku=nm.PublicIPAddressSku(name="Standard"),
        public_ip_allocation_method="Static",
        dns_settings=nm.PublicIPAddressDnsSettings(domain_name_label=label) if label else None,
    )
    return clients.network.public_ip_addresses.begin_create_or_update(GROUP, name, model).result()


def test_public_ip_addresses_are_loopback_with_dns(arm_clients: ArmClients, group: str) -> None:
    first = _public_ip(arm_clients, "pip-a", label="azk-api")
    second = _public_ip(arm_clients, "pip-b")
    assert first.ip_address == "127.10.0.1" and second.ip_address == "127.10.0.2"
    assert first.dns_settings is not None and first.dns_settings.fqdn == "azk-api.eastus.cloudapp.azure.com"
    with pytest.raises(HttpResponseError) as err:
        _public_ip(arm_clients, "pip-c", label="azk-api")
    assert err.value.error is not None and err.value.error.code == "DnsRecordInUse"
    arm_clients.network.public_ip_addresses.begin_delete(group, "pip-b").result()
    assert _public_ip(arm_clients, "pip-d").ip_address == "127.10.0.2"  # released addresses are reused
    tagged = arm_clients.network.public_ip_addresses.update_tags(
        group, "pip-a", nm.TagsObject(tags={"k": "v"})
    )
    assert tagged.tags == {"k": "v"} and tagged.ip_address == "127.10.0.1"


def _load_balancer(emu: ArmEmulator, clients: ArmClients, pip_id: str) -> nm.LoadBalancer:
    lb_id = resource_id(emu, GROUP, "Microsoft.Network/loadBalancers", "lb")
    model = nm.LoadBalancer(
        location="eastus",
        sku=nm.LoadBalancerSku(name="Standard"),
        frontend_ip_configurations=[
            nm.FrontendIPConfiguration(name="fe", public_ip_address=nm.PublicIPAddress(id=pip_id))
        ],
        backend_address_pools=[nm.BackendAddressPool(name="pool")],
        probes=[nm.Probe(name="healthz", protocol="Tcp", port=6443)],
        load_balancing_rules=[
            nm.LoadBalancingRule(
                name="apiserver",
                protocol="Tcp",
                frontend_port=6443,
                backend_port=6443,
                frontend_ip_configuration=nm.SubResource(id=f"{lb_id}/frontendIPConfigurations/fe"),
                backend_address_pool=nm.SubResource(id=f"{lb_id}/backendAddressPools/pool"),
                probe=nm.SubResource(id=f"{lb_id}/probes/healthz"),
            )
        ],
    )
    return clients.network.load_balancers.begin_create_or_update(GROUP, "lb", model).result()


def test_load_balancer_parts_and_public_ip_in_use(
    arm_clients: ArmClients, arm_emulator: ArmEmulator, group: str
) -> None:
    pip = _public_ip(arm_clients, "api")
    lb = _load_balancer(arm_emulator, arm_clients, pip.id or "")
    assert lb.provisioning_state == "Succeeded"
    assert [p.id for p in lb.backend_address_pools or []] == [f"{lb.id}/backendAddressPools/pool"]
    fe = arm_clients.network.load_balancer_frontend_ip_configurations.get(group, "lb", "fe")
    assert fe.public_ip_address is not None and fe.public_ip_address.id == pip.id
    pool = arm_clients.network.load_balancer_backend_address_pools.get(group, "lb", "pool")
    assert pool.name == "pool"
    assert [p.name for p in arm_clients.network.load_balancer_probes.list(group, "lb")] == ["healthz"]
    with pytest.raises(HttpResponseError) as err:
        arm_clients.network.public_ip_addresses.begin_delete(group, "api")
    assert err.value.error is not None and err.value.error.code == "PublicIPAddressInUseCannotBeDeleted"
    arm_clients.network.load_balancers.begin_delete(group, "lb").result()
    arm_clients.network.public_ip_addresses.begin_delete(group, "api").result()


def test_load_balancer_rule_must_reference_its_own_parts(
    arm_clients: ArmClients, arm_emulator: ArmEmulator, group: str
) -> None:
    pip = _public_ip(arm_clients, "api")
    model = nm.LoadBalancer(
        location="eastus",
        frontend_ip_configurations=[
            nm.FrontendIPConfiguration(name="fe", public_ip_address=nm.PublicIPAddress(id=pip.id))
        ],
        load_balancing_rules=[
            nm.LoadBalancingRule(
                name="r",
                protocol="Tcp",
                frontend_port=1,
                backend_port=1,
                frontend_ip_configuration=nm.SubResource(id=f"{pip.id}/frontendIPConfigurations/none"),
            )
        ],
    )
    with pytest.raises(HttpResponseError) as err:
        arm_clients.network.load_balancers.begin_create_or_update(group, "lb", model)
    assert err.value.error is not None and err.value.error.code == "InvalidResourceReference"


def test_stale_if_match_gets_412(arm_clients: ArmClients, group: str) -> None:
    created = _vnet(arm_clients)
    _vnet(arm_clients, nodes="10.0.1.0/24", more="10.0.3.0/24")  # another writer changes the etag
    with pytest.raises(HttpResponseError) as err:
        arm_clients.network.virtual_networks.begin_create_or_update(
            group, "vnet", vnet_model(), headers={"If-Match": created.etag}
        )
    assert err.value.status_code == 412
    assert err.value.error is not None and err.value.error.code == "PreconditionFailed"
    current = arm_clients.network.virtual_networks.get(group, "vnet")
    updated = arm_clients.network.virtual_networks.begin_create_or_update(
        group, "vnet", vnet_model(subnets={"nodes": "10.0.1.0/24"}), headers={"If-Match": current.etag}
    ).result()
    assert updated.etag != current.etag


def test_backend_pool_child_writes_and_in_use(
    arm_clients: ArmClients, arm_emulator: ArmEmulator, group: str
) -> None:
    pip = _public_ip(arm_clients, "api")
    _load_balancer(arm_emulator, arm_clients, pip.id or "")
    pools = arm_clients.network.load_balancer_backend_address_pools
    extra = pools.begin_create_or_update(group, "lb", "workers", nm.BackendAddressPool()).result()
    assert extra.id and extra.id.endswith("/loadBalancers/lb/backendAddressPools/workers")
    assert sorted(p.name or "" for p in pools.list(group, "lb")) == ["pool", "workers"]
    vnet = _vnet(arm_clients)
    nic = nm.NetworkInterface(
        location="eastus",
        ip_configurations=[
            nm.NetworkInterfaceIPConfiguration(
                name="ip",
                subnet=nm.Subnet(id=(vnet.subnets or [])[0].id),
                load_balancer_backend_address_pools=[nm.BackendAddressPool(id=extra.id)],
            )
        ],
    )
    arm_clients.network.network_interfaces.begin_create_or_update(group, "nic", nic).result()
    with pytest.raises(HttpResponseError) as err:
        pools.begin_delete(group, "lb", "workers")
    assert err.value.error is not None and err.value.error.code == "InUseBackendAddressPoolCannotBeDeleted"
    arm_clients.network.network_interfaces.begin_delete(group, "nic").result()
    pools.begin_delete(group, "lb", "workers").result()
    assert [p.name for p in pools.list(group, "lb")] == ["pool"]
    assert [i.name for i in arm_emulator.control.inventory("Microsoft.Network/loadBalancers")] == ["lb"]


def test_names_and_locations_follow_arm_rules(arm_clients: ArmClients, group: str) -> None:
    vnets = arm_clients.network.virtual_networks
    with pytest.raises(HttpResponseError) as name:
        vnets.begin_create_or_update(group, "bad-name-", vnet_model())
    assert name.value.error is not None and name.value.error.code == "InvalidResourceName"
    model = vnet_model()
    model.location = None
    with pytest.raises(HttpResponseError) as missing:
        vnets.begin_create_or_update(group, "vnet", model)
    assert missing.value.error is not None and missing.value.error.code == "LocationRequired"
    vnets.begin_create_or_update(group, "vnet", vnet_model(location="East US")).result()
    with pytest.raises(ResourceExistsError) as moved:
        vnets.begin_create_or_update(group, "vnet", vnet_model(location="westus2"))
    assert moved.value.error is not None and moved.value.error.code == "InvalidResourceLocation"
    with pytest.raises(ResourceExistsError) as group_moved:
        arm_clients.resource.resource_groups.create_or_update(group, {"location": "westeurope"})
    assert (
        group_moved.value.error is not None and group_moved.value.error.code == "InvalidResourceGroupLocation"
    )
