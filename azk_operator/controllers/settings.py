"""The operator's kopf settings, each chosen on purpose rather than left at kopf's defaults."""

from __future__ import annotations

import logging
import random

import kopf

GROUP = "engine.azk.io"
FINALIZER = f"{GROUP}/finalizer"
PEERING_NAME = "azk-operator"

# Delays (seconds) between retries of a failed Kubernetes API call made by kopf itself (patches, events).
# Short at first so a restarting apiserver costs little, bounded so a dead one is not hammered.
API_ERROR_BACKOFFS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)


def operator_settings(
    *,
    peering: bool,
    clusterwide: bool,
    priority: int | None = None,
    peering_lifetime_s: float = 60.0,
) -> kopf.OperatorSettings:
    """kopf settings for azk's operator.

    - Finalizer and annotations live under engine.azk.io, so `kubectl get -o yaml` shows whose they are, and
      handler progress lives in annotations (not status), keeping status small and user-facing.
    - Peering: two replicas run, one is active. Priorities are random so a restarted replica does not always
      win; kopf hands over when the active one stops renewing its peering record.
    - Events are posted only for explicit kopf.info/warn/exception calls (each meaningful step and failure),
      not for every log line.
    """
    settings = kopf.OperatorSettings()
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.posting.enabled = True
    settings.posting.loggers = False
    settings.posting.level = logging.INFO
    settings.networking.error_backoffs = API_ERROR_BACKOFFS
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    # Watches are re-established every few minutes even when the apiserver keeps them open, so a silently
    # broken connection (a control-plane VM that went away under a load balancer) costs little.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.peering.name = PEERING_NAME
    settings.peering.standalone = not peering
    settings.peering.clusterwide = clusterwide
    settings.peering.mandatory = peering
    settings.peering.priority = priority if priority is not None else random.randint(1, 1_000_000)  # noqa: S311
    settings.peering.lifetime = round(peering_lifetime_s)
    return settings
