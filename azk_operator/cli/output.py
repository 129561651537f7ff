"""`-o table|json|yaml` for commands whose output is data."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import typer


class Format(enum.StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def emit(data: Any, fmt: Format, table: Sequence[tuple[str, Sequence[Sequence[str]], Sequence[str]]]) -> None:
    """Print `data` as JSON/YAML, or the given tables (title, rows, headers) as aligned text."""
    if fmt is Format.json:
        import json

        typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
        return
    if fmt is Format.yaml:
        import yaml

        typer.echo(yaml.safe_dump(data, sort_keys=False).rstrip())
        return
    for index, (title, rows, headers) in enumerate(table):
        if index:
            typer.echo("")
        if title:
            typer.echo(title)
        body = format_table(headers, rows)
        if body:
            typer.echo(body)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(str(cell))) for w, cell in zip(widths, row, strict=False)]
    lines = []
    if any(headers):  # key/value tables have no header line
        lines.append("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    return "\n".join(lines)
