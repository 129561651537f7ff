"""Microsoft.Network handlers: virtual networks, security groups, route tables, public IPs, load balancers
and network interfaces."""

from __future__ import annotations

import ipaddress
import itertools
import uuid
from typing import Any

from azk_operator.emulator.errors import ArmError
from azk_operator.emulator.ipam import LOOPBACK_ALIAS_POOL, PUBLIC_POOL
from azk_operator.emulator.resources.base import ResourceKind, World
from azk_operator.emulator.resources.common import parse_prefix, subnet_of, subnet_prefixes
from azk_operator.emulator.store import Record

_PUBLIC_POOL_KEY = "public"
_ALIAS_POOL_KEY = "lb-loopback"


def _items(record: Record, collection: str) -> list[dict[str, Any]]:
    items = record.properties.get(collection)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) and item.get("name") for item in items):
        raise ArmError(
            400, "InvalidRequestFormat", f"properties.{collection} must be a list of named objects."
        )
    names = [str(item["name"]).lower() for item in items]
    if len(set(names)) != len(names):
        raise ArmError(400, "InvalidRequestFormat", f"properties.{collection} has duplicate names.")
    for item in items:
        item.setdefault("properties", {})
    return items


class NetworkKind(ResourceKind):
    namespace = "Microsoft.Network"


class VirtualNetworkKind(NetworkKind):
    type_name = "Microsoft.Network/virtualNetworks"
    in_use_code = "InUseSubnetCannotBeDeleted"

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        props = record.properties
        space = (props.get("addressSpace") or {}).get("addressPrefixes") or []
        if not space:
            raise ArmError(
                400, "InvalidRequestFormat", "properties.addressSpace.addressPrefixes is required."
            )
        networks = [parse_prefix(prefix, "the virtual network") for prefix in space]
        for first, second in itertools.combinations(networks, 2):
            if first.overlaps(second):
                raise ArmError(
                    400,
                    "VnetAddressSpacesOverlap",
                    f"Address spaces {first} and {second} of the network overlap.",
                )
        seen: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
        for subnet in _items(record, "subnets"):
            name = str(subnet["name"])
            prefixes = subnet_prefixes(subnet)
            if not prefixes:
                raise ArmError(400, "InvalidRequestFormat", f"Subnet {name} needs an addressPrefix.")
            for prefix in prefixes:
                net = parse_prefix(prefix, f"subnet {name}")
                if not any(net.version == outer.version and net.subnet_of(outer) for outer in networks):  # type: ignore[arg-type]
                    raise ArmError(
                        400,
                        "NetcfgSubnetRangeOutsideVnet",
                        f"Subnet '{name}' is not valid because its IP address range {prefix} is outside "
                        f"the IP address range of virtual network '{record.body['name']}'.",
                    )
                for other_name, other in seen:
                    if net.overlaps(other):
                        raise ArmError(
                            400,
                            "NetcfgSubnetRangesOverlap",
                            f"Subnet '{name}' is not valid because its IP address range overlaps with "
                            f"that of subnet '{other_name}' in virtual network '{record.body['name']}'.",
                        )
                seen.append((name, net))
        if previous is not None:
            kept = {str(subnet["name"]).lower() for subnet in record.properties.get("subnets") or []}
            for subnet in previous.properties.get("subnets") or []:
                if str(subnet["name"]).lower() in kept:
                    continue
                users = [rec for rec in world.store.referrers(subnet["id"]) if rec.key != previous.key]
                if users:
                    raise ArmError(
                        400,
                        "InUseSubnetCannotBeDeleted",
                        f"Subnet {subnet['name']} is in use by {users[0].id} and cannot be deleted.",
                    )


