"""The README's hub install notes name every file a user must paste into the Hub SDK editor."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_lists_every_module_file_to_paste() -> None:
    readme = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split("## Flic Hub module", 1)[1].split("\n## ", 1)[0]
    files = sorted(p.name for p in (ROOT / "hub-scripts" / "flic-forwarder").glob("*.js"))
    assert "main.js" in files
    assert "config.js" in files
    missing = [name for name in files if f"`{name}`" not in section]
    assert missing == []
    assert "Restart after crash" in section
    assert "SDK Access" in section
