"""The hub module's Node tests (simulated Hub SDK, ES5 check) run as part of pytest."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_node_suite_passes_every_test() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the hub-module tests: run `make deps`"
    assert (HERE / "node_modules" / "acorn").is_dir(), "run `make deps` (npm install in tests/hub)"
    files = sorted(HERE.glob("*.test.js"))
    declared = sum(len(re.findall(r"^test\(", f.read_text(), flags=re.MULTILINE)) for f in files)
    out = subprocess.run(
        [node, "--test", "--test-reporter=tap", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=HERE,
    )
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    passed = re.search(r"^# pass (\d+)$", out.stdout, flags=re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", out.stdout, flags=re.MULTILINE)
    assert passed, report
    assert failed, report
    assert int(failed.group(1)) == 0, report
    assert declared >= 20
    assert int(passed.group(1)) == declared, report