class SecurityGroupKind(NetworkKind):
    type_name = "Microsoft.Network/networkSecurityGroups"
    in_use_code = "InUseNetworkSecurityGroupCannotBeDeleted"

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        priorities: dict[tuple[str, int], str] = {}
        for rule in _items(record, "securityRules"):
            props = rule["properties"]
            for required in ("protocol", "access", "direction", "priority"):
                if props.get(required) in (None, ""):
                    raise ArmError(
                        400, "InvalidRequestFormat", f"Security rule {rule['name']} needs {required}."
                    )
            priority = props["priority"]
            if not isinstance(priority, int) or not 100 <= priority <= 4096:
                raise ArmError(
                    400,
                    "SecurityRuleInvalidPriority",
                    f"Security rule {rule['name']} has invalid priority {priority}; it must be in 100-4096.",
                )
            slot = (str(props["direction"]).lower(), priority)
            if slot in priorities:
                raise ArmError(
                    400,
                    "SecurityRuleConflict",
                    f"Security rules {priorities[slot]} and {rule['name']} share priority and direction.",
                )
            priorities[slot] = str(rule["name"])
        record.properties["defaultSecurityRules"] = _default_rules(record.id)
        record.properties.setdefault("resourceGuid", record.meta.setdefault("guid", str(uuid.uuid4())))


def _default_rules(nsg_id: str) -> list[dict[str, Any]]:
    specs = [
        ("AllowVnetInBound", "Inbound", "Allow", 65000, "VirtualNetwork", "VirtualNetwork"),
        ("AllowAzureLoadBalancerInBound", "Inbound", "Allow", 65001, "AzureLoadBalancer", "*"),
        ("DenyAllInBound", "Inbound", "Deny", 65500, "*", "*"),
        ("AllowVnetOutBound", "Outbound", "Allow", 65000, "VirtualNetwork", "VirtualNetwork"),
        ("AllowInternetOutBound", "Outbound", "Allow", 65001, "*", "Internet"),
        ("DenyAllOutBound", "Outbound", "Deny", 65500, "*", "*"),
    ]
    return [
        {
            "name": name,
            "id": f"{nsg_id}/defaultSecurityRules/{name}",
            "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
            "properties": {
                "protocol": "*",
                "sourcePortRange": "*",
                "destinationPortRange": "*",
                "sourceAddressPrefix": source,
                "destinationAddressPrefix": dest,
                "access": access,
                "priority": priority,
                "direction": direction,
                "provisioningState": "Succeeded",
            },
        }
        for name, direction, access, priority, source, dest in specs
    ]


_NEXT_HOP_TYPES = {"virtualnetworkgateway", "vnetlocal", "internet", "virtualappliance", "none"}


class RouteTableKind(NetworkKind):
    type_name = "Microsoft.Network/routeTables"
    in_use_code = "InUseRouteTableCannotBeDeleted"

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        for route in _items(record, "routes"):
            props = route["properties"]
            parse_prefix(props.get("addressPrefix"), f"route {route['name']}")
            hop = str(props.get("nextHopType", "")).lower()
            if hop not in _NEXT_HOP_TYPES:
                raise ArmError(400, "InvalidRequestFormat", f"Route {route['name']} has invalid nextHopType.")
            if hop == "virtualappliance" and not props.get("nextHopIpAddress"):
                raise ArmError(
                    400,
                    "InvalidRequestFormat",
                    f"Route {route['name']} of type VirtualAppliance needs nextHopIpAddress.",
                )


