"""Command line of `alert-server`: `run`, `integration add`, `admin-token`, `backup`, `restore`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
import uvloop

from edgecommon.httplimits import uvicorn_limits
from edgecommon.logsetup import LOG_FORMATS, configure_logging
from edgecommon.sdnotify import Notifier
from server.alerts.store import Store
from server.app import create_app, default_plugins
from server.app.database import database_url, open_configured
from server.app.reload import Reloader
from server.app.schema import all_migrations
from server.app.service import ENV_WEDGED_AFTER, NotifyingServer, serve
from server.auth.admintoken import admin_token_path, resolve_admin_token
from server.board.cli import add_board_link_parser, board_link
from server.config import Config, load_config
from server.context import AppContext, Clock
from server.db.backup import backup, hand_back, quarantine_if_damaged, restore
from server.db.connection import DB_FILENAME
from server.db.migrate import migrate
from server.errors import AlertServerError, ConfigError
from server.inbound.mapping import MappingSpec
from server.integrations.kinds import KINDS, default_sample, parse_mapping_json, resolve_mapping
from server.tls import check_tls, scheme, uvicorn_tls

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alert-server", description="On-premises alerting for Flic buttons."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="TOML config file (env ALERT_SERVER_CONFIG)")
    common.add_argument("--data-dir", help="data directory (env ALERT_SERVER_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common], help="serve in the foreground")
    run.add_argument("--host", help="listen address (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="listen port (default 8380)")
    run.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate ([server] tls_cert)")
    run.add_argument("--tls-key", help="the certificate's PEM private key ([server] tls_key)")
    run.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="plain",
        help="plain lines, or one JSON object per line for journald (default plain)",
    )

    integration = sub.add_parser("integration", help="manage integrations offline")
    isub = integration.add_subparsers(dest="integration_command", required=True)
    add = isub.add_parser("add", parents=[common], help="create an integration, print its URL")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", choices=KINDS, default="flic")
    add.add_argument("--mapping", help="mapping JSON, or @file (required for --kind generic)")
    add.add_argument("--json", action="store_true", help="print a JSON object")
    add.add_argument(
        "--base-url",
        help="the URL senders reach the server at (default [server] public_url, else host:port)",
    )

    sub.add_parser("admin-token", parents=[common], help="print the admin token")
    sub.add_parser("migrate", parents=[common], help="apply the database schema and exit")
    add_board_link_parser(sub, common)

    save = sub.add_parser(
        "backup", parents=[common], help="copy the live database to PATH (online, consistent)"
    )
    save.add_argument("path", help="backup file to write (replaced atomically)")
    load = sub.add_parser(
        "restore", parents=[common], help="replace the database with a backup (stop the server)"
    )
    load.add_argument("path", help="backup file made by `alert-server backup`")
    return parser


def main(argv: list[str] | None = None, *, escalation_clock: Clock | None = None) -> int:
    """Parse the command line and run the subcommand.

    `escalation_clock` replaces the system clock for escalation alone in `run` (steps, retries,
    links, ack timeouts); everything else keeps the system clock.
    """
    args = build_parser().parse_args(argv)
    data_dir: Path | None = None
    try:
        config = load_config(args.config).with_server(
            data_dir=args.data_dir,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            tls_cert=getattr(args, "tls_cert", None),
            tls_key=getattr(args, "tls_key", None),
        )
        data_dir = config.data_dir
        if args.command == "run":

            def reread() -> Config:
                """The config as at startup: file, environment, then the same flags."""
                return load_config(args.config).with_server(
                    data_dir=args.data_dir,
                    host=args.host,
                    port=args.port,
                    tls_cert=args.tls_cert,
                    tls_key=args.tls_key,
                )

            return run(config, args.log_format, reread, escalation_clock=escalation_clock)
        if args.command == "integration":
            return integration_add(config, args)
        if args.command == "board-link":
            return board_link(config, args, base_url(config))
        if args.command == "migrate":
            return migrate_schema(config)
        if args.command in ("backup", "restore"):
            return backup_or_restore(config, args.command, Path(args.path))
        print(resolve_admin_token(config))
        return 0
    except ConfigError as exc:
        print("alert-server: configuration errors:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except AlertServerError as exc:
        print(f"alert-server: {exc}", file=sys.stderr)
        return 1
    finally:
        if data_dir is not None and args.command != "run":
            hand_back(data_dir)  # a sudo'd command must not leave root-owned files behind


def migrate_schema(config: Config) -> int:
    """`alert-server migrate`: bring the schema up to date (as `run` does) and say what it did."""
    db = open_configured(config, ())
    try:
        applied = set(migrate(db, all_migrations()))
        steps = [
            (int(r[0]), str(r[1]))
            for r in db.execute("SELECT number, name FROM schema_migrations ORDER BY number")
        ]
    finally:
        db.close()
    for n, name in steps:
        if n in applied:
            print(f"applied {n} {name}")
    newest = f"{steps[-1][0]} {steps[-1][1]}" if steps else "none"
    url = database_url(config)
    where = config.data_dir / DB_FILENAME if url is None else url.redacted()
    print(f"{where}: schema up to date ({len(steps)} steps, newest {newest}; {len(applied)} now)")
    return 0


def base_url(config: Config) -> str:
    """`[server] public_url`, else the URL of the configured host and port (https with TLS)."""
    if config.server.public_url:
        return config.server.public_url.rstrip("/")
    host = config.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"  # an IPv6 address
    return f"{scheme(config.server)}://{shown}:{config.server.port}"


def integration_add(config: Config, args: argparse.Namespace) -> int:
    # Imported here so `admin-token` stays light.

    if args.base_url and not args.base_url.startswith(("http://", "https://")):
        raise AlertServerError(f"--base-url must start with http:// or https://: {args.base_url}")
    mapping_spec: MappingSpec | None = None
    if args.mapping:
        text = args.mapping
        if text.startswith("@"):
            try:
                text = Path(text[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise AlertServerError(f"cannot read {text[1:]}: {exc.strerror}") from exc
        try:
            mapping_spec = MappingSpec.model_validate(parse_mapping_json(text))
        except ValueError as exc:
            raise AlertServerError(f"invalid --mapping: {exc}") from exc
    try:
        mapping = resolve_mapping(args.kind, mapping_spec)
    except ValueError as exc:
        raise AlertServerError(f"{exc} (give --mapping)") from exc
    store = Store(open_configured(config, all_migrations()))
    try:
        integration = store.create_integration(
            name=args.name,
            kind=args.kind,
            mapping=mapping,
            now=datetime.now(UTC),
            sample_data=default_sample(args.kind),
        )
    finally:
        store.close()
    url = (
        args.base_url.rstrip("/") if args.base_url else base_url(config)
    ) + integration.inbound_path
    if args.json:
        print(
            json.dumps(
                {
                    "id": integration.id,
                    "name": integration.name,
                    "kind": integration.kind,
                    "token": integration.token,
                    "inbound_path": integration.inbound_path,
                    "inbound_url": url,
                    "mapping": integration.mapping,
                }
            )
        )
    else:
        print(integration.inbound_path)
        print(f"# full URL when the server runs with these settings: {url}", file=sys.stderr)
    return 0


def backup_or_restore(config: Config, command: str, path: Path) -> int:
    configure_logging("plain", "WARNING")
    url = database_url(config)
    if url is not None:
        raise AlertServerError(
            f"{command} copies the SQLite database; this server uses PostgreSQL at {url.where}:"
            ' back it up with pg_dump / pgBackRest (README "Scaling out")'
        )
    db_path = config.data_dir / DB_FILENAME
    if command == "backup":
        backup(db_path, path)
        print(f"backed up {db_path} to {path}")
        return 0
    previous = restore(path, db_path, datetime.now(UTC))
    print(f"restored {db_path} from {path}")
    if previous is not None:
        print(f"the previous database is kept as {previous}")
    return 0


def _env_seconds(name: str) -> float | None:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else None
    except ValueError:
        raise AlertServerError(f"{name} must be a number of seconds, not {raw!r}") from None


def run(
    config: Config,
    log_format: str = "plain",
    reread: Callable[[], Config] | None = None,
    *,
    escalation_clock: Clock | None = None,
) -> int:

    configure_logging(log_format, config.server.log_level.upper())
    check_tls(config.server)
    wedged_after_s = _env_seconds(ENV_WEDGED_AFTER)
    if database_url(config) is None:
        quarantine_if_damaged(config.data_dir / DB_FILENAME, datetime.now(UTC))
    app = create_app(config, plugins=default_plugins(escalation_clock=escalation_clock))
    ctx: AppContext = app.state.ctx
    token_where = (
        "ALERT_SERVER_ADMIN_TOKEN / [server] admin_token"
        if config.server.admin_token
        else str(admin_token_path(config.data_dir))
    )
    log.info("alert-server %s data dir %s", base_url(config), config.data_dir.resolve())
    log.info("admin token: %s (or `alert-server admin-token`)", token_where)
    notifier = Notifier.from_env()
    reloader = None if reread is None else Reloader(app, reread, notifier)
    server = NotifyingServer(
        uvicorn.Config(
            app,
            host=config.server.host,
            port=config.server.port,
            access_log=False,
            log_config=None,
            lifespan="on",
            server_header=False,
            **uvicorn_tls(config.server),
            **uvicorn_limits(config.server.http_limits()),
        ),
        notifier,
        exit_hooks=ctx.exit_hooks,
    )
    uvloop.run(
        serve(
            server,
            ctx,
            wedged_after_s=wedged_after_s,
            on_reload=None if reloader is None else reloader.reload,
        )
    )
    return 0
