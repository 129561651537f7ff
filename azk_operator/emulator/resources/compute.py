"""Microsoft.Compute handlers: availability sets, virtual machines, VM scale sets and their instances."""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import datetime
import json
import uuid
from typing import Any

from azk_operator.emulator import catalog
from azk_operator.emulator.boot import BootEvent, BootReason, ShutdownEvent, ShutdownReason
from azk_operator.emulator.errors import ArmError, invalid
from azk_operator.emulator.resources.base import ActionFn, ActionResult, GetActionFn, ResourceKind, World
from azk_operator.emulator.resources.common import frontends_for_pools, pool_ids_of, subnet_of
from azk_operator.emulator.store import Record, ResourceStore

VM_TYPE = "Microsoft.Compute/virtualMachines"
VMSS_TYPE = "Microsoft.Compute/virtualMachineScaleSets"
INSTANCE_TYPE = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
MAX_SCALE_SET_CAPACITY = 1000
_POWER_DISPLAY = {"running": "VM running", "stopped": "VM stopped", "deallocated": "VM deallocated"}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")


class ComputeKind(ResourceKind):
    namespace = "Microsoft.Compute"
    patch_is_lro = True

    def new_etag(self, previous: str | None) -> str:
        try:
            counter = int((previous or '"0"').strip('"'))
        except ValueError:
            counter = 0
        return f'"{counter + 1}"'

    def pending_state(self, created: bool) -> str:
        return "Creating" if created else "Updating"


def _size(location: str, name: Any) -> catalog.VmSize:
    size = catalog.size_in(location, str(name or ""))
    if size is None:
        raise invalid(
            f"The requested VM size '{name}' is not available in location '{location}'. "
            "Choose a size from the resource SKU list.",
        )
    return size


def _zones(location: str, zones: Any) -> list[str]:
    if zones is None:
        return []
    offered = catalog.LOCATIONS[location].zones
    if not isinstance(zones, list) or any(str(zone) not in offered for zone in zones):
        raise invalid(f"Zones {zones} are not supported in location '{location}' (offered: {list(offered)}).")
    return [str(zone) for zone in zones]


def _take_secrets(os_profile: dict[str, Any], meta: dict[str, Any]) -> None:
    """customData and passwords are accepted but, as in ARM, never returned."""
    custom = os_profile.pop("customData", None)
    if custom is not None:
        try:
            base64.b64decode(str(custom), validate=True)
        except binascii.Error as exc:
            raise invalid("osProfile.customData must be base64 encoded.") from exc
        meta["custom_data"] = str(custom)
    os_profile.pop("adminPassword", None)


def _decoded(meta: dict[str, Any]) -> bytes | None:
    custom = meta.get("custom_data")
    return base64.b64decode(custom) if custom else None


def vcpus_in_use(store: ResourceStore, subscription: str, location: str, exclude: str = "") -> dict[str, int]:
    """vCPUs per VM family held by VMs and scale-set instances in a location (the compute usages)."""
    used: dict[str, int] = {}
    prefix = f"/subscriptions/{subscription}/".lower()
    for rec in store.records():
        if not rec.key.startswith(prefix) or rec.body.get("location") != location:
            continue
        if exclude and (rec.key == exclude.lower() or rec.key.startswith(exclude.lower() + "/")):
            continue
        if rec.type == VM_TYPE:
            size_name = (rec.properties.get("hardwareProfile") or {}).get("vmSize")
        elif rec.type == INSTANCE_TYPE:
            size_name = (rec.body.get("sku") or {}).get("name")
        else:
            continue
        size = catalog.VM_SIZES.get(str(size_name).lower())
        if size is not None:
            used[size.family] = used.get(size.family, 0) + size.vcpus
    return used


def _check_quota(world: World, record: Record, size: catalog.VmSize, count: int) -> None:
    subscription = record.id.split("/")[2]
    used = vcpus_in_use(world.store, subscription, record.body["location"], exclude=record.id)
    wanted = size.vcpus * count
    if sum(used.values()) + wanted > catalog.REGIONAL_VCPU_LIMIT:
        limit, what = catalog.REGIONAL_VCPU_LIMIT, "Total Regional Cores"
    elif used.get(size.family, 0) + wanted > catalog.FAMILY_VCPU_LIMIT:
        limit, what = catalog.FAMILY_VCPU_LIMIT, f"{size.family} Cores"
    else:
        return
    raise ArmError(
        409,
        "OperationNotAllowed",
        f"Operation could not be completed as it results in exceeding approved {what} quota. "
        f"Location: {record.body['location']}, Current Limit: {limit}, Additional Required: {wanted}.",
    )


