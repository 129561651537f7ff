"""Options and helpers shared by the cluster commands (kept free of heavy imports)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from azk_operator.cli.output import Format

CLUSTER_NAME_MAX_LENGTH = 40


def _cluster_name(value: str) -> str:
    """NAME names a folder under AZK_HOME and Azure resources: refuse what the API would (and `..`)."""
    import re

    from azk_operator.api.types import DNS_LABEL_PATTERN

    if len(value) > CLUSTER_NAME_MAX_LENGTH or not re.fullmatch(DNS_LABEL_PATTERN, value):
        raise typer.BadParameter(
            f"{value!r} is not a cluster name: at most {CLUSTER_NAME_MAX_LENGTH} lower-case letters, digits "
            "and '-', starting and ending with a letter or digit",
            param_hint="NAME",
        )
    return value


NameArg = Annotated[
    str,
    typer.Argument(
        help="The cluster's name (a DNS label of at most 40 characters).",
        callback=_cluster_name,
    ),
]
NamespaceOpt = Annotated[
    str | None,
    typer.Option("--namespace", "-n", envvar="AZK_NAMESPACE", help="Namespace of the cluster's resources."),
]
OutputOpt = Annotated[Format, typer.Option("--output", "-o", help="Output format.")]
KubeconfigOpt = Annotated[
    Path | None,
    typer.Option(envvar="AZK_KUBECONFIG", help="Admin kubeconfig (default: the one `azk create` wrote)."),
]
LocalOpt = Annotated[
    bool, typer.Option("--local", help="Use local mode (the ARM emulator and VM simulator on this machine).")
]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print `message` to stderr and return the Exit to raise."""
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def azure_failure(error: BaseException, settings: Any, action: str, hint: str) -> typer.Exit:
    """The exit for an Azure error during `action`: refused credentials named as such (bad input, the
    credentials tried and never their values), anything else in one line with what to do next."""
    from azk_operator.create.checks import credentials_failure, first_line

    refused = credentials_failure(error, settings)
    if refused is not None:
        return fail(str(refused), EXIT_BAD_INPUT)
    return fail(f"{action} failed: Azure answered {type(error).__name__}: {first_line(error)}\n{hint}")


def quiet_credential_warnings() -> None:
    """azure-identity logs each refused credential as a warning; the CLI says it once, naming the method."""
    import logging

    logging.getLogger("azure.identity").setLevel(logging.ERROR)
