"""`azk kubeconfig`: write the cluster's admin kubeconfig (mode 0600)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from azk_operator.cli.common import NameArg, fail


def kubeconfig(
    name: NameArg,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Where to write it (default: ./NAME.kubeconfig).")
    ] = None,
) -> None:
    """Write the admin kubeconfig `azk create` made for the cluster; prints its path."""
    from azk_operator.bootstrap.files import write_secret_file
    from azk_operator.create.home import ClusterHome

    home = ClusterHome.of(name)
    source = home.kubeconfig()
    if source is None:
        raise fail(
            f"unknown cluster {name}: azk holds no kubeconfig for it in {home.root} "
            f"(create it first: azk create {name})"
        )
    target = file or Path(f"{name}.kubeconfig")
    if target.resolve() != source.resolve():
        write_secret_file(target, source.read_bytes())
    typer.echo(str(target))