def _instance_view(record: Record, computer_name: str) -> dict[str, Any]:
    state = str(record.properties.get("provisioningState", "Succeeded"))
    power = str(record.meta.get("power", "running"))
    return {
        "computerName": computer_name,
        "osName": "ubuntu",
        "osVersion": "24.04",
        "statuses": [
            {
                "code": f"ProvisioningState/{state.lower()}",
                "level": "Info",
                "displayStatus": f"Provisioning {state.lower()}",
            },
            {
                "code": f"PowerState/{power}",
                "level": "Info",
                "displayStatus": _POWER_DISPLAY.get(power, power),
            },
        ],
    }


def _power_actions(apply: str) -> dict[str, ActionFn]:
    """POST start/poweroff/restart/deallocate; body may carry ``instanceIds`` (scale sets)."""

    def make(state: str, restart: bool = False) -> ActionFn:
        def action(world: World, record: Record, body: dict[str, Any]) -> ActionResult:
            args = {"state": state, "instanceIds": body.get("instanceIds"), "restart": restart}
            return ActionResult([{"kind": "call", "id": record.id, "name": apply, "args": args}])

        return action

    return {
        "start": make("running"),
        "poweroff": make("stopped"),
        "restart": make("running", restart=True),
        "deallocate": make("deallocated"),
    }


class AvailabilitySetKind(ComputeKind):
    type_name = "Microsoft.Compute/availabilitySets"
    put_is_lro = False
    patch_is_lro = False
    delete_is_lro = False
    created_status = 200
    in_use_code = "AvailabilitySetInUse"

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        props = record.properties
        record.body.setdefault("sku", {"name": "Aligned"})
        faults = props.setdefault("platformFaultDomainCount", 2)
        updates = props.setdefault("platformUpdateDomainCount", 5)
        if not isinstance(faults, int) or not 1 <= faults <= 3:
            raise invalid("platformFaultDomainCount must be between 1 and 3.")
        if not isinstance(updates, int) or not 1 <= updates <= 20:
            raise invalid("platformUpdateDomainCount must be between 1 and 20.")
        props.pop("virtualMachines", None)

    def view(self, world: World, record: Record) -> dict[str, Any]:
        members = [
            {"id": rec.id}
            for rec in world.store.records()
            if rec.type == VM_TYPE
            and str((rec.properties.get("availabilitySet") or {}).get("id", "")).lower() == record.key
        ]
        return {**record.body, "properties": {**record.properties, "virtualMachines": members}}


class VirtualMachineKind(ComputeKind):
    type_name = VM_TYPE

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        location = record.body["location"]
        props = record.properties
        size = _size(location, (props.get("hardwareProfile") or {}).get("vmSize"))
        record.body["zones"] = _zones(location, record.body.get("zones"))
        nics = (props.get("networkProfile") or {}).get("networkInterfaces") or []
        if not nics:
            raise invalid("networkProfile.networkInterfaces must name at least one network interface.")
        for nic in nics:
            for other in world.store.records():
                if other.type == VM_TYPE and other.key != record.key:
                    other_nics = (other.properties.get("networkProfile") or {}).get("networkInterfaces") or []
                    if any(
                        str(item.get("id", "")).lower() == str(nic.get("id", "")).lower()
                        for item in other_nics
                    ):
                        raise ArmError(
                            409,
                            "NicInUseByAnotherVm",
                            f"Network interface {nic.get('id')} is used by {other.id}.",
                        )
        os_profile = props.setdefault("osProfile", {})
        _take_secrets(os_profile, record.meta)
        if props.get("userData") is not None:
            record.meta["user_data"] = props.pop("userData")
        os_profile.setdefault("computerName", record.meta.get("computer_name") or record.body["name"])
        record.meta["computer_name"] = os_profile["computerName"]
        props.setdefault("vmId", record.meta.setdefault("vm_id", str(uuid.uuid4())))
        props.setdefault("timeCreated", record.meta.setdefault("created", _now()))
        _check_quota(world, record, size, 1)

    def on_succeeded(self, world: World, record: Record, created: bool) -> None:
        if created:
            record.meta["power"] = "running"
            boot(world, record, "created")

    def on_removed(self, world: World, record: Record) -> None:
        shutdown(world, record, "deleted")

    def actions(self) -> dict[str, ActionFn]:
        return _power_actions("power")

    def apply_effect(self, world: World, record: Record, name: str, args: dict[str, Any]) -> None:
        if name == "power":
            set_power(world, record, args["state"], bool(args.get("restart")))
            return
        super().apply_effect(world, record, name, args)

    def get_actions(self) -> dict[str, GetActionFn]:
        return {
            "instanceview": lambda world, record: _instance_view(
                record, str(record.meta.get("computer_name"))
            )
        }


