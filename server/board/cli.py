"""`alert-server board-link`: print a URL that opens the board without a personal login."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from server.board.access import board_link_url, sign_board_link
from server.config import Config, EscalationSection
from server.errors import AlertServerError
from server.escalation.deps import link_secret


def add_board_link_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    cmd = sub.add_parser(
        "board-link",
        parents=[common],
        help="print a link that opens the station board (view and acknowledge only)",
    )
    cmd.add_argument("--days", type=float, help="the link stops working after this many days")
    cmd.add_argument(
        "--base-url",
        help="the URL the board reaches the server at (default [server] public_url, host:port)",
    )


def board_link(config: Config, args: argparse.Namespace, default_base: str) -> int:
    """Sign a board link with the link secret (made in the data dir on first use) and print it."""
    if args.base_url and not args.base_url.startswith(("http://", "https://")):
        raise AlertServerError(f"--base-url must start with http:// or https://: {args.base_url}")
    if args.days is not None and not 0 < args.days <= 36500:
        raise AlertServerError(f"--days must be more than 0 and at most 36500, not {args.days}")
    now = datetime.now(UTC)
    expires_at = None if args.days is None else now + timedelta(days=args.days)
    secret = link_secret(config, config.section("escalation", EscalationSection))
    print(board_link_url(args.base_url or default_base, sign_board_link(secret, now, expires_at)))
    return 0
