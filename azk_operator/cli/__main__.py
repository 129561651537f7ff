"""`python -m azk_operator.cli`: the `azk` command without relying on the console script being on PATH."""

from azk_operator.cli.main import run

run()
