"""`run --tls-cert/--tls-key` refuses bad files clearly; `inbound_url` is the real one."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app.reload import changed_keys, in_force
from server.config import Config
from tests.extras.tls_certs import make_tls_files
from tests.server.conftest import CLEAN_ENV
from tests.support.procs import Proc, free_port, python_module, wait_until


def server_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        check=False,
        env=CLEAN_ENV,
        timeout=60,
    )


@pytest.mark.parametrize("broken", ["missing cert", "missing key", "key of another cert", "junk"])
def test_run_refuses_tls_files_it_cannot_use(tmp_path: Path, broken: str) -> None:
    good = make_tls_files(tmp_path / "good")
    other = make_tls_files(tmp_path / "other")
    cert, key = good.cert, good.key
    if broken == "missing cert":
        cert = tmp_path / "nowhere.pem"
    elif broken == "missing key":
        key = tmp_path / "nowhere.key"
    elif broken == "key of another cert":
        key = other.key
    else:
        cert = tmp_path / "junk.pem"
        cert.write_text("not a certificate\n")
    out = server_cli(
        *["run", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())],
        *["--tls-cert", str(cert), "--tls-key", str(key)],
    )
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    (line,) = [ln for ln in out.stderr.splitlines() if ln.startswith("alert-server: ")]
    if broken.startswith("missing"):
        what = "certificate" if broken == "missing cert" else "key"
        missing = cert if broken == "missing cert" else key
        assert (
            line == f"alert-server: cannot read the TLS {what} {missing}: No such file or directory"
        )
    else:
        assert f"the TLS certificate {cert} and key {key} do not load as a PEM pair" in line


def test_a_cert_without_its_key_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('[server]\ntls_cert = "/etc/alert-server/cert.pem"\n')
    out = server_cli("run", "--config", str(config), "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 2
    assert "tls_cert and tls_key go together" in out.stderr


def added(*args: str) -> dict[str, Any]:
    out = server_cli("integration", "add", "--name", "pd", "--kind", "pagerduty", "--json", *args)
    assert out.returncode == 0, out.stderr
    found: dict[str, Any] = json.loads(out.stdout)
    return found


def test_inbound_url_follows_the_config_public_url_and_base_url(tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path / "tls")
    data = ["--data-dir", str(tmp_path / "data")]
    config = tmp_path / "server.toml"

    config.write_text('[server]\nport = 9443\nhost = "0.0.0.0"\n')
    plain = added("--config", str(config), *data)
    assert plain["inbound_url"] == f"http://127.0.0.1:9443{plain['inbound_path']}"

    config.write_text(
        f"[server]\nport = 9443\ntls_cert = {json.dumps(str(tls.cert))}\n"
        f"tls_key = {json.dumps(str(tls.key))}\n"
    )
    tls_on = added("--config", str(config), *data)
    assert tls_on["inbound_url"] == f"https://127.0.0.1:9443{tls_on['inbound_path']}"

    config.write_text('[server]\nport = 9443\npublic_url = "https://alerts.example.net/"\n')
    public = added("--config", str(config), *data)
    assert public["inbound_url"] == f"https://alerts.example.net{public['inbound_path']}"

    given = added("--config", str(config), *data, "--base-url", "https://pd.lan:8443/")
    assert given["inbound_url"] == f"https://pd.lan:8443{given['inbound_path']}"

    out = server_cli("integration", "add", "--name", "x", "--base-url", "pd.lan", *data)
    assert out.returncode == 1
    assert "--base-url must start with http:// or https://" in out.stderr


def test_tls_from_flags_serves_https_and_only_https(tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path / "tls")
    port = free_port()
    proc = Proc(
        python_module(
            *["server", "run", "--data-dir", str(tmp_path / "data"), "--port", str(port)],
            *["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)],
        ),
        log_path=tmp_path / "server.log",
        env={k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
    )
    trust = ssl.create_default_context(cafile=str(tls.ca))
    try:

        def healthy() -> bool:
            assert proc.alive(), proc.log()
            with httpx.Client(verify=trust, timeout=1.0) as client:
                return client.get(f"https://127.0.0.1:{port}/healthz").is_success

        wait_until(healthy, what="https /healthz")
        with pytest.raises(httpx.HTTPError), httpx.Client(timeout=5.0) as plain:
            plain.get(f"http://127.0.0.1:{port}/healthz")  # plain HTTP to a TLS port: refused
        assert f"https://127.0.0.1:{port}" in proc.log()  # the start line names the https URL
    finally:
        proc.stop()


def test_a_sighup_keeps_the_running_tls_pair() -> None:
    running = Config().with_server(tls_cert="/old/cert.pem", tls_key="/old/key.pem")
    reread = Config().with_server(tls_cert="/new/cert.pem", tls_key="/new/key.pem")
    assert ("server", "tls_cert") in changed_keys(running, reread)
    kept = in_force(running, reread)  # uvicorn loaded the old pair: it stays until a restart
    assert (kept.server.tls_cert, kept.server.tls_key) == ("/old/cert.pem", "/old/key.pem")
