"""Issue 16: an empty or cut-short bridge token file never lets an empty token in."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from bridge.app.runtime import Runtime
from bridge.app.token import MIN_FILE_TOKEN_CHARS, bridge_token
from bridge.config import parse_config
from bridge.web.app import create_app


@pytest.mark.parametrize("left", ["", "\n", "   \n", "abc123"])
async def test_a_cut_short_token_file_is_made_again_and_an_empty_token_is_refused(
    tmp_path: Path, left: str, caplog: pytest.LogCaptureFixture
) -> None:
    token_file = tmp_path / "state" / "token"
    token_file.parent.mkdir()
    token_file.write_text(left)  # what a power cut before the data reached the disk leaves
    token_file.chmod(0o600)
    config = parse_config({"bridge": {"state_dir": str(tmp_path / "state")}})
    runtime = Runtime(config)
    try:
        assert len(runtime.token) >= MIN_FILE_TOKEN_CHARS
        assert token_file.read_text().strip() == runtime.token
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert "made a new bridge token" in caplog.text
        transport = httpx.ASGITransport(app=create_app(runtime.web))
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
            for given in ("Bearer ", "Bearer", f"Bearer {left.strip()}"):
                answer = await client.post(
                    "/api/press",
                    json={"button": "80:e4:da:71:23:45"},
                    headers={"Authorization": given},
                )
                assert answer.status_code == 401, given
            good = await client.post(
                "/api/press",
                json={"button": "80:e4:da:71:23:45"},
                headers={"Authorization": f"Bearer {runtime.token}"},
            )
            assert good.status_code == 202
    finally:
        runtime.outbox.close()
    assert bridge_token(config) == runtime.token  # made once, then kept


def test_a_good_token_file_is_kept_as_written(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("a-token-an-admin-chose-long\n")
    config = parse_config({"bridge": {"state_dir": str(tmp_path)}})
    assert bridge_token(config) == "a-token-an-admin-chose-long"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".token")]
