"""Config loading (file + env, every error at once), migrations, and dedupe in the database."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils
from pydantic import BaseModel

from server.alerts.store import Store
from server.app.schema import CORE_MIGRATIONS, all_migrations
from server.config import SECTION_MODEL_CONFIG, ServerSection, load_config
from server.db.connection import open_database
from server.db.migrate import MigrationError, migrate, sql_step
from server.errors import ConfigError

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


class SmtpSection(BaseModel):
    model_config = SECTION_MODEL_CONFIG
    host: str = "localhost"
    port: int = 25


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\n[smtp]\nhost = "mail"\n')
    env = {"ALERT_SERVER_SERVER_PORT": "9001", "ALERT_SERVER_SMTP_PORT": "2525"}
    models = {"server": ServerSection, "smtp": SmtpSection}

    config = load_config(path, env, models).with_server(port=9002)

    assert (config.server.host, config.server.port) == ("0.0.0.0", 9002)
    assert config.section("smtp", SmtpSection) == SmtpSection(host="mail", port=2525)


def test_contract_env_names_and_config_path_from_env(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[server]\nport = 8999\n")
    env = {
        "ALERT_SERVER_CONFIG": str(path),
        "ALERT_SERVER_DATA_DIR": str(tmp_path / "d"),
        "ALERT_SERVER_ADMIN_TOKEN": "x" * 20,
    }
    config = load_config(env=env)
    assert config.server.port == 8999
    assert config.data_dir == tmp_path / "d"
    assert config.server.admin_token == "x" * 20


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[server]\nport = "many"\nbogus = 1\n[smpt]\nhost = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(
            path,
            {"ALERT_SERVER_SERVER_INBOUND_BURST": "-1", "ALERT_SERVER_SERVER_LOG_LEVEL": "loud"},
        )
    text = "\n".join(caught.value.problems)
    assert "[server] port" in text
    assert "[server] bogus" in text
    assert "[smpt]: unknown section" in text
    assert "[server] inbound_burst" in text
    assert "[server] log_level" in text


def test_a_broken_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, {})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml", {})


def test_migrations_run_once_and_later_steps_append(tmp_path: Path) -> None:
    db = open_database(tmp_path, CORE_MIGRATIONS)
    extra = sql_step(100, "widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY)")
    try:
        assert migrate(db, CORE_MIGRATIONS) == []
        assert migrate(db, (*CORE_MIGRATIONS, extra)) == [100]
        assert migrate(db, (*CORE_MIGRATIONS, extra)) == []
        assert "widgets" in db.table_names()
        renamed = sql_step(100, "gadgets", "CREATE TABLE gadgets (id INTEGER PRIMARY KEY)")
        with pytest.raises(MigrationError, match="recorded as 'widgets'"):
            migrate(db, (*CORE_MIGRATIONS, renamed))
        with pytest.raises(MigrationError, match="share number 100"):
            migrate(db, (*CORE_MIGRATIONS, extra, renamed))
    finally:
        db.conn.close()


def test_a_failed_step_leaves_no_trace(tmp_path: Path) -> None:
    db = open_database(tmp_path, all_migrations())
    broken = sql_step(101, "half", "CREATE TABLE half (id INTEGER)", "CREATE TABLE nonsense (")
    try:
        with pytest.raises(sqlite3.OperationalError):
            migrate(db, (*CORE_MIGRATIONS, broken))
        assert "half" not in db.table_names()
        numbers = [r["number"] for r in db.query("SELECT number FROM schema_migrations")]
        assert 101 not in numbers
    finally:
        db.conn.close()


def test_database_runs_wal_with_full_sync_and_refuses_a_second_live_alert(tmp_path: Path) -> None:
    store = Store(open_database(tmp_path, all_migrations()))
    try:
        db: sqlite_utils.Database = store.db
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        integration = store.create_integration(name="x", kind="flic", mapping={}, now=NOW)
        insert = """INSERT INTO alerts (integration_id, source_name, source_id, status, title,
                    opened_at, updated_at) VALUES (?, 'desk', '', ?, 't', 'now', 'now')"""
        db.execute(insert, [integration.id, "open"])
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(insert, [integration.id, "acknowledged"])
        db.execute(insert, [integration.id, "closed"])
        db.execute(insert, [integration.id, "closed"])
        counts = store.alert_counts()
        assert counts == {"open": 1, "closed": 2}
    finally:
        store.close()


def test_store_matches_tokens_exactly(tmp_path: Path) -> None:
    store = Store(open_database(tmp_path, all_migrations()))
    try:
        integration = store.create_integration(name="x", kind="flic", mapping={}, now=NOW)
        assert len(integration.token) >= 32
        found = store.find_integration_by_token(integration.token)
        assert found is not None
        assert found.id == integration.id
        assert store.find_integration_by_token(integration.token[:-1]) is None
        assert store.find_integration_by_token(integration.token + "x") is None
        assert store.find_integration_by_token("\udcff") is None
    finally:
        store.close()
