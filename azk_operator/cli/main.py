"""The root Typer app. Command groups register here; keep imports at module level light (`azk --help`)."""

from __future__ import annotations

import typer

from azk_operator import __version__
from azk_operator.cli import create, delete, emulator, kubeconfig, local, operator, status

app = typer.Typer(
    name="azk",
    help="Self-managed Kubernetes clusters on Azure.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(operator.app, name="operator")
app.add_typer(emulator.app, name="emulator")
app.add_typer(local.app, name="local")
app.command("create")(create.create)
app.command("status")(status.status)
app.command("kubeconfig")(kubeconfig.kubeconfig)
app.command("delete")(delete.delete)


@app.command()
def version() -> None:
    """Print the azk version."""
    typer.echo(f"azk {__version__}")


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
