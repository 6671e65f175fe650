"""Constants for the Energy Anomaly integration."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "energy_anomaly"
NAME: Final = "Energy Anomaly"  # the integration's name, as the manifest gives it
LOGGER = logging.getLogger(__package__)

CONF_SOURCE: Final = "source"
CONF_HOMES: Final = "homes"
CONF_TEMPERATURE_ENTITY: Final = "temperature_entity"
CONF_FUSE_SIZE: Final = "fuse_size"
# A Tibber account's main fuse size per home (home id -> A): a cabin's fuse is not the house's, nor
# is a home's added to the account later. Without a home's, the entry's CONF_FUSE_SIZE (a power
# sensor home's and the demo's, and a Tibber account's as older releases saved it).
CONF_FUSE_SIZES: Final = "fuse_sizes"
# A sensor of the electricity price per unit of energy (e.g. NOK/kWh), for the always-on cost.
CONF_PRICE_ENTITY: Final = "price_entity"
# The ids of the account's Pulse homes the user has been offered (watched or left out): a Pulse
# home outside them is new on the account and is watched without asking.
CONF_OFFERED_HOMES: Final = "offered_homes"
# The ids of homes the entry no longer watches (gone from the account, or unticked in Reconfigure)
# whose learned state stays stored, so that one coming back resumes; deleted with the entry.
CONF_KEPT_HOMES: Final = "kept_homes"
SOURCE_TIBBER: Final = "tibber"
SOURCE_DEMO: Final = "demo"
SOURCE_ENTITY: Final = "entity"

# A home fed by Home Assistant entities (SOURCE_ENTITY): the sensors the user chose, by role.
CONF_POWER_ENTITY: Final = "power_entity"
# The power sensor is signed: negative while the home exports (its export is the production).
CONF_POWER_IS_NET: Final = "power_is_net"
CONF_PRODUCTION_ENTITY: Final = "power_production_entity"
CONF_VOLTAGE_ENTITIES: Final = tuple(f"voltage_l{phase}_entity" for phase in (1, 2, 3))
CONF_CURRENT_ENTITIES: Final = tuple(f"current_l{phase}_entity" for phase in (1, 2, 3))
# The home's grid as its voltage sensors read on the form: the nominal phase-to-neutral voltage (V)
# the power quality checks judge against. Absent until a voltage sensor read a value (as in entries
# saved before it was stored): the checks' own nominal, 230 V.
CONF_NOMINAL_VOLTAGE: Final = "nominal_voltage"

DEMO_HOME_ID: Final = "demo"
DEMO_UNIQUE_ID: Final = "demo"

EVENT_ANOMALY: Final = f"{DOMAIN}_detected"
# The key of a home's Anomaly binary sensor (its unique id is "<home id>_anomaly").
ANOMALY_KEY: Final = "anomaly"

# A Pulse sends a reading every 2-10 s: a home silent for this long counts as unavailable.
STALE_AFTER: Final = timedelta(seconds=60)
# How often the live connection is checked (and, when down, reconnected after its backoff).
HEALTH_CHECK_INTERVAL: Final = timedelta(seconds=10)
# An open live connection that carries no message for this long is closed and reopened.
LIVE_STALL_AFTER: Final = timedelta(seconds=90)
# How often a Tibber account's homes are listed again, to follow homes added or removed.
ACCOUNT_HOMES_REFRESH_INTERVAL: Final = timedelta(hours=1)
# Reconnect backoff after an ordinary failure: doubles from the first to the last, with jitter.
RECONNECT_BACKOFF_FIRST: Final = timedelta(seconds=10)
RECONNECT_BACKOFF_MAX: Final = timedelta(minutes=5)
# The backoffs start over only once a connection has carried data for this long: one that ends
# just after its first reading (a subscription Tibber keeps ending) must not reconnect every 10 s.
# Likewise a home's outage is over (logged as such) once its data has come for this long.
CONNECTION_STABLE_AFTER: Final = timedelta(minutes=5)
# Tibber refuses a third websocket per token (close code 4429): wait minutes, not seconds.
TOO_MANY_CONNECTIONS_CODE: Final = 4429
TOO_MANY_CONNECTIONS_BACKOFF_FIRST: Final = timedelta(minutes=5)
TOO_MANY_CONNECTIONS_BACKOFF_MAX: Final = timedelta(hours=1)
# Tibber closes the websocket with 4403 "Invalid token" when the token is revoked, mid-stream too.
# Its HTTP API, which the reauth flow checks a new token with, decides whether the user must act;
# a token the API still accepts is retried as far apart as after a 4429.
INVALID_TOKEN_CODE: Final = 4403

# Detector state is written at most this often in steady state (SD-card wear), and on shutdown.
# A state is 25-90 KB: every 15 minutes (as Home Assistant's own restore state) is 2-9 MB a day;
# a crash costs at most these minutes of learning, out of weeks.
STATE_SAVE_INTERVAL: Final = timedelta(minutes=15)
STORAGE_VERSION: Final = 1

ISSUE_TOO_MANY_CONNECTIONS: Final = "too_many_connections"
ISSUE_ENTITY: Final = "entity"
ISSUE_CLOCK_BEHIND: Final = "clock_behind"
ISSUE_CLOCK_WENT_BACK: Final = "clock_went_back"

# A stored state whose last reading is later than this host's clock by more than this is set
# aside (a clock that was far ahead, or damage): it would skip every reading until then. Within
# it, the host's clock is the one behind: a Pi without a real-time clock boots after a power cut
# at the time it last saved, up to an hour early, until NTP sets it; what was learned is kept.
MAX_STORED_AHEAD: Final = timedelta(days=1)

# Implausible readings are dropped; a warning says so at most this often per home.
REJECTED_READING_WARNING_INTERVAL: Final = timedelta(minutes=10)
# A live home whose readings have all been stamped in the future (more than MAX_FUTURE ahead of this
# host's clock), or a power sensor home whose readings have all been older than the last one
# learned from (the host's clock went back), for this long, none learned in between, gets a repair
# issue. Long enough that one stray timestamp, or a clock stepping at boot, raises nothing.
CLOCK_ISSUE_AFTER: Final = timedelta(minutes=10)

# Quantities a meter may or may not report; their sensors appear once it does.
OPTIONAL_QUANTITIES: Final = frozenset(
    {
        "power_production",
        *(f"{quantity}_l{phase}" for quantity in ("voltage", "current") for phase in (1, 2, 3)),
    }
)

# A new home learns from this many days of its past at setup: the two weeks of the learning
# period twice, as the consumption model compares with the last 14 days.
HISTORY_IMPORT_DAYS: Final = 28

# Guests chosen without an end time: looser detection for the day of a visit.
GUESTS_DEFAULT_DURATION: Final = timedelta(hours=24)
# The furthest end a mode may be given: "away until I say so" is a mode without an end, and an
# end near the year 9999 cannot even be held in UTC (Home Assistant's timers would fail on it).
# Ten calendar years with their most leap days (three) and a day for a change of clocks between
# now and then (counted as moments), so no end within ten years is refused.
MODE_END_AHEAD_MAX: Final = timedelta(days=10 * 365 + 3 + 1)
