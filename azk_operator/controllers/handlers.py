"""Every controller's handlers on one registry, plus the operator-wide state they share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kopf

from azk_operator.controllers import cluster, nodepool, nodeset
from azk_operator.controllers.metrics import MetricsServer
from azk_operator.controllers.state import OperatorState, Timings


def register(registry: kopf.OperatorRegistry, kubeconfig: Path | None, metrics: str | None = None) -> None:
    """Add the startup/cleanup of the shared state (and the metrics endpoint at `metrics`, HOST:PORT)
    and each controller's handlers to `registry`."""
    timings = Timings.from_env()

    @kopf.on.startup(registry=registry)
    async def start(memo: kopf.Memo, **_: Any) -> None:
        memo.state = OperatorState.create(kubeconfig)
        if metrics is not None:
            memo.metrics = MetricsServer(memo.state.azure.accounting, metrics)
            await memo.metrics.start()

    @kopf.on.cleanup(registry=registry)
    async def stop(memo: kopf.Memo, **_: Any) -> None:
        server: MetricsServer | None = memo.get("metrics")
        if server is not None:
            await server.stop()
        state: OperatorState | None = memo.get("state")
        if state is not None:
            await state.close()

    cluster.register(registry, resync_s=timings.resync_s)
    nodeset.register(registry, resync_s=timings.resync_s)
    nodepool.register(registry, resync_s=timings.resync_s)
