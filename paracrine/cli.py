"""Command line: ``paracrine simulate|demo|fit|petab …``."""

from __future__ import annotations

import argparse
import sys

from paracrine.errors import ParacrineError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paracrine", description=__doc__)
    parser.add_subparsers(dest="command", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ParacrineError as exc:
        print(f"paracrine {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
