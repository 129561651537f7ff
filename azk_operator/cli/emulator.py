"""``azk emulator``: run the ARM emulator standalone (local mode, scripts, manual testing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="emulator", help="The azk ARM emulator (Azure Resource Manager on loopback).", no_args_is_help=True
)


def _write_env_file(path: Path, values: dict[str, str]) -> None:
    """``KEY=value`` lines for the shell or a dotenv loader, replaced atomically."""
    import os

    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    os.replace(tmp, path)


@app.command()
def run(
    host: Annotated[
        str, typer.Option(help="Loopback address to listen on.", envvar="AZK_EMULATOR_HOST")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="HTTPS port (0 picks a free one).", envvar="AZK_EMULATOR_PORT")
    ] = 0,
    state: Annotated[
        Path | None,
        typer.Option(
            help="JSON state file (mode 0600); a restart with the same file loses nothing.",
            envvar="AZK_EMULATOR_STATE",
        ),
    ] = None,
    env_file: Annotated[
        Path | None, typer.Option(help="Write AZK_ARM_ENDPOINT=... and AZK_ARM_CA=... lines to this file.")
    ] = None,
    profile: Annotated[str, typer.Option(help="Latency profile: fast or realistic.")] = "fast",
    scale: Annotated[float, typer.Option(help="Multiply every profile duration by this factor.")] = 1.0,
) -> None:
    """Serve ARM on HTTPS until interrupted; prints the endpoint and the CA to trust."""
    import asyncio
    import ipaddress
    import signal

    from azk_operator.emulator import AsyncArmEmulator, LatencyProfile

    if not ipaddress.ip_address(host).is_loopback:
        raise typer.BadParameter("the emulator only listens on loopback addresses", param_hint="--host")
    try:
        latency = LatencyProfile.by_name(profile, scale)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--profile") from exc

    async def serve() -> None:
        emulator = AsyncArmEmulator(host, port, profile=latency, state_file=state)
        await emulator.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            values = {
                **emulator.env(),
                "AZK_ARM_SUBSCRIPTION_ID": emulator.subscription_id,
                "AZK_ARM_TENANT_ID": emulator.tenant_id,
                "AZK_ARM_MSI_ENDPOINT": emulator.msi_endpoint,
            }
            if env_file is not None:
                _write_env_file(env_file, values)
            for key, value in values.items():
                typer.echo(f"{key}={value}")
            await stop.wait()
        finally:
            await emulator.stop()

    asyncio.run(serve())
