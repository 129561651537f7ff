"""The operator's Prometheus endpoint: what azk sent to Azure, by category, resource type and outcome.

Throttling is the complaint users of Azure tooling have most; these counters are how an operator of azk
sees, per cluster process, how many reads, writes and deletes it spends and how many came back 429.
"""

from __future__ import annotations

from aiohttp import web

from azk_operator.azure.accounting import AccountingSnapshot, RequestAccounting

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REQUESTS_METRIC = "azk_azure_requests_total"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(snapshot: AccountingSnapshot) -> str:
    """The counters in Prometheus' text exposition format."""
    lines = [
        f"# HELP {REQUESTS_METRIC} Requests sent to Azure Resource Manager (every attempt on the wire).",
        f"# TYPE {REQUESTS_METRIC} counter",
    ]
    for key, value in snapshot:
        labels = (
            f'category="{_label(key.category)}",resource_type="{_label(key.resource_type)}",'
            f'outcome="{_label(key.outcome)}"'
        )
        lines.append(f"{REQUESTS_METRIC}{{{labels}}} {value}")
    return "\n".join(lines) + "\n"


def parse_address(address: str) -> tuple[str, int]:
    """`HOST:PORT` (e.g. 0.0.0.0:9090) -> (host, port); raises ValueError naming what is wrong."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT such as 0.0.0.0:9090, got {address!r}")
    return host.strip("[]"), int(port)


class MetricsServer:
    """`GET /metrics` on one address, for as long as the operator runs."""

    def __init__(self, accounting: RequestAccounting, address: str) -> None:
        self._accounting = accounting
        self._host, self._port = parse_address(address)
        self._runner: web.AppRunner | None = None

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(text=render(self._accounting.snapshot()), headers={"Content-Type": CONTENT_TYPE})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
