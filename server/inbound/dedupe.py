"""Dedupe policy (pure): a mapping decision plus the live alert, if any, give status and action."""

from __future__ import annotations

from dataclasses import dataclass

from server.inbound.mapping import Decision

STATUSES = (
    "mapped",
    "mapped_appended",
    "mapped_ignored",
    "mapping_failed",
    "filtered",
    "suppressed",
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Inbound log status, API action, and the alert change to make (`""` for none)."""

    status: str
    action: str
    change: str
    reason: str


def classify(decision: Decision, live_alert_id: int | None, *, suppressed: bool) -> Outcome:
    """Apply AlertOps' rules: open or append while live, close only what is live.

    During a maintenance window an open-status message is `suppressed`; a close still closes,
    so an alert raised before the window can end inside it.
    """
    reason = decision.reason
    if decision.verdict == "failed":
        return Outcome("mapping_failed", "none", "", reason)
    if decision.verdict == "filtered":
        return Outcome("filtered", "none", "", reason)
    if decision.verdict == "ignore":
        return Outcome("mapped_ignored", "ignore", "", reason)
    if decision.verdict == "open":
        if suppressed:
            return Outcome("suppressed", "none", "", f"maintenance window; {reason}")
        if live_alert_id is None:
            return Outcome("mapped", "open", "open", reason)
        return Outcome("mapped_appended", "append", "append", reason)
    if decision.verdict in ("acknowledge", "note"):
        return _on_live(decision, live_alert_id)
    if live_alert_id is None:
        return Outcome(
            "mapped_ignored",
            "ignore",
            "",
            f"no open alert for {decision.source_name!r} to close; {reason}",
        )
    return Outcome("mapped", "close", "close", reason)


def _on_live(decision: Decision, live_alert_id: int | None) -> Outcome:
    """An acknowledge (`mapped`) or a timeline note (`mapped_appended`) for the live alert."""
    verb = "acknowledge" if decision.verdict == "acknowledge" else "note it on"
    if live_alert_id is None:
        named = "" if decision.source_name is None else f" for {decision.source_name!r}"
        reason = f"no open alert{named} to {verb}; {decision.reason}"
        return Outcome("mapped_ignored", "ignore", "", reason)
    if decision.verdict == "acknowledge":
        return Outcome("mapped", "acknowledge", "acknowledge", decision.reason)
    return Outcome("mapped_appended", "note", "note", decision.reason)
