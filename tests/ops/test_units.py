"""The systemd units parse cleanly and stay well sandboxed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgecommon.httplimits import MAX_CONNECTIONS

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "systemd"
VENV_BIN = Path(sys.executable).parent
# Highest acceptable `systemd-analyze security` exposure; 5.0 and up is "MEDIUM" or worse.
MAX_EXPOSURE = {"alert-server.service": 2.0, "flic-bridge.service": 2.0, "flicd.service": 2.5}


def analyze() -> str:
    exe = shutil.which("systemd-analyze")
    assert exe, "systemd-analyze is missing: `make deps` installs the systemd package"
    return exe


def unit_settings(path: Path) -> dict[str, list[str]]:
    """`Section.Key` -> every value given, in order (units may repeat a key)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return settings


def runnable_copy(unit: str, dest_dir: Path) -> Path:
    """The unit with ExecStart pointing at executables that exist on this machine.

    Our two programs point at this checkout's installed console scripts; flicd is not
    shipped, so it points at a stand-in executable.
    """
    stub = dest_dir / "flicd"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    text = (UNITS / unit).read_text()
    text = text.replace("/opt/flic-edge/venv/bin/", f"{VENV_BIN}/")
    text = text.replace("/usr/local/bin/flicd", str(stub))
    out = dest_dir / unit
    out.write_text(text)
    return out


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [analyze(), "verify", "--recursive-errors=yes", "--man=no", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=path.parent,
    )


@pytest.mark.parametrize("unit", sorted(MAX_EXPOSURE))
def test_unit_passes_systemd_analyze_verify(unit: str, tmp_path: Path) -> None:
    out = verify(runnable_copy(unit, tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == "", out.stderr


def test_verify_catches_an_unknown_key_so_the_check_above_can_fail(tmp_path: Path) -> None:
    path = runnable_copy("alert-server.service", tmp_path)
    path.write_text(path.read_text().replace("[Service]\n", "[Service]\nWatchDogSecs=30\n"))
    out = verify(path)
    assert out.returncode != 0
    assert "WatchDogSecs" in out.stderr


@pytest.mark.parametrize(("unit", "limit"), sorted(MAX_EXPOSURE.items()))
def test_unit_is_rated_ok_or_better_by_systemd_analyze_security(
    unit: str, limit: float, tmp_path: Path
) -> None:
    out = subprocess.run(
        [analyze(), "security", "--offline=yes", "--no-pager", str(UNITS / unit)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    found = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", out.stdout)
    assert found, out.stdout + out.stderr
    exposure, rating = float(found.group(1)), found.group(2)
    assert rating in {"OK", "SAFE", "PERFECT"}, out.stdout
    assert exposure <= limit, out.stdout


@pytest.mark.parametrize("unit", ["alert-server.service", "flic-bridge.service"])
def test_program_units_use_notify_watchdog_restart_and_state_dir(unit: str) -> None:
    s = unit_settings(UNITS / unit)
    assert s["Service.Type"] == ["notify"]
    assert int(s["Service.WatchdogSec"][0]) > 0
    assert s["Service.Restart"] == ["on-failure"]
    assert s["Service.StateDirectory"]
    assert s.get("Service.DynamicUser") == ["yes"] or s.get("Service.User", ["root"]) != ["root"]
    assert s["Service.CapabilityBoundingSet"] == [""], "our programs need no capability"
    assert "--log-format json" in s["Service.ExecStart"][0]
    assert s["Service.ExecReload"] == ["/bin/kill -HUP $MAINPID"]  # SIGHUP reloads the config


@pytest.mark.parametrize("unit", ["alert-server.service", "flic-bridge.service"])
def test_program_units_allow_more_descriptors_than_the_connection_cap(unit: str) -> None:
    s = unit_settings(UNITS / unit)
    assert int(s["Service.LimitNOFILE"][0]) >= 2 * MAX_CONNECTIONS


def test_flicd_template_gets_only_cap_net_admin() -> None:
    s = unit_settings(UNITS / "flicd.service")
    assert s["Service.CapabilityBoundingSet"] == ["CAP_NET_ADMIN"]
    assert s["Service.AmbientCapabilities"] == ["CAP_NET_ADMIN"]
    assert "AF_BLUETOOTH" in s["Service.RestrictAddressFamilies"][0]
    assert s["Service.Restart"] == ["on-failure"]


def test_bridge_user_can_reach_bluez_over_dbus() -> None:
    s = unit_settings(UNITS / "flic-bridge.service")
    assert "bluetooth" in s["Service.SupplementaryGroups"][0].split()
    assert "AF_UNIX" in s["Service.RestrictAddressFamilies"][0].split()
    sysusers = (UNITS / "flic-edge.sysusers").read_text()
    assert re.search(r"^u flic-bridge ", sysusers, re.MULTILINE)
    assert re.search(r"^m flic-bridge bluetooth$", sysusers, re.MULTILINE)
