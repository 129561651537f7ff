"""`azk operator`: run the in-cluster operator (a Deployment in production, a local process in local mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Run the azk operator.", no_args_is_help=True)


@app.command("run")
def run(
    kubeconfig: Annotated[
        Path | None,
        typer.Option(
            envvar="AZK_KUBECONFIG", help="Kubeconfig of the cluster to manage (default: in-cluster)."
        ),
    ] = None,
    namespace: Annotated[
        list[str] | None,
        typer.Option("--namespace", "-n", envvar="AZK_NAMESPACE", help="Namespace to watch (repeatable)."),
    ] = None,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="Watch every namespace.")
    ] = False,
    standalone: Annotated[
        bool, typer.Option(help="Skip peering (only when exactly one replica can ever run).")
    ] = False,
    liveness: Annotated[
        str | None,
        typer.Option(help="Liveness endpoint, e.g. http://0.0.0.0:8080/healthz (probed by the kubelet)."),
    ] = None,
    priority: Annotated[
        int | None,
        typer.Option(help="Peering priority: of running replicas the highest is active (default: random)."),
    ] = None,
    metrics: Annotated[
        str | None,
        typer.Option(
            help="Serve Prometheus metrics (Azure request counters) at HOST:PORT, e.g. 0.0.0.0:9090."
        ),
    ] = None,
) -> None:
    """Reconcile Cluster, NodeSet, NodePool and AddonManager resources until stopped."""
    import asyncio
    import logging

    import kopf

    from azk_operator.controllers.runtime import OperatorOptions, run_operator

    if all_namespaces == bool(namespace):
        raise typer.BadParameter("give either --namespace or --all-namespaces", param_hint="--namespace")
    if kubeconfig is not None and not kubeconfig.is_file():
        raise typer.BadParameter(f"{kubeconfig} does not exist", param_hint="--kubeconfig")
    if metrics is not None:
        from azk_operator.controllers.metrics import parse_address

        try:
            parse_address(metrics)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--metrics") from None
    options = OperatorOptions(
        kubeconfig=kubeconfig,
        namespaces=tuple(namespace or ()),
        clusterwide=all_namespaces,
        peering=not standalone,
        liveness_endpoint=liveness,
        metrics_address=metrics,
        priority=priority,
    )
    # kopf's INFO lines (handlers, peering pauses) on stderr; the Azure SDK's per-request lines only when
    # something goes wrong, they would drown everything else.
    kopf.configure(verbose=False)
    logging.getLogger("azure").setLevel(logging.WARNING)
    asyncio.run(run_operator(options))
