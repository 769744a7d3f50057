"""CLI logging: plain or one-line JSON, with context fields, never a token or password."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import ModuleType

import pytest

from edgecommon import logsetup

# One module now serves both programs (edgecommon); the tests keep their shape.
BOTH = pytest.mark.parametrize("mod", [logsetup], ids=["edgecommon"])
TOKEN = "Xq7fSecretTok3n_abc"
SECRETS = [TOKEN, "hunter2", "s3cr3t-pw", "adm1n-t0ken"]


@pytest.fixture(autouse=True)
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    logging.captureWarnings(False)


def log_everything_secret(logger: logging.Logger) -> None:
    logger.info("POST /inbound/%s 202", TOKEN)
    logger.warning(
        "delivery failed",
        extra={"event_id": "e-1", "button": "front-desk", "target": f"http://h/inbound/{TOKEN}"},
    )
    logger.info("headers: Authorization: Bearer %s", TOKEN)
    logger.info("mqtt login password=hunter2 user=alice")
    logger.info('config {"token": "%s", "name": "bridge-1"}', TOKEN)
    logger.info("smtp url smtp://alice:s3cr3t-pw@mail.example:587")
    logger.info("started", extra={"admin_token": "adm1n-t0ken"})
    try:
        raise ValueError(f"cannot reach http://x/inbound/{TOKEN}")
    except ValueError:
        logger.exception("forward failed")


@BOTH
def test_json_lines_carry_context_and_no_secret(mod: ModuleType) -> None:
    out = io.StringIO()
    mod.configure_logging("json", "DEBUG", stream=out)
    log_everything_secret(logging.getLogger("flic.test"))
    text = out.getvalue()
    for secret in SECRETS:
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 8, text
    first, failed = lines[0], lines[1]
    assert first["message"] == "POST /inbound/*** 202"
    assert first["level"] == "INFO"
    assert first["logger"] == "flic.test"
    assert first["at"].endswith("+00:00")
    assert failed["event_id"] == "e-1"
    assert failed["button"] == "front-desk"
    assert failed["target"] == "http://h/inbound/***"
    assert lines[2]["message"] == "headers: Authorization: Bearer ***"
    assert lines[3]["message"] == "mqtt login password=*** user=alice"
    assert lines[6]["admin_token"] == "***"
    assert "ValueError" in lines[7]["exc"]


@BOTH
def test_plain_lines_append_context_fields_and_mask_secrets(mod: ModuleType) -> None:
    out = io.StringIO()
    mod.configure_logging("plain", "INFO", stream=out)
    log_everything_secret(logging.getLogger("flic.test"))
    text = out.getvalue()
    for secret in SECRETS:
        assert secret not in text
    assert "WARNING flic.test: delivery failed event_id=e-1 button=front-desk" in text
    assert "Traceback" in text


@BOTH
def test_level_filters_and_reconfiguring_replaces_the_handler(mod: ModuleType) -> None:
    first, second = io.StringIO(), io.StringIO()
    mod.configure_logging("plain", "INFO", stream=first)
    mod.configure_logging("json", "WARNING", stream=second)
    logging.getLogger("flic.test").info("quiet")
    logging.getLogger("flic.test").warning("loud")
    assert first.getvalue() == ""
    assert [json.loads(x)["message"] for x in second.getvalue().splitlines()] == ["loud"]


@BOTH
def test_cli_flags(mod: ModuleType) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    mod.add_log_arguments(parser)
    args = parser.parse_args(["--log-format", "json", "--log-level", "debug"])
    assert (args.log_format, args.log_level) == ("json", "DEBUG")
    with pytest.raises(SystemExit):
        parser.parse_args(["--log-format", "xml"])
