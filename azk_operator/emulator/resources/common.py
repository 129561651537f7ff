"""Helpers several resource handlers share: address parsing, subnet lookup, load-balancer frontends."""

from __future__ import annotations

import ipaddress
from typing import Any

from azk_operator.emulator.boot import FrontendAddress
from azk_operator.emulator.errors import ArmError
from azk_operator.emulator.resources.base import World
from azk_operator.emulator.store import parent_and_child

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_prefix(value: Any, what: str) -> Network:
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        raise ArmError(
            400, "InvalidAddressPrefixFormat", f"Address prefix {value!r} of {what} is not a valid CIDR."
        ) from exc


def subnet_prefixes(subnet: dict[str, Any]) -> list[str]:
    props = subnet.get("properties") or {}
    prefixes = list(props.get("addressPrefixes") or [])
    if props.get("addressPrefix"):
        prefixes.insert(0, props["addressPrefix"])
    return [str(prefix) for prefix in prefixes]


def subnet_of(world: World, subnet_id: str) -> tuple[str, str]:
    """(canonical subnet id, its first prefix) of an existing subnet."""
    found = world.store.find_child(subnet_id)
    if found is None or parent_and_child(subnet_id) is None:
        raise ArmError(
            400, "InvalidResourceReference", f"Resource {subnet_id} referenced by the request was not found."
        )
    subnet = found[1]
    prefixes = subnet_prefixes(subnet)
    if not prefixes:
        raise ArmError(400, "InvalidResourceReference", f"Subnet {subnet_id} has no address prefix.")
    return str(subnet["id"]), prefixes[0]


def pool_ids_of(ip_configurations: list[dict[str, Any]]) -> list[str]:
    pools: list[str] = []
    for config in ip_configurations:
        for pool in (config.get("properties") or {}).get("loadBalancerBackendAddressPools") or []:
            if isinstance(pool, dict) and pool.get("id"):
                pools.append(str(pool["id"]))
    return pools


def frontends_for_pools(world: World, pool_ids: list[str]) -> tuple[FrontendAddress, ...]:
    """The frontends whose rules send traffic to any of the pools (all frontends of a load balancer whose
    rules do not name the pool, as for an outbound-only pool)."""
    found: dict[tuple[str, str], FrontendAddress] = {}
    for pool_id in pool_ids:
        split = parent_and_child(pool_id)
        lb = world.store.get(split[0]) if split else None
        if lb is None:
            continue
        props = lb.properties
        frontends = {
            str(fe.get("name", "")).lower(): fe for fe in props.get("frontendIPConfigurations") or []
        }
        chosen: set[str] = set()
        for rule in props.get("loadBalancingRules") or []:
            rule_props = rule.get("properties") or {}
            pool_ref = (rule_props.get("backendAddressPool") or {}).get("id", "")
            if str(pool_ref).lower() == pool_id.lower():
                chosen.add(
                    str((rule_props.get("frontendIPConfiguration") or {}).get("id", ""))
                    .rsplit("/", 1)[-1]
                    .lower()
                )
        for name in chosen or set(frontends):
            frontend = frontends.get(name)
            if frontend is None:
                continue
            address = frontend_address(world, lb.meta, frontend)
            if address is not None:
                found[(lb.key, name)] = FrontendAddress(
                    lb.id, str(frontend.get("name")), address[0], address[1]
                )
    return tuple(found.values())


def frontend_address(
    world: World, lb_meta: dict[str, Any], frontend: dict[str, Any]
) -> tuple[str, str] | None:
    """(ARM address, bindable loopback address) of one load-balancer frontend."""
    props = frontend.get("properties") or {}
    public_ref = (props.get("publicIPAddress") or {}).get("id")
    if public_ref:
        pip = world.store.get(str(public_ref))
        ip = pip.properties.get("ipAddress") if pip else None
        return (str(ip), str(ip)) if ip else None
    private = props.get("privateIPAddress")
    alias = (lb_meta.get("aliases") or {}).get(str(frontend.get("name", "")).lower())
    if private and alias:
        return str(private), str(alias)
    return None
