"""`flic-bridge` commands as a user types them: outbox, pair, press, buttons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.core.outbox import Outbox
from bridge.models import ClickType
from tests.e2e.programs import cli
from tests.support.flicd_sim import SimThread
from tests.support.procs import free_port

from .factories import T0, click


def write_config(tmp_path: Path, *, flicd_port: int = 5551) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(
        f'[bridge]\nstate_dir = "{tmp_path / "state"}"\nlisten = "127.0.0.1:{free_port()}"\n'
        f'token = "cli-test-token"\n[flicd]\nport = {flicd_port}\n'
        '[[button]]\naddress = "80:e4:da:71:23:45"\nname = "front-desk"\n'
    )
    return path


def test_outbox_list_retry_and_purge(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    box = Outbox.in_state_dir(tmp_path / "state")
    for n in range(3):
        box.enqueue(
            click(event_id=f"e{n}", kind=ClickType.DOUBLE), {"event_id": f"e{n}"}, ["hook"], T0
        )
    (e0,) = box.due("hook", T0)
    box.mark_dead(e0.seq, "hook", T0, "HTTP 404: no such integration")
    (e1,) = box.due("hook", T0)
    box.mark_delivered(e1.seq, "hook", T0)
    box.close()

    listing = cli("outbox", "list", "--config", str(config), cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "pending 1, delivered 1, dead 1" in listing.stdout
    assert "HTTP 404: no such integration" in listing.stdout

    dead = json.loads(
        cli("outbox", "--state", "dead", "--json", "--config", str(config), cwd=tmp_path).stdout
    )
    assert [(r["event_id"], r["state"]) for r in dead] == [("e0", "dead")]

    retried = cli("outbox", "retry", "--config", str(config), cwd=tmp_path)
    assert "1 dead row(s) put back" in retried.stdout
    purged = cli("outbox", "purge", "--config", str(config), cwd=tmp_path)
    assert "1 delivered row(s) removed" in purged.stdout

    after = json.loads(cli("outbox", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert sorted((r["event_id"], r["state"]) for r in after) == [
        ("e0", "pending"),
        ("e2", "pending"),
    ]


@pytest.fixture
def flicd() -> Iterator[SimThread]:
    sim = SimThread()
    sim.start()
    yield sim
    sim.close()


def test_pair_runs_the_scan_wizard_and_prints_the_config_to_add(
    tmp_path: Path, flicd: SimThread
) -> None:
    flicd.sim.wizard.address = "80:e4:da:70:aa:01"
    out = cli(
        "pair", "--config", str(write_config(tmp_path, flicd_port=flicd.sim.port)), cwd=tmp_path
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "hold it down for 7 seconds" in out.stdout
    assert "Paired F2FAKE 80:e4:da:70:aa:01" in out.stdout
    assert 'address = "80:e4:da:70:aa:01"' in out.stdout
    assert "80:e4:da:70:aa:01" in flicd.sim.verified


def test_pair_reports_a_failed_wizard_plainly(tmp_path: Path, flicd: SimThread) -> None:
    flicd.sim.wizard.result = 2  # WizardFailedTimeout
    out = cli(
        "pair", "--config", str(write_config(tmp_path, flicd_port=flicd.sim.port)), cwd=tmp_path
    )
    assert out.returncode == 1
    assert "Pairing failed: no button found in time" in out.stdout


def test_pair_without_flicd_says_where_it_looked(tmp_path: Path) -> None:
    port = free_port()
    out = cli("pair", "--config", str(write_config(tmp_path, flicd_port=port)), cwd=tmp_path)
    assert out.returncode == 1
    assert f"cannot reach flicd at 127.0.0.1:{port}" in out.stdout


def test_press_without_a_running_bridge_says_so(tmp_path: Path) -> None:
    out = cli("press", "front-desk", "--config", str(write_config(tmp_path)), cwd=tmp_path)
    assert out.returncode == 1
    assert "cannot reach the bridge" in out.stderr


def test_buttons_lists_the_configured_ones_when_the_bridge_is_down(tmp_path: Path) -> None:
    out = cli("buttons", "--config", str(write_config(tmp_path)), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "front-desk" in out.stdout
    assert "80:e4:da:71:23:45" in out.stdout
