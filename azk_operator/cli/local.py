"""`azk local up|down|status`: the emulator, the VM boot simulator and local operator runners in the
background, so `azk create --local` needs no Azure subscription."""

from __future__ import annotations

from typing import Annotated

import typer

from azk_operator.cli.common import OutputOpt, fail
from azk_operator.cli.output import Format, emit

app = typer.Typer(help="Local mode: Azure and VMs emulated on this machine.", no_args_is_help=True)


@app.command()
def up(
    profile: Annotated[str, typer.Option(help="Emulator latency profile: fast or realistic.")] = "fast",
    scale: Annotated[float, typer.Option(help="Multiply every emulated duration by this.")] = 1.0,
    output: OutputOpt = Format.table,
) -> None:
    """Start local mode in the background (no-op when it runs)."""
    from dataclasses import asdict

    from azk_operator.local.control import LocalModeError
    from azk_operator.local.control import up as start

    if profile not in ("fast", "realistic"):
        raise fail("--profile: expected fast or realistic", 2)
    try:
        state, started = start(profile=profile, scale=scale)
    except LocalModeError as error:
        raise fail(str(error)) from None
    data = {"started": started, **asdict(state)}
    emit(
        data, output, [("local mode " + ("started" if started else "already running"), _rows(data), ["", ""])]
    )


@app.command()
def down() -> None:
    """Stop local mode: operator runners, emulated control planes and the emulator."""
    from azk_operator.local.control import down as stop

    stopped = stop()
    typer.echo("local mode stopped" if stopped else "local mode was not running")


@app.command()
def status(output: OutputOpt = Format.table) -> None:
    """Whether local mode runs, where, and which clusters' operators it runs."""
    from dataclasses import asdict

    from azk_operator.local.records import read_state

    state = read_state()
    if state is None:
        emit({"running": False}, output, [("local mode is not running", [], ["", ""])])
        raise typer.Exit(3)
    data = {"running": True, **asdict(state)}
    emit(data, output, [("local mode is running", _rows(data), ["", ""])])


def _rows(data: dict[str, object]) -> list[list[str]]:
    return [[key, str(value)] for key, value in data.items()]
