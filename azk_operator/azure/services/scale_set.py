"""VM scale set (Uniform orchestration, Manual upgrade policy) and its instances.

A scale set's model (size, image) never changes after creation: a NodeSet whose VMs need to differ is a
new scale set. After creation azk manages only the capacity, the upgrade policy (always Manual: azk rolls
nodes itself), its tags and the model's customData, and sends a PATCH with just the fields that differ.

customData changes when the document new VMs boot from changes (the first control-plane document becomes
the join document; the cluster rotates its bootstrap token). ARM never returns customData, so its SHA-256
is kept in the tag ``azk.io_custom-data-hash`` and the model's customData is PATCHed only when that hash
differs. Existing instances keep booting from what they booted with: Manual mode never reimages them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from azure.core.polling import AsyncLROPoller
from azure.mgmt.compute.models import (
    ApiEntityReference,
    ImageReference,
    LinuxConfiguration,
    Sku,
    SshConfiguration,
    SshPublicKey,
    SubResource,
    UpgradePolicy,
    VirtualMachineScaleSet,
    VirtualMachineScaleSetIPConfiguration,
    VirtualMachineScaleSetManagedDiskParameters,
    VirtualMachineScaleSetNetworkConfiguration,
    VirtualMachineScaleSetNetworkProfile,
    VirtualMachineScaleSetOSDisk,
    VirtualMachineScaleSetOSProfile,
    VirtualMachineScaleSetStorageProfile,
    VirtualMachineScaleSetUpdate,
    VirtualMachineScaleSetUpdateOSProfile,
    VirtualMachineScaleSetUpdateVMProfile,
    VirtualMachineScaleSetVM,
    VirtualMachineScaleSetVMInstanceRequiredIDs,
    VirtualMachineScaleSetVMProfile,
)

from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.errors import ErrorKind, classify
from azk_operator.azure.lro import Pending, StepPolling
from azk_operator.azure.results import StepResult, StepState
from azk_operator.azure.services.base import AzureFailure, LroResource, lowered
from azk_operator.azure.tags import is_owned, tags_differ

MANUAL = "Manual"
CUSTOM_DATA_HASH_TAG = "azk.io_custom-data-hash"


def custom_data_hash(custom_data: str) -> str:
    """The tag value recording which customData the model carries (a digest: the document holds secrets)."""
    return hashlib.sha256(custom_data.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class ImageSpec:
    publisher: str
    offer: str
    sku: str
    version: str = "latest"


@dataclass(frozen=True)
class ScaleSetSpec:
    name: str
    location: str
    vm_size: str
    capacity: int
    subnet_id: str
    image: ImageSpec
    admin_username: str
    ssh_public_key: str
    computer_name_prefix: str
    # base64 cloud-init: carries bootstrap secrets, so it never appears in a repr.
    custom_data: str | None = field(default=None, repr=False)
    zones: tuple[str, ...] = ()
    backend_pool_ids: tuple[str, ...] = ()
    os_disk_size_gb: int | None = None


@dataclass(frozen=True)
class ScaleSetInstance:
    instance_id: str
    computer_name: str | None
    provisioning_state: str
    latest_model_applied: bool
    zone: str | None
    private_ip: str | None = None
    created: datetime | None = None


def _upgrade_mode(model: VirtualMachineScaleSet) -> str:
    policy = model.upgrade_policy
    return lowered(policy.mode if policy else None)


class ScaleSet(LroResource[VirtualMachineScaleSet]):
    kind = "VM scale set"

    def __init__(
        self,
        clients: SubscriptionClients,
        *,
        cluster: str,
        resource_group: str,
        spec: ScaleSetSpec,
        tags: Mapping[str, str] | None = None,
        step: str | None = None,
    ) -> None:
        if spec.custom_data is not None:
            tags = {**(tags or {}), CUSTOM_DATA_HASH_TAG: custom_data_hash(spec.custom_data)}
        super().__init__(
            clients, cluster=cluster, resource_group=resource_group, name=spec.name, step=step, tags=tags
        )
        self.spec = spec

    async def get(self) -> VirtualMachineScaleSet:
        return await self.clients.compute.virtual_machine_scale_sets.get(self.resource_group, self.name)

    def _new_model(self) -> VirtualMachineScaleSet:
        spec = self.spec
        ip_configuration = VirtualMachineScaleSetIPConfiguration(name="ipconfig")
        ip_configuration.subnet = ApiEntityReference(id=spec.subnet_id)
        ip_configuration.primary = True
        if spec.backend_pool_ids:
            ip_configuration.load_balancer_backend_address_pools = [
                SubResource(id=pool) for pool in spec.backend_pool_ids
            ]
        os_disk = VirtualMachineScaleSetOSDisk(
            create_option="FromImage",
            caching="ReadWrite",
            managed_disk=VirtualMachineScaleSetManagedDiskParameters(storage_account_type="Premium_LRS"),
            disk_size_gb=spec.os_disk_size_gb,
        )
        nic = VirtualMachineScaleSetNetworkConfiguration(name="nic")
        nic.primary = True
        nic.ip_configurations = [ip_configuration]
        model = VirtualMachineScaleSet(
            location=spec.location,
            sku=Sku(name=spec.vm_size, tier="Standard", capacity=spec.capacity),
            zones=list(spec.zones) or None,
        )
        model.orchestration_mode = "Uniform"
        model.overprovision = False
        model.upgrade_policy = UpgradePolicy(mode=MANUAL)
        model.virtual_machine_profile = VirtualMachineScaleSetVMProfile(
            os_profile=VirtualMachineScaleSetOSProfile(
                computer_name_prefix=spec.computer_name_prefix,
                admin_username=spec.admin_username,
                custom_data=spec.custom_data,
                linux_configuration=LinuxConfiguration(
                    disable_password_authentication=True,
                    ssh=SshConfiguration(
                        public_keys=[
                            SshPublicKey(
                                path=f"/home/{spec.admin_username}/.ssh/authorized_keys",
                                key_data=spec.ssh_public_key,
                            )
                        ]
                    ),
                ),
            ),
            storage_profile=VirtualMachineScaleSetStorageProfile(
                image_reference=ImageReference(
                    publisher=spec.image.publisher,
                    offer=spec.image.offer,
                    sku=spec.image.sku,
                    version=spec.image.version,
                ),
                os_disk=os_disk,
            ),
            network_profile=VirtualMachineScaleSetNetworkProfile(network_interface_configurations=[nic]),
        )
        return model

    def build(self, base: VirtualMachineScaleSet | None) -> VirtualMachineScaleSet:
        if base is None:
            return self._new_model()
        base.sku = Sku(
            name=base.sku.name if base.sku else self.spec.vm_size,
            tier=base.sku.tier if base.sku else None,
            capacity=self.spec.capacity,
        )
        base.upgrade_policy = UpgradePolicy(mode=MANUAL)
        return base

    def view(self, model: VirtualMachineScaleSet) -> object:
        return (model.sku.capacity if model.sku else None, _upgrade_mode(model))

    def patch(self, existing: VirtualMachineScaleSet) -> VirtualMachineScaleSetUpdate:
        """Only the managed fields that differ: capacity, upgrade policy, customData, tags."""
        update = VirtualMachineScaleSetUpdate()
        if self.spec.custom_data is not None and self._custom_data_differs(existing):
            update.virtual_machine_profile = VirtualMachineScaleSetUpdateVMProfile(
                os_profile=VirtualMachineScaleSetUpdateOSProfile(custom_data=self.spec.custom_data)
            )
        current_capacity = existing.sku.capacity if existing.sku else None
        if current_capacity != self.spec.capacity:
            update.sku = Sku(capacity=self.spec.capacity)
        if _upgrade_mode(existing) != MANUAL.lower():
            update.upgrade_policy = UpgradePolicy(mode=MANUAL)
        if tags_differ(existing.tags, self.tags):
            update.tags = self.desired(existing).tags
        return update

    def _custom_data_differs(self, existing: VirtualMachineScaleSet) -> bool:
        recorded = {name.lower(): value for name, value in (existing.tags or {}).items()}
        return recorded.get(CUSTOM_DATA_HASH_TAG.lower()) != self.tags[CUSTOM_DATA_HASH_TAG]

    async def begin_write(
        self,
        desired: VirtualMachineScaleSet,
        existing: VirtualMachineScaleSet | None,
        polling: StepPolling,
        token: str | None,
    ) -> AsyncLROPoller[VirtualMachineScaleSet]:
        operations = self.clients.compute.virtual_machine_scale_sets
        if existing is None or token is not None:
            return await operations.begin_create_or_update(
                self.resource_group, self.name, desired, polling=polling, continuation_token=token
            )
        return await operations.begin_update(
            self.resource_group, self.name, self.patch(existing), polling=polling
        )

    async def begin_delete(self, polling: StepPolling, token: str | None) -> AsyncLROPoller[None]:
        return await self.clients.compute.virtual_machine_scale_sets.begin_delete(
            self.resource_group, self.name, polling=polling, continuation_token=token
        )

    # --- instances ------------------------------------------------------------------------------------------
    async def list_instances(self, *, with_private_ips: bool = False) -> list[ScaleSetInstance]:
        """One paged list call (plus one for the NICs when ``with_private_ips``)."""
        vms: list[VirtualMachineScaleSetVM] = [
            vm
            async for vm in self.clients.compute.virtual_machine_scale_set_vms.list(
                self.resource_group, self.name
            )
        ]
        ips = await self._private_ips() if with_private_ips else {}
        return [
            ScaleSetInstance(
                instance_id=str(vm.instance_id),
                computer_name=vm.os_profile.computer_name if vm.os_profile else None,
                provisioning_state=str(vm.provisioning_state or ""),
                latest_model_applied=bool(vm.latest_model_applied),
                zone=vm.zones[0] if vm.zones else None,
                private_ip=ips.get(str(vm.instance_id)),
                created=vm.properties.time_created if vm.properties else None,
            )
            for vm in vms
        ]

    async def _private_ips(self) -> dict[str, str]:
        ips: dict[str, str] = {}
        nics = self.clients.network.network_interfaces.list_virtual_machine_scale_set_network_interfaces(
            self.resource_group, self.name
        )
        async for nic in nics:
            vm_id = nic.virtual_machine.id if nic.virtual_machine else None
            primary = next(iter(nic.ip_configurations or []), None)
            if vm_id and primary is not None and primary.private_ip_address:
                ips[vm_id.rstrip("/").rsplit("/", 1)[-1]] = primary.private_ip_address
        return ips

    async def delete_instances(self, instance_ids: Sequence[str], token: str | None = None) -> StepResult:
        """Delete the chosen instances (one POST for all of them); instances already gone count as done."""
        step = f"{self.step}:delete-instances"
        lro = self.clients.lro
        operations = self.clients.compute.virtual_machine_scale_sets
        if token:
            try:
                progress = await lro.advance(
                    lambda polling: operations.begin_delete_instances(
                        self.resource_group,
                        self.name,
                        VirtualMachineScaleSetVMInstanceRequiredIDs(instance_ids=list(instance_ids)),
                        polling=polling,
                        continuation_token=token,
                    )
                )
            except ValueError:
                progress = None
            except AzureFailure as error:
                verdict = classify(error, operation="delete")
                if verdict.kind is not ErrorKind.DONE:
                    return StepResult.from_error(step, verdict)
                progress = None
            if isinstance(progress, Pending):
                return StepResult.in_progress(step, "Deleting", progress.retry_after, token=progress.token)
        observed = await self.observe()
        if isinstance(observed, StepResult):
            return observed
        if observed is None:
            return StepResult.deleted(step)
        if not is_owned(observed.tags, self.cluster):
            return StepResult(
                step,
                StepState.FAILED,
                "ResourceNotOwned",
                f"{self.kind} {self.name} is not owned by azk; its instances are left alone",
            )
        try:
            present = {i.instance_id: lowered(i.provisioning_state) for i in await self.list_instances()}
        except AzureFailure as error:
            return StepResult.from_error(step, classify(error, operation="read"))
        chosen = [instance for instance in instance_ids if instance in present]
        wanted = [instance for instance in chosen if present[instance] != "deleting"]
        if not wanted:
            if chosen:  # all of them are already being deleted (by us, token lost, or by someone else)
                return StepResult.in_progress(step, "Deleting", lro.interval)
            return StepResult.deleted(step)
        try:
            started = await lro.start(
                lambda polling: operations.begin_delete_instances(
                    self.resource_group,
                    self.name,
                    VirtualMachineScaleSetVMInstanceRequiredIDs(instance_ids=wanted),
                    polling=polling,
                )
            )
        except AzureFailure as error:
            return StepResult.from_error(step, classify(error, operation="delete"))
        if isinstance(started, Pending):
            return StepResult.in_progress(step, "Deleting", started.retry_after, token=started.token)
        return StepResult.deleted(step)
