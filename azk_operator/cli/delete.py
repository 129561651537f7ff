"""`azk delete`: delete through the operator, watch Azure until nothing tagged for the cluster is left."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from azk_operator.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    LocalOpt,
    NameArg,
    NamespaceOpt,
    azure_failure,
    fail,
    quiet_credential_warnings,
)


def delete(
    name: NameArg,
    namespace: NamespaceOpt = None,
    local: LocalOpt = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force: Annotated[
        bool,
        typer.Option(help="When the operator cannot finish, delete what is left from outside (Azure layer)."),
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for Azure to hold nothing of the cluster.")
    ] = 1800.0,
) -> None:
    """Delete the cluster and every Azure resource azk made for it."""
    import asyncio

    from azk_operator.api.cluster import Cluster
    from azk_operator.create.home import ClusterHome

    home = ClusterHome.of(name)
    resources = home.resources()
    if not resources:
        raise fail(f"azk has no record of cluster {name} in {home.root}", EXIT_BAD_INPUT)
    cluster = Cluster.model_validate(resources[0])
    if not yes:
        if not sys.stdin.isatty():
            raise fail("refusing to delete without confirmation: pass --yes", EXIT_BAD_INPUT)
        typer.confirm(
            f"Delete cluster {name} and everything in Azure tagged for it "
            f"(resource group {cluster.spec.azure.resource_group})?",
            abort=True,
        )
    env: dict[str, str] = {}
    if local or home.settings().get("local"):
        from azk_operator.local.control import azure_env
        from azk_operator.local.records import read_state

        state = read_state()
        if state is None:
            raise fail("local mode is not running (azk local up); its Azure state went with it")
        env = azure_env(state)
    from azure.core.exceptions import AzureError

    from azk_operator.azure.settings import AuthMethod, AzureSettings, SettingsError

    try:
        settings = AzureSettings.from_env({**os.environ, **env}, default=AuthMethod.AZURE_CLI)
    except SettingsError as error:
        raise fail(f"Azure credentials: {error}", EXIT_BAD_INPUT) from None
    quiet_credential_warnings()
    try:
        asyncio.run(
            _delete(
                home,
                cluster,
                namespace or home.settings().get("namespace"),
                settings,
                force,
                within_s=timeout,
            )
        )
    except AzureError as error:
        raise azure_failure(error, settings, "delete", "run the same command again to go on") from None
    except KeyboardInterrupt:
        raise fail(
            "interrupted: the deletion goes on; run the same command again to follow it", EXIT_INTERRUPTED
        ) from None
    home.remove()
    typer.echo(f"cluster {name} deleted: nothing tagged for it is left in Azure")


async def _delete(
    home: Any, cluster: Any, namespace: str | None, settings: Any, force: bool, within_s: float
) -> None:
    from azk_operator.azure.clients import AzureClientFactory
    from azk_operator.create.delete import DeleteFailed, force_delete, request_delete, wait_until_empty
    from azk_operator.kube.clients import KubeClients

    name = cluster.metadata.name
    reached = False
    kubeconfig = home.kubeconfig()
    if kubeconfig is not None:
        try:
            with KubeClients.from_kubeconfig(kubeconfig) as kube:
                asked = await request_delete(kube, namespace or "azk-system", name)
            reached = True
            typer.echo(
                f"asked the operator to delete Cluster {name}"
                if asked
                else f"Cluster {name} is already gone",
                err=True,
            )
        except Exception as error:  # the API may already be gone with the control plane
            typer.echo(f"the cluster's API does not answer ({type(error).__name__})", err=True)
    last: list[Any] = []

    def report(left: Any) -> None:
        summary = (len(left.resources), left.group_owned_exists)
        if last != [summary]:
            typer.echo(f"  {len(left.resources)} resources tagged for {name} left in Azure", err=True)
            last[:] = [summary]

    async with AzureClientFactory(settings) as azure:
        wait_s = within_s if reached else 0.0
        left = await wait_until_empty(azure, cluster, wait_s, poll_s=2.0, report=report)
        if not left.empty:
            if not force:
                names = ", ".join(left.resources[:5]) or f"resource group {cluster.spec.azure.resource_group}"
                if not reached:
                    raise fail(
                        f"the operator cannot be reached and Azure still holds {names}: "
                        "re-run with --force to remove it from outside"
                    )
                raise fail(f"still in Azure after {within_s:.0f} s: {names}; re-run with --force")
            typer.echo("deleting what is left from outside", err=True)
            try:
                await force_delete(azure, cluster, within_s=within_s)
            except DeleteFailed as error:
                raise fail(f"force delete failed: {error}") from None
            left = await wait_until_empty(azure, cluster, within_s, poll_s=2.0, report=report)
            if not left.empty:
                raise fail(f"still in Azure: {', '.join(left.resources[:5])}")
