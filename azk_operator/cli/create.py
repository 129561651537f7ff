"""`azk create`: from nothing to a self-managed cluster; safe to re-run (it resumes, or says it is Ready)."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from azk_operator.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    LocalOpt,
    NamespaceOpt,
    OutputOpt,
    azure_failure,
    fail,
    quiet_credential_warnings,
)
from azk_operator.cli.output import Format, emit

if TYPE_CHECKING:
    from azk_operator.create.flow import ConditionRow

# The defaults of `azk create` (the same as create.request's, which the CLI imports only once it runs).
DEFAULT_LOCATION = "eastus"
DEFAULT_VERSION = "v1.37.2"
DEFAULT_VM_SIZE = "Standard_D2s_v5"
DEFAULT_NODE_COUNT = 2


def _interactive(yes: bool) -> bool:
    return not yes and sys.stdin.isatty() and sys.stdout.isatty()


def _ask(value: Any, label: str, default: Any, interactive: bool, kind: type = str) -> Any:
    if value is not None:
        return value
    if interactive:
        return typer.prompt(label, default=default, type=kind)
    return default


class _Display:
    """Steps and the operator's conditions: a live table in a terminal, plain lines otherwise."""

    def __init__(self, live: bool) -> None:
        self.steps: list[tuple[str, str]] = []
        self.rows: list[ConditionRow] = []
        self._last: list[tuple[str, str, str, str]] = []
        self._live: Any = None
        if live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._render(), console=Console(stderr=True), refresh_per_second=4)
            self._live.start()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        steps = Table(show_header=False, box=None)
        for index, (name, message) in enumerate(self.steps):
            mark = "[green]✓[/]" if index < len(self.steps) - 1 else "[yellow]…[/]"
            steps.add_row(mark, name, message)
        conditions = Table("resource", "condition", "status", "reason", "message", box=None)
        for row in self.rows:
            colour = "green" if row.status == "True" else "yellow"
            conditions.add_row(row.resource, row.type, f"[{colour}]{row.status}[/]", row.reason, row.message)
        return Group(steps, conditions) if self.rows else steps

    def step(self, name: str, message: str) -> None:
        self.steps.append((name, message))
        if self._live is not None:
            self._live.update(self._render())
        else:
            typer.echo(f"[{name}] {message}", err=True)

    def conditions(self, rows: list[ConditionRow]) -> None:
        self.rows = rows
        if self._live is not None:
            self._live.update(self._render())
            return
        current = [(r.resource, r.type, r.status, r.reason) for r in rows]
        if current != self._last:
            for row in rows:
                typer.echo(f"  {row.resource} {row.type}={row.status} {row.reason}: {row.message}", err=True)
            self._last = current

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()


def _tags(values: list[str]) -> dict[str, str]:
    tags = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key:
            raise fail(f"--tag: {value!r} is not KEY=VALUE", EXIT_BAD_INPUT)
        tags[key] = tag_value
    return tags


