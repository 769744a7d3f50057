"""scripts/install-pi.sh staged into a throwaway root: install, re-run, upgrade, uninstall."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-pi.sh"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout built once as a wheel, so each install below skips the build."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("flic_edge-*.whl")
    return built


def systemctl_calls(destdir: Path) -> list[str]:
    """What the script asked systemctl to do, oldest first, and forget them."""
    log = destdir.parent / "systemctl.log"
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return calls


def run_script(destdir: Path, wheel: Path, *args: str) -> subprocess.CompletedProcess[str]:
    stub = destdir.parent / "systemctl"
    if not stub.exists():
        stub.write_text(f'#!/bin/sh\necho "$*" >> {destdir.parent / "systemctl.log"}\n')
        stub.chmod(0o755)
    env = {
        **os.environ,
        "DESTDIR": str(destdir),
        "SYSTEMCTL": str(stub),
        "PYTHON": sys.executable,
        "FLIC_EDGE_PACKAGE": str(wheel),
        # The script installs the project; its dependencies come from this test environment
        # (the .pth file below), which keeps the test fast and offline.
        "FLIC_EDGE_PIP_ARGS": "--no-deps",
    }
    out = subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def snapshot(root: Path) -> dict[str, bytes]:
    """Every installed file outside the virtualenv, with its content."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "venv" not in p.parts and ".pwd.lock" not in p.name
    }


def test_install_rerun_upgrade_and_uninstall_in_a_throwaway_root(
    tmp_path: Path, wheel: Path
) -> None:
    root = tmp_path / "root"
    run_script(root, wheel)
    assert systemctl_calls(root) == [
        "daemon-reload",
        "enable alert-server.service flic-bridge.service",
        "start alert-server.service flic-bridge.service",
    ]

    # units, users, config, program
    units = root / "etc/systemd/system"
    for unit in ("alert-server.service", "flic-bridge.service"):
        assert (units / unit).read_text() == (ROOT / "systemd" / unit).read_text()
    assert not (units / "flicd.service").exists(), "flicd only with --with-flicd"
    assert "flic-bridge:" in (root / "etc/passwd").read_text()
    assert any(
        line.startswith("bluetooth:") and "flic-bridge" in line
        for line in (root / "etc/group").read_text().splitlines()
    )
    config = root / "etc/flic-edge/bridge.toml"
    assert 'state_dir = "/var/lib/flic-bridge"' in config.read_text()
    assert "@TOKEN@" not in config.read_text()
    assert (config.stat().st_mode & 0o777) == 0o640
    assert ((root / "etc/flic-edge/alert-server.env").stat().st_mode & 0o777) == 0o600
    assert (
        os.readlink(root / "usr/local/bin/alert-server") == "/opt/flic-edge/venv/bin/alert-server"
    )
    venv = root / "opt/flic-edge/venv"
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    for prog in ("alert-server", "flic-bridge"):
        helped = subprocess.run(
            [str(venv / "bin" / prog), "--help"], capture_output=True, text=True, check=False
        )
        assert helped.returncode == 0, helped.stderr
        assert prog in helped.stdout

    # The installed units name programs that the install really put there.
    staged = tmp_path / "staged-units"
    staged.mkdir()
    for unit in ("alert-server.service", "flic-bridge.service"):
        text = (units / unit).read_text().replace("/opt/flic-edge/", f"{root}/opt/flic-edge/")
        (staged / unit).write_text(text)
        verified = subprocess.run(
            ["systemd-analyze", "verify", "--recursive-errors=yes", "--man=no", unit],
            capture_output=True,
            text=True,
            check=False,
            cwd=staged,
        )
        assert verified.returncode == 0, verified.stderr
    checked = subprocess.run(
        [str(venv / "bin/flic-bridge"), "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr  # the example config is valid

    # The site edits its config and the programs write data...
    config.write_text(config.read_text().replace("bridge-1", "cupboard-pi"))
    data = root / "var/lib/private/alert-server/alert-server.db"
    data.parent.mkdir(parents=True)
    data.write_bytes(b"precious")
    outbox = root / "var/lib/flic-bridge/outbox.db"
    outbox.parent.mkdir(parents=True)
    outbox.write_bytes(b"queued clicks")
    before = snapshot(root)

    # ...a second run (an upgrade from the same checkout) changes nothing of theirs.
    out = run_script(root, wheel, "upgrade")
    assert systemctl_calls(root) == [
        "daemon-reload",
        "enable alert-server.service flic-bridge.service",
        "restart alert-server.service flic-bridge.service",
    ]
    assert "wrote" not in out.stdout
    assert snapshot(root) == before

    # flicd can be added to an existing install
    run_script(root, wheel, "--with-flicd", "--no-start")
    assert (units / "flicd.service").read_text() == (ROOT / "systemd/flicd.service").read_text()
    assert systemctl_calls(root) == [
        "daemon-reload",
        "enable flicd.service alert-server.service flic-bridge.service",
    ]

    # uninstall removes the program and units, keeps config and data
    run_script(root, wheel, "uninstall")
    assert systemctl_calls(root) == [
        "disable --now flicd.service",
        "disable --now alert-server.service",
        "disable --now flic-bridge.service",
        "daemon-reload",
    ]
    assert not (root / "opt/flic-edge").exists()
    assert not (units / "alert-server.service").exists()
    assert not (units / "flicd.service").exists()
    assert not (root / "usr/local/bin/flic-bridge").is_symlink()
    assert "cupboard-pi" in config.read_text()
    assert data.read_bytes() == b"precious"
    assert outbox.read_bytes() == b"queued clicks"

    # uninstall --purge (even after a plain uninstall) deletes config and data too
    run_script(root, wheel, "uninstall", "--purge")
    assert not (root / "etc/flic-edge").exists()
    assert not data.exists()
    assert not outbox.exists()


def test_bad_arguments_are_refused_with_a_reason(tmp_path: Path) -> None:
    env = {**os.environ, "DESTDIR": str(tmp_path)}
    for args, message in (
        (["--bogus"], "unknown argument '--bogus'"),
        (["install", "--purge"], "--purge only goes with uninstall"),
        (["upgrade"], "nothing installed"),
    ):
        out = subprocess.run(
            ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
        )
        assert out.returncode != 0
        assert message in out.stderr
