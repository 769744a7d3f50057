"""Every schema step the server knows, composed from the domains that own the tables.

`alert-server run` (`create_app`) and the offline CLI (`integration`, `backup`, `restore`) open the
database with `all_migrations()`; a new domain adds its tuple here.
"""

from __future__ import annotations

from server.alerts.schema import MIGRATIONS as ALERTS_MIGRATIONS
from server.auth.passwords import PASSWORD_MIGRATIONS
from server.bridges.schema import BRIDGES_MIGRATIONS
from server.console.sessions import CONSOLE_MIGRATIONS
from server.db.migrate import Migration, ordered
from server.escalation.state_store import ESCALATION_MIGRATIONS
from server.inbound.schema import MIGRATIONS as INBOUND_MIGRATIONS
from server.integrations.extras_store import EXTRAS_MIGRATIONS
from server.integrations.schema import MIGRATIONS as INTEGRATIONS_MIGRATIONS
from server.mqtt.queue import MQTT_MIGRATIONS
from server.reports.schema import REPORTS_MIGRATIONS
from server.responder.schema import RESPONDER_MIGRATIONS

# Steps 1-3, once one module's: the integrations, alerts and inbound log tables.
CORE_MIGRATIONS: tuple[Migration, ...] = ordered(
    INTEGRATIONS_MIGRATIONS, ALERTS_MIGRATIONS, INBOUND_MIGRATIONS
)


def all_migrations() -> tuple[Migration, ...]:
    """Every step, in number order (two steps sharing a number are refused)."""
    return ordered(
        CORE_MIGRATIONS,
        REPORTS_MIGRATIONS,
        RESPONDER_MIGRATIONS,
        ESCALATION_MIGRATIONS,
        MQTT_MIGRATIONS,
        PASSWORD_MIGRATIONS,
        CONSOLE_MIGRATIONS,
        EXTRAS_MIGRATIONS,
        BRIDGES_MIGRATIONS,
    )