def create(
    name: Annotated[
        str | None, typer.Argument(help="The cluster's name (a DNS label, at most 40 chars).")
    ] = None,
    subscription: Annotated[
        str | None, typer.Option(envvar="AZURE_SUBSCRIPTION_ID", help="Azure subscription id.")
    ] = None,
    resource_group: Annotated[
        str | None, typer.Option(envvar="AZK_RESOURCE_GROUP", help="Resource group (default: NAME-rg).")
    ] = None,
    location: Annotated[str | None, typer.Option(envvar="AZK_LOCATION", help="Azure region.")] = None,
    dns_prefix: Annotated[str | None, typer.Option(help="DNS label of the API endpoint.")] = None,
    kubernetes_version: Annotated[str | None, typer.Option(help="Kubernetes version, e.g. v1.37.2.")] = None,
    control_plane_size: Annotated[str | None, typer.Option(help="VM size of the control plane.")] = None,
    control_plane_count: Annotated[int | None, typer.Option(help="Control-plane VMs: 1, 3 or 5.")] = None,
    node_size: Annotated[str | None, typer.Option(help="VM size of the worker nodes.")] = None,
    node_count: Annotated[int | None, typer.Option(help="Worker nodes.")] = None,
    zone: Annotated[list[str] | None, typer.Option(help="Availability zone (repeatable).")] = None,
    vnet_cidr: Annotated[str | None, typer.Option(help="Virtual network range.")] = None,
    control_plane_subnet_cidr: Annotated[str | None, typer.Option(help="Control-plane subnet.")] = None,
    node_subnet_cidr: Annotated[str | None, typer.Option(help="Worker subnet.")] = None,
    pod_cidr: Annotated[str | None, typer.Option(help="Pod range (outside the vnet).")] = None,
    service_cidr: Annotated[str | None, typer.Option(help="Service range (outside the vnet).")] = None,
    api_server_allowed_cidr: Annotated[
        list[str] | None, typer.Option(help="Source range allowed to reach the API (repeatable).")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="KEY=VALUE tag on every resource (repeatable).")
    ] = None,
    identity: Annotated[
        str, typer.Option(help="Operator identity: ServicePrincipal, WorkloadIdentity or ManagedIdentity.")
    ] = "ServicePrincipal",
    client_id: Annotated[
        str | None, typer.Option(envvar="AZURE_CLIENT_ID", help="The operator identity's client id.")
    ] = None,
    tenant_id: Annotated[str | None, typer.Option(envvar="AZURE_TENANT_ID", help="Entra tenant id.")] = None,
    operator_image: Annotated[
        str, typer.Option(envvar="AZK_OPERATOR_IMAGE", help="Image of the operator Deployment.")
    ] = "azk-operator:0.1.0",
    namespace: NamespaceOpt = None,
    local: LocalOpt = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="No prompts, no confirmation.")] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Print the plan (Azure resources, Kubernetes objects).")
    ] = False,
    render_dir: Annotated[
        Path | None, typer.Option(help="Write every cloud-init document and manifest here (0600 files).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for Ready.")] = 1800.0,
    output: OutputOpt = Format.table,
) -> None:
    """Create a cluster (or resume one, or confirm it is Ready), then hand it to its operator."""
    from azk_operator.create.request import CreateOptions

    interactive = _interactive(yes)
    if local:
        # The emulator's subscription and test identity: the same flow, pointed at this machine. Local mode
        # itself starts only once the input is valid.
        from azk_operator.emulator import DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID, TEST_CLIENT_ID

        subscription, client_id, tenant_id = DEFAULT_SUBSCRIPTION_ID, TEST_CLIENT_ID, DEFAULT_TENANT_ID
    if name is None and not interactive:
        raise fail("NAME: missing (give the cluster's name: azk create NAME)", EXIT_BAD_INPUT)
    name = _ask(name, "Cluster name", "demo", interactive)
    subscription = _ask(subscription, "Subscription id", None, interactive)
    if not subscription:
        raise fail("--subscription: missing (or set AZURE_SUBSCRIPTION_ID)", EXIT_BAD_INPUT)
    resource_group = _ask(resource_group, "Resource group", f"{name}-rg", interactive)
    location = _ask(location, "Location", DEFAULT_LOCATION, interactive)
    dns_prefix = _ask(dns_prefix, "DNS prefix of the API endpoint (empty: none)", "", interactive) or None
    local_env: dict[str, str] = {}
    offered: list[str] | None = None
    if interactive and (control_plane_size is None or node_size is None):
        local_env = _local_env() if local else {}
        offered = _offered_sizes(subscription, location, local_env)
    kubernetes_version = _ask(kubernetes_version, "Kubernetes version", DEFAULT_VERSION, interactive)
    control_plane_size = _ask_size(control_plane_size, "Control-plane VM size", offered, interactive)
    control_plane_count = _ask(control_plane_count, "Control-plane VMs (1, 3 or 5)", 1, interactive, int)
    node_size = _ask_size(node_size, "Worker VM size", offered, interactive)
    node_count = _ask(node_count, "Worker nodes", DEFAULT_NODE_COUNT, interactive, int)
    options = CreateOptions(
        name=name,
        subscription_id=subscription,
        resource_group=resource_group,
        namespace=namespace or "azk-system",
        dns_prefix=dns_prefix,
        zones=tuple(zone or ()),
        vnet_cidr=vnet_cidr,
        control_plane_subnet_cidr=control_plane_subnet_cidr,
        node_subnet_cidr=node_subnet_cidr,
        pod_cidr=pod_cidr,
        service_cidr=service_cidr,
        api_server_allowed_cidrs=tuple(api_server_allowed_cidr or ()),
        tags=_tags(tag or []),
        identity=identity,
        client_id=client_id,
        tenant_id=tenant_id,
        operator_image=operator_image,
        location=location,
        kubernetes_version=kubernetes_version,
        control_plane_size=control_plane_size,
        control_plane_count=control_plane_count,
        node_size=node_size,
        node_count=node_count,
    )
    request = _validated(options)
    if dry_run or render_dir is not None:
        _preview(request, dry_run, render_dir, output)
        return
    if interactive and not typer.confirm(
        f"Create cluster {name} in {request.cluster.spec.azure.resource_group} "
        f"({request.cluster.spec.azure.location})?",
        default=True,
    ):
        raise typer.Exit(EXIT_FAILED)
    if local:
        local_env = local_env or _local_env()
        actual = (
            local_env["AZURE_SUBSCRIPTION_ID"],
            local_env["AZURE_CLIENT_ID"],
            local_env["AZURE_TENANT_ID"],
        )
        if actual != (options.subscription_id, options.client_id, options.tenant_id):
            request = _validated(
                replace(options, subscription_id=actual[0], client_id=actual[1], tenant_id=actual[2])
            )
    _run(request, local, local_env, timeout)


