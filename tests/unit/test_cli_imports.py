"""`azk --help` stays quick because the CLI imports no SDK until a command runs.

A timing assertion would flake on a busy machine; what makes the help slow is known and checkable: the
modules a fresh interpreter holds after loading the app. Each command imports what it needs inside its body.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Top-level packages that cost tens to hundreds of milliseconds each and that no help text needs.
HEAVY = (
    "azure",
    "kubernetes",
    "kopf",
    "aiohttp",
    "cryptography",
    "pydantic",
    "pydantic_core",
    "yaml",
    "asyncio",
    "ssl",
    "azk_operator.api",
    "azk_operator.azure",
    "azk_operator.create",
    "azk_operator.emulator",
    "azk_operator.local",
    "azk_operator.controllers",
)

TYPERS_OWN = frozenset({"pydantic", "pydantic_core"})


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY))


def test_importing_the_app_loads_no_heavy_module() -> None:
    assert heavy_in(modules_after("import azk_operator.cli.main")) == []


def run_app(args: list[str]) -> str:
    return (
        "import sys\n"
        "from azk_operator.cli.main import app\n"
        f"sys.argv = ['azk', *{args!r}]\n"
        "try:\n"
        "    app()\n"
        "except SystemExit:\n"
        "    pass\n"
    )


def test_top_level_help_loads_no_heavy_module() -> None:
    # What `azk --help` does: build every command (their options and type hints) and print the help.
    assert heavy_in(modules_after(run_app(["--help"]))) == []


@pytest.mark.parametrize("args", [["version"], ["create", "--help"], ["local", "status", "--help"]])
def test_a_command_loads_only_what_typer_itself_needs(args: list[str]) -> None:
    # Typer converts a command's parameters with pydantic: that one is Typer's, not the command's.
    heavy = heavy_in(modules_after(run_app(args)))
    assert [m for m in heavy if m.split(".")[0] not in TYPERS_OWN] == []
