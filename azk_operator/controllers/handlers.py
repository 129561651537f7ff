"""Every controller's handlers on one registry, plus the operator-wide state they share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kopf

from azk_operator.controllers import cluster, nodepool, nodeset
from azk_operator.controllers.state import OperatorState, Timings


def register(registry: kopf.OperatorRegistry, kubeconfig: Path | None) -> None:
    """Add the startup/cleanup of the shared state and each controller's handlers to `registry`."""
    timings = Timings.from_env()

    @kopf.on.startup(registry=registry)
    async def start(memo: kopf.Memo, **_: Any) -> None:
        memo.state = OperatorState.create(kubeconfig)

    @kopf.on.cleanup(registry=registry)
    async def stop(memo: kopf.Memo, **_: Any) -> None:
        state: OperatorState | None = memo.get("state")
        if state is not None:
            await state.close()

    cluster.register(registry, resync_s=timings.resync_s)
    nodeset.register(registry, resync_s=timings.resync_s)
    nodepool.register(registry, resync_s=timings.resync_s)