def _offered_sizes(subscription: str, location: str, local_env: dict[str, str]) -> list[str] | None:
    """The VM sizes offered in `location`, to choose from at the prompts; None when they cannot be listed
    (the prompts then take any name, and the checks before the first write say what is wrong)."""
    import asyncio

    from azk_operator.azure.clients import AzureClientFactory
    from azk_operator.azure.settings import AuthMethod, AzureSettings
    from azk_operator.create.checks import first_line, offered_vm_sizes

    async def listed(settings: AzureSettings) -> list[str]:
        async with AzureClientFactory(settings) as azure:
            return await offered_vm_sizes(azure, subscription, location)

    try:
        settings = AzureSettings.from_env({**os.environ, **local_env}, default=AuthMethod.AZURE_CLI)
        quiet_credential_warnings()
        sizes = asyncio.run(listed(settings))
    except Exception as error:  # only a convenience for the prompts: never fatal here
        typer.echo(f"(cannot list the VM sizes of {location}: {first_line(error)})", err=True)
        return None
    if not sizes:
        typer.echo(f"(no VM sizes are offered in {location})", err=True)
        return None
    typer.echo(f"VM sizes offered in {location}: {', '.join(sizes)}", err=True)
    return sizes


def _ask_size(value: str | None, label: str, offered: list[str] | None, interactive: bool) -> str:
    """A VM size: the flag, else (in a terminal) one chosen from those offered, else the default."""
    if value is not None or not interactive or not offered:
        return str(_ask(value, label, DEFAULT_VM_SIZE, interactive))
    by_lower = {size.lower(): size for size in offered}

    def offered_size(answer: str) -> str:
        if answer.lower() not in by_lower:  # typer prints the message and asks again
            raise typer.BadParameter(f"{answer} is not one of the VM sizes offered here")
        return by_lower[answer.lower()]

    chosen: str = typer.prompt(
        label, default=by_lower.get(DEFAULT_VM_SIZE.lower(), offered[0]), value_proc=offered_size
    )
    return chosen