def _profile_fingerprint(body: dict[str, Any], meta: dict[str, Any]) -> str:
    profile = (body.get("properties") or {}).get("virtualMachineProfile") or {}
    return json.dumps([profile, meta.get("custom_data"), (body.get("sku") or {}).get("name")], sort_keys=True)


def _base36(number: int, width: int = 6) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out.rjust(width, "0")


class ScaleSetKind(ComputeKind):
    type_name = VMSS_TYPE
    in_use_code = "InUseScaleSetCannotBeDeleted"

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        location = record.body["location"]
        sku = record.body.get("sku") or {}
        size = _size(location, sku.get("name"))
        capacity = sku.get("capacity", 0)
        if not isinstance(capacity, int) or not 0 <= capacity <= MAX_SCALE_SET_CAPACITY:
            raise invalid(f"sku.capacity must be between 0 and {MAX_SCALE_SET_CAPACITY}.")
        record.body["sku"] = {"name": size.name, "tier": sku.get("tier", "Standard"), "capacity": capacity}
        record.body["zones"] = _zones(location, record.body.get("zones"))
        props = record.properties
        props.setdefault("orchestrationMode", "Uniform")
        mode = str((props.setdefault("upgradePolicy", {})).setdefault("mode", "Manual"))
        if mode.lower() not in ("manual", "automatic", "rolling"):
            raise invalid(f"upgradePolicy.mode {mode!r} is not one of Manual, Automatic, Rolling.")
        profile = props.get("virtualMachineProfile")
        if not isinstance(profile, dict):
            raise invalid("properties.virtualMachineProfile is required.")
        os_profile = profile.setdefault("osProfile", {})
        _take_secrets(os_profile, record.meta)
        os_profile.setdefault("computerNamePrefix", record.body["name"][:9])
        configs = (profile.get("networkProfile") or {}).get("networkInterfaceConfigurations") or []
        if not configs:
            raise invalid("virtualMachineProfile.networkProfile.networkInterfaceConfigurations is required.")
        for config in configs:
            for ip_config in (config.get("properties") or {}).get("ipConfigurations") or []:
                subnet_of(world, str(((ip_config.get("properties") or {}).get("subnet") or {}).get("id", "")))
        props.setdefault("uniqueId", record.meta.setdefault("unique_id", str(uuid.uuid4())))
        props.setdefault("timeCreated", record.meta.setdefault("created", _now()))
        fingerprint = _profile_fingerprint(record.body, record.meta)
        if record.meta.get("fingerprint") != fingerprint:
            record.meta["model"] = int(record.meta.get("model", 0)) + 1
            record.meta["fingerprint"] = fingerprint
        record.meta.setdefault("next_instance", 0)
        _check_quota(world, record, size, capacity)

    def after_commit(self, world: World, record: Record, previous: Record | None) -> None:
        live = [
            rec for rec in _instances(world, record) if rec.properties.get("provisioningState") != "Deleting"
        ]
        capacity = int(record.body["sku"]["capacity"])
        for _ in range(capacity - len(live)):
            self._add_instance(world, record)
        if len(live) > capacity:
            for rec in sorted(live, key=lambda rec: int(rec.body["instanceId"]), reverse=True)[
                : len(live) - capacity
            ]:
                rec.properties["provisioningState"] = "Deleting"
                rec.meta["scale_in"] = True

    def _add_instance(self, world: World, record: Record) -> None:
        instance_id = int(record.meta["next_instance"])
        record.meta["next_instance"] = instance_id + 1
        profile = record.properties["virtualMachineProfile"]
        zones = record.body.get("zones") or []
        computer_name = f"{profile['osProfile']['computerNamePrefix']}{_base36(instance_id)}"
        rid = f"{record.id}/virtualMachines/{instance_id}"
        net_configs = copy.deepcopy(
            (profile.get("networkProfile") or {}).get("networkInterfaceConfigurations") or []
        )
        allocations: list[list[str]] = []
        nics: list[dict[str, Any]] = []
        for config in net_configs:
            for ip_config in (config.get("properties") or {}).get("ipConfigurations") or []:
                subnet_id, prefix = subnet_of(world, str(ip_config["properties"]["subnet"]["id"]))
                allocations.append([subnet_id.lower(), world.pools.allocate(subnet_id.lower(), prefix)])
            nics.append({"id": f"{rid}/networkInterfaces/{config.get('name', 'nic')}"})
        instance = Record(
            id=rid,
            type=INSTANCE_TYPE,
            body={
                "id": rid,
                "name": f"{record.body['name']}_{instance_id}",
                "type": INSTANCE_TYPE,
                "location": record.body["location"],
                "instanceId": str(instance_id),
                "sku": {"name": record.body["sku"]["name"], "tier": record.body["sku"]["tier"]},
                "tags": dict(record.body.get("tags") or {}),
                "properties": {
                    "provisioningState": "Creating",
                    "latestModelApplied": True,
                    "vmId": str(uuid.uuid4()),
                    "timeCreated": _now(),
                    "osProfile": {
                        "computerName": computer_name,
                        "adminUsername": profile["osProfile"].get("adminUsername"),
                    },
                    "storageProfile": copy.deepcopy(profile.get("storageProfile") or {}),
                    "networkProfile": {"networkInterfaces": nics},
                    "networkProfileConfiguration": {"networkInterfaceConfigurations": net_configs},
                },
            },
            meta={
                "model": record.meta["model"],
                "computer_name": computer_name,
                "ips": allocations,
                "power": "running",
                "custom_data": record.meta.get("custom_data"),
            },
        )
        if zones:
            instance.body["zones"] = [zones[instance_id % len(zones)]]
        world.store.put(instance)

    def on_succeeded(self, world: World, record: Record, created: bool) -> None:
        model = int(record.meta["model"])
        upgrade_all = str(record.properties["upgradePolicy"]["mode"]).lower() != "manual"
        for instance in _instances(world, record):
            state = instance.properties.get("provisioningState")
            if state == "Deleting" and instance.meta.get("scale_in"):
                world.store.remove(instance.id)
                world.resource_removed(instance)
                continue
            if upgrade_all:
                instance.meta["model"] = model
            instance.properties["latestModelApplied"] = int(instance.meta["model"]) == model
            if state == "Creating":
                instance.properties["provisioningState"] = "Succeeded"
                boot(world, instance, "created")

    def actions(self) -> dict[str, ActionFn]:
        return {**_power_actions("power"), "delete": _delete_instances, "manualupgrade": _manual_upgrade}

    def apply_effect(self, world: World, record: Record, name: str, args: dict[str, Any]) -> None:
        targets = _select(world, record, args.get("instanceIds"))
        if name == "power":
            for instance in targets:
                set_power(world, instance, args["state"], bool(args.get("restart")))
        elif name == "upgrade":
            for instance in targets:
                instance.meta["model"] = record.meta["model"]
                instance.properties["latestModelApplied"] = True
                instance.properties["provisioningState"] = "Succeeded"
        else:
            super().apply_effect(world, record, name, args)

    def get_actions(self) -> dict[str, GetActionFn]:
        return {"instanceview": _scale_set_view, "networkinterfaces": _scale_set_nics}


