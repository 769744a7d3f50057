"""A newcomer follows only the README's alert-server lines and gets an open alert."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx

from tests.server.conftest import CLEAN_ENV
from tests.support.procs import Proc, free_port, running, wait_http_ok

README = Path(__file__).resolve().parents[2] / "README.md"


def quick_start() -> list[str]:
    """The command lines of the fenced block under "From a clone to an open alert"."""
    text = README.read_text()
    section = text[text.index("### From a clone to an open alert") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def as_argv(line: str, program_argv: list[str]) -> list[str]:
    """A README line as argv: comment and `&` dropped, `.venv/bin/alert-server` → this Python."""
    words = shlex.split(line, comments=True)
    if words and words[-1] == "&":
        words = words[:-1]
    assert words[0].endswith("alert-server"), line
    return [*program_argv, *words[1:]]


def test_readme_quick_start_opens_an_alert(tmp_path: Path) -> None:
    lines = quick_start()
    run_line = next(line for line in lines if " run" in line and "alert-server" in line)
    add_line = next(line for line in lines if "integration add" in line)
    curl_line = next(line for line in lines if line.startswith("curl"))
    port = free_port()
    env = {
        **CLEAN_ENV,
        "ALERT_SERVER_DATA_DIR": str(tmp_path / "var"),
        "ALERT_SERVER_PORT": str(port),
    }
    program = [sys.executable, "-m", "server"]

    proc = Proc(as_argv(run_line, program), log_path=tmp_path / "server.log", env=env, cwd=tmp_path)
    with running(proc):
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc=proc)
        added = subprocess.run(
            as_argv(add_line, program), capture_output=True, text=True, env=env, check=True
        )
        inbound_path = added.stdout.strip()
        assert inbound_path.startswith("/inbound/")

        # curl's `-X POST URL -d BODY` sends BODY as a form post: do exactly that.
        words = shlex.split(curl_line)
        url = next(w for w in words if w.startswith("http://"))
        body = words[words.index("-d") + 1]
        url = url.replace("/inbound/<token>", inbound_path).replace(":8380", f":{port}")
        answer = httpx.post(
            url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )

        assert answer.status_code == 202, answer.text
        assert (answer.json()["status"], answer.json()["action"]) == ("mapped", "open")
        assert answer.json()["alert_id"] == 1
