"""The repository keeps the contract's layout and entry points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_both_programs_answer_help_as_modules() -> None:
    for module, prog in (("bridge", "flic-bridge"), ("server", "alert-server")):
        out = subprocess.run(
            [sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stderr
        assert prog in out.stdout


def test_packages_do_not_import_each_other() -> None:
    for pkg, other in (("bridge", "server"), ("server", "bridge")):
        for path in (ROOT / pkg).rglob("*.py"):
            text = path.read_text()
            assert f"from {other}" not in text, path
            assert f"import {other}" not in text, path


def test_readme_first_screen_shows_the_two_commands() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "make run" in first_screen
    assert "make test" in first_screen


def test_the_twin_infrastructure_modules_stay_identical() -> None:
    """sd_notify and log setup exist once per program, because the contract gives the bridge
    and the server no shared import package: a fix to one copy must reach the other."""
    for name in ("sdnotify.py", "logsetup.py"):
        assert (ROOT / "bridge" / name).read_text() == (ROOT / "server" / name).read_text(), name