def _instances(world: World, record: Record) -> list[Record]:
    return [rec for rec in world.store.under(record.id) if rec.type == INSTANCE_TYPE]


def _select(world: World, record: Record, instance_ids: Any) -> list[Record]:
    instances = _instances(world, record)
    if instance_ids is None:
        return instances
    if not isinstance(instance_ids, list):
        raise invalid("instanceIds must be a list.")
    by_id = {str(rec.body["instanceId"]): rec for rec in instances}
    missing = [str(iid) for iid in instance_ids if str(iid) not in by_id]
    if missing:
        raise invalid(f"Instance ids {missing} are not part of scale set {record.body['name']}.")
    return [by_id[str(iid)] for iid in instance_ids]


def _delete_instances(world: World, record: Record, body: dict[str, Any]) -> ActionResult:
    if not body.get("instanceIds"):
        raise invalid("instanceIds is required.")
    targets = _select(world, record, body["instanceIds"])
    for instance in targets:
        instance.properties["provisioningState"] = "Deleting"
        instance.meta["scale_in"] = True
    record.body["sku"]["capacity"] = max(0, int(record.body["sku"]["capacity"]) - len(targets))
    return ActionResult([{"kind": "remove", "id": instance.id} for instance in targets])


def _manual_upgrade(world: World, record: Record, body: dict[str, Any]) -> ActionResult:
    if not body.get("instanceIds"):
        raise invalid("instanceIds is required.")
    targets = _select(world, record, body["instanceIds"])
    for instance in targets:
        instance.properties["provisioningState"] = "Updating"
    args = {"instanceIds": [instance.body["instanceId"] for instance in targets]}
    return ActionResult([{"kind": "call", "id": record.id, "name": "upgrade", "args": args}])


