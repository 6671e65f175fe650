"""Keep the Tibber access token out of the log, whatever debug logging the user turns on.

The token travels in the websocket's `connection_init` message, which gql logs in full at debug
level (">>> {...}") and websockets logs as a frame shortened to its start and end (so the
token's last characters can show without the word "token" next to them). Their debug output is
what a user enables to report a connection problem, so every record of the loggers that carry
Tibber traffic is redacted while an entry is loaded: the entry's token (also any long start or
end of it), and any "token" or Authorization value.
"""

from collections.abc import Iterable
import hashlib
import logging
import re
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import CALLBACK_TYPE, callback

REDACTED: Final = "**REDACTED**"
HASHED_ID_LENGTH: Final = 8  # hex digits of sha256: enough to tell a user's homes apart


def hashed_id(home_id: str) -> str:
    """A short, stable stand-in for a home id (first hex digits of its sha256).

    Wherever a home id would reach a file a user may share (the diagnostics download, which also
    lists the ids of the integration's repair issues): Tibber's home id is a lasting identifier
    of the home, and a random one, so its hash cannot be turned back into it.
    """
    return hashlib.sha256(home_id.encode()).hexdigest()[:HASHED_ID_LENGTH]


# The loggers that log Tibber's HTTP or websocket traffic, found in the sources of pyTibber
# 0.37.6 and 0.39.1, gql 4 and websockets 14+. A filter only sees records of the very logger it
# is attached to (not of its children), so these are the emitting loggers themselves.
TRAFFIC_LOGGERS: Final = (
    "tibber",
    "tibber.data_api",
    "tibber.home",
    "tibber.realtime",
    "tibber.response_handler",
    "tibber.token_manager",
    "tibber.websocket_transport",
    "gql.client",
    "gql.transport.common.adapters.websockets",
    "gql.transport.common.base",
    "gql.transport.websockets",
    "websockets.client",
)
# pyTibber's error line for an HTTP status it did not expect, and the loggers that write it
# (pyTibber 0.37.6 and 0.39.1: its response handler and its data API).
UNEXPECTED_HTTP_STATUS: Final = "Unexpected HTTP status: %s"
HTTP_STATUS_LOGGERS: Final = ("tibber.response_handler", "tibber.data_api")
# A shortened frame shows at most the token's first or last few characters; any run of this
# many (or more) is hidden. Shorter ones say nothing useful about a random token.
MIN_SECRET_FRAGMENT: Final = 8
_LABELLED_SECRET: Final = re.compile(
    r"""(?P<label>["'][\w-]*token["']\s*:\s*["']|authorization["']?\s*[:=]\s*["']?(?:bearer\s+)?)"""
    r"""[^\s"',;}]+""",
    re.IGNORECASE,
)


def _fragments(secret: str) -> list[str]:
    """The secret, and every start and end of it at least MIN_SECRET_FRAGMENT long."""
    lengths = range(min(MIN_SECRET_FRAGMENT, len(secret)), len(secret) + 1)
    return list({part for n in lengths for part in (secret[:n], secret[-n:])})


class SecretRedactor(logging.Filter):
    """Rewrites a record whose message shows a secret; never drops a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        """Hide `secrets` (the longest matching piece first) and labelled token values."""
        super().__init__()
        pieces = sorted({p for s in secrets if s for p in _fragments(s)}, key=len, reverse=True)
        self._secret = re.compile("|".join(map(re.escape, pieces))) if pieces else None

    def redact(self, text: str) -> str:
        """Return `text` with every secret replaced by REDACTED."""
        text = _LABELLED_SECRET.sub(lambda match: match["label"] + REDACTED, text)
        return text if self._secret is None else self._secret.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message (msg and args merged) by its redacted text."""
        try:
            message = record.getMessage()
        except TypeError, ValueError:  # a broken format string: the handler reports it
            return True
        if (redacted := self.redact(message)) != message:
            record.msg, record.args = redacted, None
        return True


class RetriedHttpErrorQuieter(logging.Filter):
    """Drops pyTibber's error line for an HTTP status it did not expect, unless debugging.

    pyTibber logs "Unexpected HTTP status: 500" as an error on every request Tibber answers so:
    every reconnect asks for the websocket's address, and the homes are listed every hour, so an
    outage of Tibber's API would write a line at each retry. The integration says it once per
    home (a warning with the reason) and its retries at debug level; with debug logging on for
    pyTibber (*Enable debug logging*), its lines show as before.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but that error, which is kept only while pyTibber is debugged."""
        return record.msg != UNEXPECTED_HTTP_STATUS or _debugged(logging.getLogger(record.name))


def _debugged(logger: logging.Logger) -> bool:
    """Whether debug logging was turned on for `logger` or a parent of it below the root.

    As *Enable debug logging* and `logger:` in configuration.yaml do; the root's level (Home
    Assistant's default) says nothing about pyTibber.
    """
    current: logging.Logger | None = logger
    while current is not None and current.parent is not None:  # the root has no parent
        if current.level != logging.NOTSET:
            return current.level <= logging.DEBUG
        current = current.parent
    return False


@callback
def async_redact_token_in_logs(entry: ConfigEntry) -> CALLBACK_TYPE:
    """Redact the entry's token from the traffic loggers until the returned function is called.

    Until then, pyTibber's error for an unexpected HTTP status is quieted too
    (`RetriedHttpErrorQuieter`).
    """
    # stripped: the token sent (an entry of an older release may hold it with spaces around)
    redactor = SecretRedactor([entry.data.get(CONF_ACCESS_TOKEN, "").strip()])
    loggers = [logging.getLogger(name) for name in TRAFFIC_LOGGERS]
    for logger in loggers:
        logger.addFilter(redactor)
    quieter = RetriedHttpErrorQuieter()
    http_loggers = [logging.getLogger(name) for name in HTTP_STATUS_LOGGERS]
    for logger in http_loggers:
        logger.addFilter(quieter)

    @callback
    def remove() -> None:
        for logger in loggers:
            logger.removeFilter(redactor)
        for logger in http_loggers:
            logger.removeFilter(quieter)

    return remove
