"""Command line of `flic-bridge` (skeleton: subcommands land with their issues)."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the subcommand."""
    parser = argparse.ArgumentParser(prog="flic-bridge")
    parser.add_subparsers(dest="command", required=True)
    parser.parse_args(argv)
    return 0