def _boot_event(world: World, scale_set: Record, instance: Record) -> BootEvent:
    configs = instance.properties["networkProfileConfiguration"]["networkInterfaceConfigurations"]
    ip_configs = [
        ip for config in configs for ip in (config.get("properties") or {}).get("ipConfigurations") or []
    ]
    return BootEvent(
        resource_id=instance.id,
        name=instance.body["name"],
        computer_name=str(instance.meta["computer_name"]),
        location=instance.body["location"],
        vm_size=str(instance.body["sku"]["name"]),
        tags=dict(instance.body.get("tags") or {}),
        custom_data=_decoded(instance.meta),
        private_ips=tuple(address for _, address in instance.meta.get("ips") or []),
        frontends=frontends_for_pools(world, pool_ids_of(ip_configs)),
        scale_set_id=scale_set.id,
        instance_id=str(instance.body["instanceId"]),
        zones=tuple(instance.body.get("zones") or ()),
    )


def _scale_set_view(world: World, record: Record) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for instance in _instances(world, record):
        code = f"ProvisioningState/{str(instance.properties.get('provisioningState', 'Succeeded')).lower()}"
        counts[code] = counts.get(code, 0) + 1
    state = str(record.properties.get("provisioningState", "Succeeded")).lower()
    return {
        "virtualMachine": {
            "statusesSummary": [{"code": code, "count": count} for code, count in counts.items()]
        },
        "statuses": [
            {"code": f"ProvisioningState/{state}", "level": "Info", "displayStatus": f"Provisioning {state}"}
        ],
    }


def _instance_nics(world: World, instance: Record) -> list[dict[str, Any]]:
    nics: list[dict[str, Any]] = []
    addresses = iter(instance.meta.get("ips") or [])
    configs = instance.properties["networkProfileConfiguration"]["networkInterfaceConfigurations"]
    for config, nic_ref in zip(
        configs, instance.properties["networkProfile"]["networkInterfaces"], strict=False
    ):
        ip_configs = []
        for ip_config in (config.get("properties") or {}).get("ipConfigurations") or []:
            _, address = next(addresses, ["", ""])
            props = copy.deepcopy(ip_config.get("properties") or {})
            props.update(
                {
                    "privateIPAddress": address,
                    "privateIPAllocationMethod": "Dynamic",
                    "provisioningState": "Succeeded",
                }
            )
            ip_configs.append(
                {
                    "name": ip_config.get("name"),
                    "id": f"{nic_ref['id']}/ipConfigurations/{ip_config.get('name')}",
                    "properties": props,
                }
            )
        nics.append(
            {
                "id": nic_ref["id"],
                "name": config.get("name"),
                "type": "Microsoft.Network/networkInterfaces",
                "location": instance.body["location"],
                "properties": {
                    "provisioningState": "Succeeded",
                    "primary": (config.get("properties") or {}).get("primary", True),
                    "ipConfigurations": ip_configs,
                    "virtualMachine": {"id": instance.id},
                },
            }
        )
    return nics


def _scale_set_nics(world: World, record: Record) -> dict[str, Any]:
    return {
        "value": [nic for instance in _instances(world, record) for nic in _instance_nics(world, instance)]
    }


