"""Command line of `flic-bridge`: run, press, pair, buttons, outbox, check-config."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bridge.app.runtime import Runtime
from bridge.app.token import bridge_token
from bridge.config import ENV_CONFIG, SEARCH_PATHS, Config, find_config_path, load_config
from bridge.core.outbox import Outbox
from bridge.errors import BridgeError, ConfigError
from bridge.models import ClickType
from bridge.sources.ble.source import pair_ble
from bridge.sources.flicd.pair import pair_with_flicd
from edgecommon.logsetup import LOG_FORMATS, configure_logging
from edgecommon.sdnotify import Notifier
from edgecommon.sqlite_check import SqliteCheckError, quarantine_if_damaged

log = logging.getLogger("bridge")
# Seconds a delivery loop may go without coming round before the watchdog is withheld.
ENV_WEDGED_AFTER = "FLIC_BRIDGE_WEDGED_AFTER_S"


def _load(args: argparse.Namespace) -> tuple[Config, Path | None]:
    path = find_config_path(args.config)
    return load_config(path), path


def _print_problems(path: Path | None, exc: ConfigError) -> None:
    print(f"{path or 'config'}: {len(exc.problems)} problem(s):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)


def cmd_check_config(args: argparse.Namespace) -> int:
    path = find_config_path(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        _print_problems(path, exc)
        return 2
    where = path or "embedded defaults (no config file found)"
    print(
        f"{where}: ok: bridge {config.bridge.name!r}, {len(config.buttons)} button(s),"
        f" {len(config.forward)} forward target(s), listening on {config.listen_url}"
    )
    return 0


def _env_seconds(name: str) -> float | None:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else None
    except ValueError:
        raise BridgeError(f"{name} must be a number of seconds, not {raw!r}") from None


def cmd_run(args: argparse.Namespace) -> int:

    path = find_config_path(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        _print_problems(path, exc)
        return 2
    log.info("config: %s", path or "embedded defaults")
    try:
        quarantine_if_damaged(config.bridge.state_dir / "outbox.sqlite3", datetime.now(UTC))
        runtime = Runtime(
            config,
            notifier=Notifier.from_env(),
            wedged_after_s=_env_seconds(ENV_WEDGED_AFTER),
            reread=lambda: load_config(path),
        )
        uvloop.run(runtime.run())
    except (BridgeError, SqliteCheckError) as exc:
        print(f"flic-bridge: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_press(args: argparse.Namespace) -> int:
    try:
        config, path = _load(args)
    except ConfigError as exc:
        _print_problems(find_config_path(args.config), exc)
        return 2
    token = args.token or bridge_token(config)
    url = (args.url or config.listen_url).rstrip("/") + "/api/press"
    try:
        response = httpx.post(
            url,
            json={"button": args.button, "click": args.click, "drill": args.drill},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        )
    except httpx.HTTPError as exc:
        print(
            f"flic-bridge: cannot reach the bridge at {url} ({exc}); is `flic-bridge run`"
            f" running with config {path or 'defaults'}?",
            file=sys.stderr,
        )
        return 1
    answer = _json_or_text(response)
    if response.status_code != 202:
        error = answer.get("error", answer) if isinstance(answer, dict) else answer
        print(f"flic-bridge: press refused ({response.status_code}): {error}", file=sys.stderr)
        return 1
    state = answer.get("state") or "nothing (click type not mapped)"
    drill = " (drill)" if answer.get("drill") else ""
    print(f"{answer['button']} {answer['click']}{drill} -> {state}; event {answer['event_id']}")
    return 0


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def cmd_buttons(args: argparse.Namespace) -> int:
    config, _ = _load(args)
    live: list[dict[str, Any]] | None = None
    try:
        response = httpx.get(
            config.listen_url + "/api/status",
            headers={"Authorization": f"Bearer {bridge_token(config)}"},
            timeout=3.0,
        )
        if response.is_success:
            live = response.json()["buttons"]
    except (httpx.HTTPError, ValueError, KeyError):
        live = None
    if live is None:
        print("(bridge not running: configured buttons only)")
        live = [
            {"name": b.name, "address": b.address, "configured": True, "connected": None,
             "battery": None, "last_click": None}
            for b in config.buttons
        ]  # fmt: skip
    specs = {b.address: b for b in config.buttons}
    print(f"{'NAME':<20} {'ADDRESS':<18} {'ON':<16} {'OFF':<10} {'CONN':<5} {'BATT':<5} LAST CLICK")
    for b in live:
        spec = specs.get(b["address"])
        on = ",".join(sorted(spec.on)) if spec else "single,hold"
        off = ",".join(sorted(spec.off)) if spec else "double"
        name = b["name"] + ("" if b.get("configured", True) else " (unconfigured)")
        conn = "?" if b["connected"] is None else ("yes" if b["connected"] else "no")
        batt = "" if b["battery"] is None else f"{b['battery']}%"
        last = b["last_click"]
        last_text = "" if not last else f"{last['click_type']} {last['at']}"
        print(f"{name:<20} {b['address']:<18} {on:<16} {off:<10} {conn:<5} {batt:<5} {last_text}")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    config, _ = _load(args)
    db_path = config.bridge.state_dir / "outbox.sqlite3"
    if not db_path.exists():
        print(f"no outbox at {db_path} yet (the bridge has not run with this config)")
        return 0
    outbox = Outbox(db_path)
    now = datetime.now(UTC)
    try:
        if args.action == "retry":
            n = outbox.retry_dead(now, args.target)
            print(
                f"{n} dead row(s) put back in line; the running bridge sends them within a second"
            )
        elif args.action == "purge":
            n = outbox.purge(now, older_than_s=args.older_than_s, dead=args.dead)
            kinds = "delivered and dead" if args.dead else "delivered"
            print(f"{n} {kinds} row(s) removed; pending rows are never purged")
        else:
            rows = outbox.rows(args.state, args.limit)
            if args.json:
                print(json.dumps([_row_json(r) for r in rows], indent=2))
            else:
                stats = outbox.stats(now)
                print(
                    f"pending {stats.pending}, delivered {stats.delivered}, dead {stats.dead}"
                    f" (oldest pending {stats.oldest_age_s or 0:.0f} s)"
                )
                for r in rows:
                    err = f"  {r.last_error}" if r.last_error else ""
                    print(
                        f"{r.created_at:%Y-%m-%d %H:%M:%S} {r.state:<9} {r.button_name:<16}"
                        f" {r.click_type:<7} {r.target:<28} tries {r.attempts} {r.event_id}{err}"
                    )
    finally:
        outbox.close()
    return 0


def _row_json(row: Any) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "target": row.target,
        "state": row.state,
        "attempts": row.attempts,
        "button": row.button_name,
        "address": row.button_address,
        "click_type": row.click_type,
        "source": row.source,
        "queued": row.queued,
        "pressed_at": row.pressed_at.isoformat(),
        "created_at": row.created_at.isoformat(),
        "last_error": row.last_error,
    }


def cmd_pair(args: argparse.Namespace) -> int:
    config, _ = _load(args)
    if args.ble:
        asyncio.run(pair_ble(config.bridge.state_dir, out=print, adapter=config.ble.adapter))
        return 0
    return pair_with_flicd(config.flicd.host, config.flicd.port, timeout_s=args.timeout)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        help=f"TOML config (default: ${ENV_CONFIG}, else the first of "
        f"{', '.join(str(p) for p in SEARCH_PATHS)}, else embedded defaults)",
    )
    common.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    common.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="plain",
        help="plain lines, or one JSON object per line for journald (default plain)",
    )
    parser = argparse.ArgumentParser(
        prog="flic-bridge", description="Flic button presses to durable On/Off webhooks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", parents=[common], help="run the bridge in the foreground")
    press = sub.add_parser("press", parents=[common], help="inject a click via the running bridge")
    press.add_argument("button", help="button name (or address)")
    press.add_argument("click", nargs="?", default="single", choices=[c.value for c in ClickType])
    press.add_argument(
        "--drill", action="store_true", help="a drill: pages as usual, marked DRILL, reported apart"
    )
    press.add_argument("--url", help="bridge base URL (default: the config's listen address)")
    press.add_argument("--token", help="bridge token (default: the config's, or state_dir/token)")
    pair = sub.add_parser("pair", parents=[common], help="pair a new button through flicd")
    pair.add_argument("--ble", action="store_true", help="pair a Flic 2 directly over BLE")
    pair.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    sub.add_parser("buttons", parents=[common], help="list buttons and their state")
    outbox = sub.add_parser("outbox", parents=[common], help="inspect or fix the outbox")
    outbox.add_argument("action", nargs="?", default="list", choices=["list", "retry", "purge"])
    outbox.add_argument("--state", choices=["pending", "delivered", "dead"], help="list only these")
    outbox.add_argument("--limit", type=int, default=50)
    outbox.add_argument("--json", action="store_true", help="list as JSON")
    outbox.add_argument("--target", help="retry only this target")
    outbox.add_argument("--dead", action="store_true", help="purge dead rows too")
    outbox.add_argument("--older-than-s", type=float, default=0.0, help="purge only older rows")
    sub.add_parser("check-config", parents=[common], help="validate the config, list every error")
    return parser


_COMMANDS = {
    "run": cmd_run,
    "press": cmd_press,
    "pair": cmd_pair,
    "buttons": cmd_buttons,
    "outbox": cmd_outbox,
    "check-config": cmd_check_config,
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the subcommand."""
    args = _parser().parse_args(argv)
    configure_logging(args.log_format, getattr(logging, str(args.log_level).upper(), logging.INFO))
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per attempt is noise
    try:
        return _COMMANDS[args.command](args)
    except ConfigError as exc:
        _print_problems(find_config_path(args.config), exc)
        return 2
    except BridgeError as exc:
        print(f"flic-bridge: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