class PublicIpKind(NetworkKind):
    type_name = "Microsoft.Network/publicIPAddresses"
    in_use_code = "PublicIPAddressInUseCannotBeDeleted"

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        props = record.properties
        sku = record.body.setdefault("sku", {"name": "Standard", "tier": "Regional"})
        sku_name = str(sku.get("name", "Standard"))
        default_method = "Static" if sku_name.lower() == "standard" else "Dynamic"
        method = props.setdefault("publicIPAllocationMethod", default_method)
        if sku_name.lower() == "standard" and str(method).lower() != "static":
            raise ArmError(
                400,
                "StandardSkuPublicIPAddressesCannotBeDynamic",
                "Standard sku publicIp addresses cannot have allocation method Dynamic.",
            )
        props.setdefault("publicIPAddressVersion", "IPv4")
        props.setdefault("idleTimeoutInMinutes", 4)
        address = record.meta.get("address") or world.pools.allocate(_PUBLIC_POOL_KEY, PUBLIC_POOL)
        record.meta["address"] = address
        props["ipAddress"] = address
        label = (props.get("dnsSettings") or {}).get("domainNameLabel")
        if label:
            fqdn = f"{label}.{record.body['location']}.cloudapp.azure.com".lower()
            for other in world.store.records():
                same_type = other.type == self.type_name and other.key != record.key
                if same_type and (other.properties.get("dnsSettings") or {}).get("fqdn") == fqdn:
                    raise ArmError(
                        400, "DnsRecordInUse", f"DNS record {fqdn} is already used by another public IP."
                    )
            props["dnsSettings"]["fqdn"] = fqdn
        props.setdefault("resourceGuid", record.meta.setdefault("guid", str(uuid.uuid4())))

    def on_removed(self, world: World, record: Record) -> None:
        if record.meta.get("address"):
            world.pools.release(_PUBLIC_POOL_KEY, str(record.meta["address"]))


def _claim_private(
    world: World, record: Record, config: dict[str, Any], subnet_ref: str, allocations: dict[str, list[str]]
) -> None:
    """Give an IP configuration (NIC or internal frontend) a private address from its subnet."""
    props = config["properties"]
    subnet_id, prefix = subnet_of(world, subnet_ref)
    key = str(config["name"]).lower()
    old = (record.meta.get("ips") or {}).get(key)
    method = str(props.get("privateIPAllocationMethod", "Dynamic")).lower()
    requested = props.get("privateIPAddress") if method == "static" else None
    if old and old[0] == subnet_id.lower() and (requested is None or requested == old[1]):
        props["privateIPAddress"] = old[1]
        allocations[key] = old
        return
    if requested is not None:
        if ipaddress.ip_address(str(requested)) not in ipaddress.ip_network(prefix):
            raise ArmError(
                400,
                "PrivateIPAddressNotInSubnet",
                f"Private address {requested} is not in subnet {subnet_id}.",
            )
        if not world.pools.claim(subnet_id.lower(), str(requested)):
            raise ArmError(400, "PrivateIPAddressInUse", f"Private address {requested} is already in use.")
        address = str(requested)
    else:
        address = world.pools.allocate(subnet_id.lower(), prefix)
    props["privateIPAddress"] = address
    props.setdefault("privateIPAllocationMethod", "Dynamic")
    props.setdefault("privateIPAddressVersion", "IPv4")
    allocations[key] = [subnet_id.lower(), address]


def _release_unused(world: World, previous: Record | None, allocations: dict[str, list[str]]) -> None:
    if previous is None:
        return
    for key, (pool, address) in (previous.meta.get("ips") or {}).items():
        if allocations.get(key) != [pool, address]:
            world.pools.release(pool, address)


def _release_all(world: World, record: Record) -> None:
    for pool, address in (record.meta.get("ips") or {}).values():
        world.pools.release(pool, address)


