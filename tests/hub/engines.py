"""Runs the hub module on real Duktape (`duk`) and on Node over one ES5 scenario (sim/es5/)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODULE_DIR = HERE.parents[1] / "hub-scripts" / "flic-forwarder"
SDK = HERE / "sim" / "es5" / "sdk.js"
SCENARIO = HERE / "sim" / "es5" / "scenario.js"


@dataclass(frozen=True, slots=True)
class Request:
    """One request the module made, with the exact bytes its body would go out as."""

    at_ms: int
    url: str
    headers: dict[str, str]
    body: bytes
    answer: int | str


def bundle(module_dir: Path = MODULE_DIR) -> str:
    """sdk.js, every module file wrapped as a CommonJS function, then scenario.js."""
    parts = [SDK.read_text(encoding="utf-8"), "var HUB_FILES = {};"]
    for path in sorted(module_dir.glob("*.js")):
        source = path.read_text(encoding="utf-8")
        parts.append(
            f"HUB_FILES[{json.dumps(path.name)}] = function (exports, require, module) {{\n"
            f"{source}\n}};"
        )
    parts.append(SCENARIO.read_text(encoding="utf-8"))
    return "\n".join(parts) + "\n"


def engine_command(engine: str) -> list[str]:
    """The interpreter for "duk" or "node"; an AssertionError saying how to get a missing one."""
    found = shutil.which(engine)
    assert found, f"{engine} is needed for the hub tests: run `make deps` (Debian: duktape, nodejs)"
    return [found]


def run_scenario(engine: str, script: Path) -> list[Request]:
    """The requests the module made in the scenario, as printed by the engine."""
    out = subprocess.run(
        [*engine_command(engine), str(script)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    text = out.stdout.decode("ascii", errors="replace")
    assert out.returncode == 0, f"{engine} failed: {text}{out.stderr.decode(errors='replace')}"
    lines = text.splitlines()
    assert lines, f"{engine} printed nothing"
    end = lines[-1].split()
    assert end[:2] == ["END", "duktape" if engine == "duk" else "node"], text
    requests = []
    for line in lines[:-1]:
        assert line.startswith("REQUEST "), line
        raw: dict[str, Any] = json.loads(line.removeprefix("REQUEST "))
        requests.append(
            Request(
                at_ms=raw["at"],
                url=raw["url"],
                headers=raw["headers"],
                body=bytes.fromhex(raw["hex"]),
                answer=raw["answer"],
            )
        )
    assert len(requests) == int(end[2]), text
    return requests
