"""The TOML config: the contract's example reads, every problem is reported at once by key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridge.config import find_config_path, load_config, parse_config
from bridge.errors import ConfigError
from bridge.models import ClickType

CONTRACT_EXAMPLE = """
[bridge]
name = "bridge-1"
state_dir = "./var/bridge"
listen = "127.0.0.1:8381"
token = "change-me"

[[forward]]
url = "http://127.0.0.1:8380/inbound/TOKEN"

[flicd]
enabled = true
host = "127.0.0.1"
port = 5551

[ble]
enabled = false
adapter = "hci0"

[hub]
enabled = true

[mqtt]
enabled = false
host = "127.0.0.1"
port = 1883
base_topic = "flic"
discovery_prefix = "homeassistant"

[[button]]
address = "80:e4:da:71:23:45"
name = "front-desk"
on = ["single", "hold"]
off = ["double"]
info = "Front desk"
"""

BROKEN = """
[bridge]
listen = "nowhere"
colour = "blue"

[[forward]]
url = "ftp://example.org/x"

[flicd]
port = 99999

[[button]]
address = "not-an-address"
name = "front-desk"
on = ["single", "triple"]

[[button]]
address = "80:E4:DA:71:23:46"
name = "front-desk"
on = ["double"]
off = ["double"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text)
    return path


def test_the_contract_example_reads_as_written(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CONTRACT_EXAMPLE))
    assert config.bridge.name == "bridge-1"
    assert (config.bridge.host, config.bridge.port) == ("127.0.0.1", 8381)
    assert config.bridge.token == "change-me"
    assert [t.url for t in config.forward] == ["http://127.0.0.1:8380/inbound/TOKEN"]
    assert (config.flicd.enabled, config.flicd.port) == (True, 5551)
    (button,) = config.buttons
    assert button.name == "front-desk"
    assert button.on == {ClickType.SINGLE, ClickType.HOLD}
    assert button.off == {ClickType.DOUBLE}
    assert button.info == "Front desk"


def test_every_problem_is_listed_at_once_with_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, BROKEN))
    problems = "\n".join(caught.value.problems)
    for key in (
        "bridge.listen:",
        "bridge.colour: unknown key",
        "forward[0].url:",
        "flicd.port:",
        "button[0].address:",
        "button[0].on[1]:",
        "button[1].name: 'front-desk' is already button[0]",
        "button[1]: double is in both `on` and `off`",
    ):
        assert key in problems
    assert len(caught.value.problems) == 8


def test_no_file_at_all_runs_on_embedded_defaults() -> None:
    config = parse_config({})
    assert config.bridge.port == 8381
    assert config.flicd.enabled
    assert config.hub.enabled
    assert not config.mqtt.enabled
    assert config.forward == ()


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[bridge\nname = 1\n")
    with pytest.raises(ConfigError, match=r"bridge.toml: not valid TOML.*line 1"):
        load_config(path)


def test_environment_variable_names_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, CONTRACT_EXAMPLE)
    monkeypatch.setenv("FLIC_BRIDGE_CONFIG", str(path))
    assert find_config_path(None) == path
    assert find_config_path("other.toml") == Path("other.toml")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=60,  # a `run` that is not refused would serve forever
    )


def test_check_config_and_run_refuse_a_bad_file_with_the_same_list(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    check = run_cli("check-config", "--config", str(path), cwd=tmp_path)
    run = run_cli("run", "--config", str(path), cwd=tmp_path)
    assert check.returncode == run.returncode == 2
    assert "8 problem(s)" in check.stderr
    assert "button[0].on[1]" in check.stderr
    assert check.stderr.splitlines()[1:] == run.stderr.splitlines()[-8:]


def test_check_config_accepts_a_good_file(tmp_path: Path) -> None:
    out = run_cli("check-config", "--config", str(write(tmp_path, CONTRACT_EXAMPLE)), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout
    assert "1 button(s)" in out.stdout


SHARED_TOPICS = """
[mqtt]
enabled = true
base_topic = "home/flic"

[[button]]
address = "80:e4:da:71:23:45"
name = "lobby/door"

[[button]]
address = "80:e4:da:71:23:46"
name = "front"

[[button]]
address = "80:e4:da:71:23:47"
name = "lobby_door"
"""


def test_buttons_sharing_mqtt_topics_are_refused_naming_both(tmp_path: Path) -> None:
    path = write(tmp_path, SHARED_TOPICS)
    check = run_cli("check-config", "--config", str(path), cwd=tmp_path)
    run = run_cli("run", "--config", str(path), cwd=tmp_path)
    assert check.returncode == run.returncode == 2
    assert "1 problem(s)" in check.stderr
    expected = (
        "button[2].name: 'lobby_door' and button[0].name 'lobby/door' share the MQTT topic"
        " home/flic/lobby_door: rename one"
    )
    assert check.stderr.splitlines()[1] == f"  - {expected}"
    assert run.stderr.splitlines()[-1] == f"  - {expected}"
    # without MQTT the names share nothing: the same buttons are fine
    fine = write(tmp_path, SHARED_TOPICS.replace("enabled = true", "enabled = false"))
    assert run_cli("check-config", "--config", str(fine), cwd=tmp_path).returncode == 0


def test_a_control_character_in_the_mqtt_base_topic_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"mqtt": {"enabled": True, "base_topic": "flic\x7f"}})
    assert caught.value.problems[0].startswith("mqtt.base_topic:")


def test_priority_on_names_a_priority_per_click_type_and_refuses_others() -> None:
    button = {"address": "80:e4:da:71:23:45", "name": "bed-1", "priority_on": {"hold": "urgent"}}
    (parsed,) = parse_config({"button": [button]}).buttons
    assert parsed.priority_on == ((ClickType.HOLD, "urgent"),)
    assert parse_config({"button": [{**button, "priority_on": {}}]}).buttons[0].priority_on == ()

    bad = {**button, "priority_on": {"hold": "panic", "wiggle": "high"}}
    with pytest.raises(ConfigError) as caught:
        parse_config({"button": [bad]})
    problems = "\n".join(caught.value.problems)
    assert "button[0].priority_on.hold:" in problems
    assert "'urgent', 'high', 'normal' or 'low'" in problems
    assert "button[0].priority_on.wiggle" in problems
