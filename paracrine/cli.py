"""Command line: ``paracrine simulate|demo|fit|petab …``.

Errors paracrine raises on purpose (bad input, unknown names, failed integrations) are printed
as one line naming what went wrong, with exit status 2; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import sys

from paracrine import __version__
from paracrine.errors import ParacrineError


def build_parser() -> argparse.ArgumentParser:
    from paracrine import _cli_fit, _cli_petab, _cli_simulate

    parser = argparse.ArgumentParser(
        prog="paracrine",
        description="Mechanistic simulator of MSC paracrine IL-6/VEGF signalling in breast "
        "cancer cells: simulate, fit to phospho-blot time courses, interchange with PEtab.",
    )
    parser.add_argument("--version", action="version", version=f"paracrine {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _cli_fit.register(subparsers)
    _cli_simulate.register(subparsers)
    _cli_petab.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ParacrineError as exc:
        print(f"paracrine {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"paracrine {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
