"""A real mosquitto broker for tests, and a recording MQTT subscriber to look at what arrived."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.procs import Proc, free_port, wait_until


def mosquitto_binary() -> str:
    """Path of the mosquitto executable (Debian puts it in /usr/sbin, often off PATH)."""
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
    )
    if found is None:
        raise RuntimeError("mosquitto is not installed: `make deps` installs it (apt-get, as root)")
    return found


class Mosquitto:
    """One mosquitto on a free TCP port with its own config, persistence and log in `work_dir`.

    `restart()` keeps the port and the persistence file, as a broker restart on a Pi would.
    """

    def __init__(
        self,
        work_dir: Path,
        *,
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,  # (certfile, keyfile) for a TLS-only listener
    ) -> None:
        self.work_dir = work_dir
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.users = users
        self.tls = tls
        self.config_path = work_dir / "mosquitto.conf"
        self.log_path = work_dir / "mosquitto.log"
        self._proc: Proc | None = None
        self._write_config()

    def _write_config(self) -> None:
        lines = [
            # As root mosquitto switches to the `mosquitto` user unless told otherwise; that user
            # could not write the persistence file into a root-owned tmp_path.
            f"user {_current_user()}",
            f"listener {self.port} {self.host}",
            "persistence true",
            f"persistence_location {self.work_dir}/",
            "persistence_file mosquitto.db",
            "autosave_interval 1",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        if self.users is None:
            lines.append("allow_anonymous true")
        else:
            password_file = self.work_dir / "passwords"
            password_file.write_text("")
            for user, password in self.users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(password_file), user, password],
                    check=True,
                    capture_output=True,
                )
            password_file.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        if self.tls is not None:
            certfile, keyfile = self.tls
            lines += [f"certfile {certfile}", f"keyfile {keyfile}"]
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self) -> Mosquitto:
        """Start the broker and wait until it accepts TCP connections."""
        if self._proc is not None and self._proc.alive():
            return self
        self._proc = Proc(
            [mosquitto_binary(), "-c", str(self.config_path)],
            log_path=self.work_dir / "mosquitto.out",
        )
        proc = self._proc

        def listening() -> bool:
            if not proc.alive():
                raise AssertionError(f"mosquitto exited early:\n{self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.5),
            ):
                return True
            return False

        wait_until(listening, timeout=10, what=f"mosquitto on port {self.port}")
        return self

    def stop(self) -> None:
        """Stop the broker cleanly (SIGTERM), which also saves its persistence file."""
        if self._proc is not None:
            self._proc.stop()
            self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        parts = [self.work_dir / "mosquitto.out", self.log_path]
        return "".join(p.read_text(errors="replace") for p in parts if p.exists())


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


@dataclass(frozen=True, slots=True)
class Received:
    """One message as a subscriber saw it."""

    topic: str
    payload: bytes
    retain: bool
    qos: int

    @property
    def text(self) -> str:
        return self.payload.decode()


class Recorder:
    """A paho subscriber that records every message, for tests to poll and inspect."""

    def __init__(self, broker: Mosquitto, *topics: str, persistent_id: str | None = None) -> None:
        """`persistent_id`: a persistent session under that client id, so messages published
        while the broker restarts are queued for this subscriber as for a real one."""
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self._subscribed = threading.Event()
        self._topics = topics
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=persistent_id or "",
            protocol=mqtt.MQTTv311,
            clean_session=persistent_id is None,
        )
        self._client.reconnect_delay_set(0.1, 1)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.connect(broker.host, broker.port, keepalive=30)
        self._client.loop_start()
        wait_until(self._subscribed.is_set, timeout=10, what=f"subscription to {topics}")

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe([(t, 1) for t in self._topics])

    def _on_subscribe(self, *_: object) -> None:
        self._subscribed.set()

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._messages.append(
                Received(msg.topic, bytes(msg.payload), bool(msg.retain), msg.qos)
            )

    def messages(self, topic: str | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self._messages if topic is None or m.topic == topic]

    def wait_for(self, topic: str, count: int = 1, *, timeout: float = 20.0) -> list[Received]:
        """Wait until `count` messages arrived on `topic`; return them all."""
        return wait_until(
            lambda: (got := self.messages(topic)) and len(got) >= count and got,
            timeout=timeout,
            what=f"{count} message(s) on {topic}; got {[m.topic for m in self.messages()]}",
        )

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def retained(broker: Mosquitto, topic_filter: str, *, timeout: float = 10.0) -> dict[str, bytes]:
    """Every retained message under `topic_filter` now, as a fresh subscriber would get it."""
    marker = f"test/retained-done/{os.getpid()}/{free_port()}"
    rec = Recorder(broker, topic_filter, marker)
    try:
        # The broker sends retained messages right after SUBACK, before anything published later.
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        publisher.connect(broker.host, broker.port)
        publisher.loop_start()
        publisher.publish(marker, b"x", qos=1).wait_for_publish(10)
        rec.wait_for(marker, timeout=timeout)
        publisher.disconnect()
        publisher.loop_stop()
        return {m.topic: m.payload for m in rec.messages() if m.retain and m.topic != marker}
    finally:
        rec.close()


@contextlib.contextmanager
def recording(broker: Mosquitto, *topics: str) -> Iterator[Recorder]:
    rec = Recorder(broker, *topics)
    try:
        yield rec
    finally:
        rec.close()
