"""An empty `admin-token` or `link-secret` file (a power cut) never lets an empty secret in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
import time
from pathlib import Path

import httpx
import pytest

from edgecommon.secretfile import kept_secret
from server.console.sessions import same_token
from server.escalation.links import LinkError, sign, verify
from tests.escalation.test_links import NOW, claim
from tests.server.conftest import RunningServer

ON = '"flic_nameId": "desk", "flic_state": "On", "info": "Desk",'


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forged_with_empty_key(action: str, alert_id: int) -> str:
    """A link an attacker signs with HMAC-SHA256 under an empty key, as links are signed."""
    payload = f"{action}:{alert_id}:{int(time.time()) + 3600}".encode()
    mac = hmac.new(b"", b"flic-edge alert link v1\n" + payload, hashlib.sha256).digest()
    return f"{b64(payload)}.{b64(mac)}"


def test_empty_secret_files_at_start_are_made_again_and_empty_tokens_are_refused(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("admin-token", "link-secret"):
        (data / name).write_text("")  # what a power cut before the data reached the disk leaves
        (data / name).chmod(0o600)
    srv = RunningServer(
        data_dir=data,
        log_path=tmp_path / "server.log",
        env={k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
    ).start()
    try:
        token = (data / "admin-token").read_text().strip()
        secret = (data / "link-secret").read_text().strip()
        assert len(token) >= 16
        assert len(secret) >= 16
        for name in ("admin-token", "link-secret"):
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600
        assert "admin token file" in srv.log()
        assert "link secret file" in srv.log()

        refused = [
            httpx.get(srv.url + "/api/v1/integrations", headers=h, timeout=10).status_code
            for h in ({"Authorization": "Bearer"}, {"Authorization": "Basic Og=="}, {})
        ]
        assert refused == [401, 401, 401]
        with srv.admin() as admin:
            assert admin.get("/api/v1/integrations").status_code == 200
            path = admin.post("/api/v1/integrations", json={"name": "desk"}).json()
        alert_id = srv.post(path["inbound_path"], ON).json()["alert_id"]

        forged = forged_with_empty_key("close", alert_id)
        answer = httpx.post(f"{srv.url}/l/{forged}", timeout=10)
        assert answer.status_code == 403
        with srv.admin() as admin:
            assert admin.get(f"/api/v1/alerts/{alert_id}").json()["status"] == "open"
    finally:
        srv.stop()


def test_links_never_sign_or_verify_under_an_empty_or_short_key() -> None:
    with pytest.raises(LinkError, match="shorter than 16 bytes"):
        sign(b"", claim())
    with pytest.raises(LinkError, match="shorter than 16 bytes"):
        verify(b"", forged_with_empty_key("close", 1), NOW)


def test_an_empty_expected_token_matches_nothing() -> None:
    assert not same_token("", "")
    assert not same_token(None, "")
    assert same_token("a-long-admin-token", "a-long-admin-token")


def test_a_secret_file_is_written_whole_and_kept_once_made(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret"
    first = kept_secret(path, lambda: "x" * 20, min_chars=16, what="test secret")
    again = kept_secret(path, lambda: "y" * 20, min_chars=16, what="test secret")
    assert (first, again) == ("x" * 20, "x" * 20)
    assert path.read_text() == "x" * 20 + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary left behind