class ScaleSetInstanceKind(ComputeKind):
    type_name = INSTANCE_TYPE
    creatable = False

    def on_removed(self, world: World, record: Record) -> None:
        for pool, address in record.meta.get("ips") or []:
            world.pools.release(pool, address)
        scale_set = world.store.get(record.id.rsplit("/", 2)[0])
        if scale_set is not None and not record.meta.get("scale_in"):
            scale_set.body["sku"]["capacity"] = max(0, int(scale_set.body["sku"]["capacity"]) - 1)
        shutdown(world, record, "deleted")

    def check_delete(self, world: World, record: Record) -> None:
        """Deleting one instance lowers its scale set's capacity right away, as in ARM."""
        record.meta["scale_in"] = True
        scale_set = world.store.get(record.id.rsplit("/", 2)[0])
        if scale_set is not None:
            scale_set.body["sku"]["capacity"] = max(0, int(scale_set.body["sku"]["capacity"]) - 1)

    def actions(self) -> dict[str, ActionFn]:
        return _power_actions("power")

    def apply_effect(self, world: World, record: Record, name: str, args: dict[str, Any]) -> None:
        if name == "power":
            set_power(world, record, args["state"], bool(args.get("restart")))
            return
        super().apply_effect(world, record, name, args)

    def get_actions(self) -> dict[str, GetActionFn]:
        return {
            "instanceview": lambda world, record: _instance_view(
                record, str(record.meta.get("computer_name"))
            ),
            "networkinterfaces": lambda world, record: {"value": _instance_nics(world, record)},
        }


# -- machine lifecycle: what the boot handler hears ------------------------------------------------------


def _vm_boot_event(world: World, record: Record) -> BootEvent:
    private: list[str] = []
    pools: list[str] = []
    for nic_ref in (record.properties.get("networkProfile") or {}).get("networkInterfaces", []):
        nic = world.store.get(str(nic_ref["id"]))
        if nic is None:
            continue
        configs = nic.properties.get("ipConfigurations") or []
        private += [
            str(c["properties"]["privateIPAddress"])
            for c in configs
            if c["properties"].get("privateIPAddress")
        ]
        pools += pool_ids_of(configs)
    return BootEvent(
        resource_id=record.id,
        name=record.body["name"],
        computer_name=str(record.meta.get("computer_name")),
        location=record.body["location"],
        vm_size=str(record.properties["hardwareProfile"]["vmSize"]),
        tags=dict(record.body.get("tags") or {}),
        custom_data=_decoded(record.meta),
        private_ips=tuple(private),
        frontends=frontends_for_pools(world, pools),
        zones=tuple(record.body.get("zones") or ()),
    )


def _boot_event_of(world: World, record: Record, reason: BootReason) -> BootEvent | None:
    if record.type == VM_TYPE:
        return dataclasses.replace(_vm_boot_event(world, record), reason=reason)
    scale_set = world.store.get(record.id.rsplit("/", 2)[0])
    if scale_set is None:
        return None
    return dataclasses.replace(_boot_event(world, scale_set, record), reason=reason)


def boot(world: World, record: Record, reason: BootReason) -> None:
    """The machine (a VM or a scale-set instance) runs: tell the boot handler."""
    event = _boot_event_of(world, record, reason)
    if event is not None:
        record.meta["booted"] = True
        world.emit(event)


def shutdown(world: World, record: Record, reason: ShutdownReason) -> None:
    """The machine stopped or went away; only a machine that booted is shut down, and only once."""
    if not record.meta.pop("booted", False):
        return
    is_instance = record.type == INSTANCE_TYPE
    world.emit(
        ShutdownEvent(
            record.id,
            record.body["name"],
            str(record.meta.get("computer_name")),
            scale_set_id=record.id.rsplit("/", 2)[0] if is_instance else None,
            instance_id=str(record.body["instanceId"]) if is_instance else None,
            reason=reason,
        )
    )


def set_power(world: World, record: Record, state: str, restart: bool) -> None:
    """Power actions: stopping shuts the machine down, starting (or restarting) boots it again."""
    was_running = record.meta.get("power", "running") == "running"
    record.meta["power"] = state
    if state != "running":
        shutdown(world, record, "stopped")
    elif restart or not was_running:
        shutdown(world, record, "stopped")
        boot(world, record, "started")


def replay_boots(world: World) -> None:
    """After a restart from saved state, announce every machine that was running, so a boot simulator
    that lost its processes with the old emulator starts them again."""
    for record in world.store.records():
        if record.type in (VM_TYPE, INSTANCE_TYPE) and record.meta.get("booted"):
            event = _boot_event_of(world, record, "restored")
            if event is not None:
                world.emit(event)