class LoadBalancerKind(NetworkKind):
    type_name = "Microsoft.Network/loadBalancers"
    in_use_code = "LoadBalancerInUseByVirtualMachineScaleSet"

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        record.body.setdefault("sku", {"name": "Standard", "tier": "Regional"})
        frontends = _items(record, "frontendIPConfigurations")
        allocations: dict[str, list[str]] = {}
        aliases: dict[str, str] = {}
        old_aliases: dict[str, str] = dict(record.meta.get("aliases") or {})
        for frontend in frontends:
            props = frontend["properties"]
            public = (props.get("publicIPAddress") or {}).get("id")
            subnet = (props.get("subnet") or {}).get("id")
            if bool(public) == bool(subnet):
                raise ArmError(
                    400,
                    "InvalidRequestFormat",
                    f"Frontend {frontend['name']} must reference either a public IP address or a subnet.",
                )
            if public and world.store.get(str(public)) is None:
                raise ArmError(
                    400,
                    "InvalidResourceReference",
                    f"Resource {public} referenced by the load balancer was not found.",
                )
            if subnet:
                _claim_private(world, record, frontend, str(subnet), allocations)
                name = str(frontend["name"]).lower()
                aliases[name] = old_aliases.pop(name, "") or world.pools.allocate(
                    _ALIAS_POOL_KEY, LOOPBACK_ALIAS_POOL
                )
        for alias in old_aliases.values():
            world.pools.release(_ALIAS_POOL_KEY, alias)
        _release_unused(world, previous, allocations)
        record.meta["ips"] = allocations
        record.meta["aliases"] = aliases
        own = {
            collection: {str(item["name"]).lower() for item in _items(record, collection)}
            for collection in ("frontendIPConfigurations", "backendAddressPools", "probes")
        }
        for probe in record.properties.get("probes") or []:
            port = probe["properties"].get("port")
            if not isinstance(port, int) or not 1 <= port <= 65535:
                raise ArmError(400, "InvalidRequestFormat", f"Probe {probe['name']} needs a port in 1-65535.")
        for rule in _items(record, "loadBalancingRules"):
            props = rule["properties"]
            for field, collection, required in (
                ("frontendIPConfiguration", "frontendIPConfigurations", True),
                ("backendAddressPool", "backendAddressPools", False),
                ("probe", "probes", False),
            ):
                ref = (props.get(field) or {}).get("id")
                if ref is None:
                    if required:
                        raise ArmError(400, "InvalidRequestFormat", f"Rule {rule['name']} needs {field}.")
                    continue
                prefix = f"{record.id}/{collection}/".lower()
                if (
                    not str(ref).lower().startswith(prefix)
                    or str(ref).rsplit("/", 1)[-1].lower() not in own[collection]
                ):
                    raise ArmError(
                        400,
                        "InvalidResourceReference",
                        f"Rule {rule['name']} references unknown {field} {ref}.",
                    )
            for port_field in ("frontendPort", "backendPort"):
                port = props.get(port_field)
                if not isinstance(port, int) or not 0 <= port <= 65535:
                    raise ArmError(400, "InvalidRequestFormat", f"Rule {rule['name']} needs {port_field}.")
        _items(record, "inboundNatRules")
        _items(record, "outboundRules")
        record.properties.setdefault("resourceGuid", record.meta.setdefault("guid", str(uuid.uuid4())))

    def on_removed(self, world: World, record: Record) -> None:
        _release_all(world, record)
        for alias in (record.meta.get("aliases") or {}).values():
            world.pools.release(_ALIAS_POOL_KEY, alias)


class NetworkInterfaceKind(NetworkKind):
    type_name = "Microsoft.Network/networkInterfaces"
    in_use_code = "NicInUse"

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        configs = _items(record, "ipConfigurations")
        if not configs:
            raise ArmError(
                400, "InvalidRequestFormat", "A network interface needs at least one ipConfiguration."
            )
        allocations: dict[str, list[str]] = {}
        for index, config in enumerate(configs):
            props = config["properties"]
            subnet = (props.get("subnet") or {}).get("id")
            if not subnet:
                raise ArmError(
                    400, "InvalidRequestFormat", f"IP configuration {config['name']} needs a subnet."
                )
            props.setdefault("primary", index == 0)
            _claim_private(world, record, config, str(subnet), allocations)
        _release_unused(world, previous, allocations)
        record.meta["ips"] = allocations
        props = record.properties
        props.setdefault("enableAcceleratedNetworking", False)
        props.setdefault("enableIPForwarding", False)
        props["macAddress"] = record.meta.setdefault("mac", _mac(record.id))
        props.setdefault("resourceGuid", record.meta.setdefault("guid", str(uuid.uuid4())))

    def on_removed(self, world: World, record: Record) -> None:
        _release_all(world, record)


def _mac(seed: str) -> str:
    digest = uuid.uuid5(uuid.NAMESPACE_URL, seed.lower()).hex
    return "-".join(["00", "0D", "3A"] + [digest[i : i + 2].upper() for i in range(0, 6, 2)])
