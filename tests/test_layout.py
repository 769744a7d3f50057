"""The repository keeps the contract's layout and entry points."""

from __future__ import annotations

import ast
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


def test_the_shared_package_imports_neither_program() -> None:
    """edgecommon is plumbing both programs import; it must never reach back into either."""
    paths = sorted((ROOT / "edgecommon").rglob("*.py"))
    assert paths
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in {"bridge", "server"}, (path, name)
