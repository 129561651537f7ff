"""Azure providerIDs of scale-set VMs, as cloud-provider-azure writes them into `Node.spec.providerID`.

Format: `azure:///subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/
virtualMachineScaleSets/<vmss>/virtualMachines/<instanceId>`. cloud-provider-azure lowercases the resource
group (and other parts vary in case between Azure API versions), while ARM treats resource ids
case-insensitively; so ids are compared case-folded, never as written.
"""

from __future__ import annotations

AZURE_SCHEME = "azure://"


def vmss_instance_provider_id(
    subscription_id: str, resource_group: str, vmss_name: str, instance_id: str
) -> str:
    """The providerID cloud-provider-azure gives the Node of one VM scale set instance."""
    return (
        f"{AZURE_SCHEME}/subscriptions/{subscription_id}/resourceGroups/{resource_group.lower()}"
        f"/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss_name}/virtualMachines/{instance_id}"
    )


def provider_id_key(provider_id: str) -> str:
    """A comparison key: equal for two spellings of the same Azure resource."""
    return provider_id.strip().rstrip("/").casefold()


def same_provider_id(left: str, right: str) -> bool:
    return provider_id_key(left) == provider_id_key(right)
