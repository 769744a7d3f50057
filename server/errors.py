"""The alert server's error root; foreign exceptions are translated at the boundary."""


class AlertServerError(Exception):
    """Base of every error the server raises on purpose."""


class ConfigError(AlertServerError):
    """The configuration is invalid; `problems` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