def _validated(options: Any) -> Any:
    """The CreateRequest of `options`, or exit 2 listing every bad flag (before anything touches Azure)."""
    from azk_operator.create.request import InvalidInput, build_request

    try:
        return build_request(options)
    except InvalidInput as error:
        raise fail("invalid input:\n  " + "\n  ".join(error.lines), EXIT_BAD_INPUT) from None


def _local_env() -> dict[str, str]:
    from azk_operator.local.control import LocalModeError, azure_env, up

    try:
        state, started = up()
    except LocalModeError as error:
        raise fail(str(error)) from None
    if started:
        typer.echo(f"local mode started (emulator {state.endpoint})", err=True)
    return azure_env(state)


def _preview(request: Any, dry_run: bool, render_dir: Path | None, output: Format) -> None:
    import datetime

    from azk_operator.bootstrap.tokens import BootstrapToken
    from azk_operator.create.home import ClusterHome
    from azk_operator.create.plan import plan, render

    if dry_run:
        data = plan(request)
        emit(
            data,
            output,
            [
                (
                    "Azure resources",
                    [[r["type"], r["name"], r["createdBy"]] for r in data["azure"]],
                    ["type", "name", "created by"],
                ),
                (
                    "Kubernetes objects",
                    [[o["kind"], o.get("namespace", ""), o["name"]] for o in data["kubernetes"]],
                    ["kind", "namespace", "name"],
                ),
            ],
        )
    if render_dir is not None:
        home = ClusterHome.of(request.name)
        token = BootstrapToken.generate()
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=24)
        endpoint = str(home.settings().get("endpoint", "")).removeprefix("https://") or None
        files = render(request, render_dir, home.pki(), token, expires, endpoint)
        typer.echo(
            f"wrote {len(files)} files (mode 0600; they hold the cluster's keys) to {render_dir}", err=True
        )


def _run(request: Any, local: bool, local_env: dict[str, str], timeout: float) -> None:
    import asyncio

    from azure.core.exceptions import AzureError

    from azk_operator.azure.settings import AuthMethod, AzureSettings, SettingsError
    from azk_operator.create.checks import CredentialsFailed
    from azk_operator.create.first_control_plane import CreateStepFailed
    from azk_operator.create.flow import CreateFailed, Timeouts, create_cluster
    from azk_operator.create.home import ClusterHome
    from azk_operator.create.lookup import ForeignCluster
    from azk_operator.create.request import InvalidInput

    try:
        settings = AzureSettings.from_env({**os.environ, **local_env}, default=AuthMethod.AZURE_CLI)
    except SettingsError as error:
        raise fail(f"Azure credentials: {error}", EXIT_BAD_INPUT) from None
    quiet_credential_warnings()
    home = ClusterHome.of(request.name)
    display = _Display(live=sys.stderr.isatty())
    try:
        result = asyncio.run(
            create_cluster(request, settings, home, display, local=local, timeouts=Timeouts(ready_s=timeout))
        )
    except KeyboardInterrupt:
        display.close()
        raise fail("interrupted: run the same command again to resume", EXIT_INTERRUPTED) from None
    except InvalidInput as error:
        display.close()
        raise fail("invalid input:\n  " + "\n  ".join(error.lines), EXIT_BAD_INPUT) from None
    except (CredentialsFailed, ForeignCluster) as error:
        display.close()
        raise fail(str(error), EXIT_BAD_INPUT) from None
    except (CreateFailed, CreateStepFailed) as error:
        display.close()
        raise fail(f"create failed: {error}\nrun the same command again to resume") from None
    except AzureError as error:
        # Any step may be the first to need a token (the lookup is): a refused credential is named as such.
        display.close()
        raise azure_failure(error, settings, "create", "run the same command again to resume") from None
    display.close()
    if result.already_ready:
        typer.echo(f"cluster {request.name} already exists and is Ready: {result.message}")
    else:
        typer.echo(f"cluster {request.name} is Ready: {result.message}")
    typer.echo(f"kubeconfig: {result.kubeconfig}")
