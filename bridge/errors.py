"""The bridge's error root; foreign exceptions are translated at the boundary."""


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""


class ConfigError(BridgeError):
    """The configuration file is invalid; `problems` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class SourceError(BridgeError):
    """A click source lost its connection or cannot start (the supervisor retries)."""


class DeliveryError(BridgeError):
    """A delivery attempt failed; `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)
