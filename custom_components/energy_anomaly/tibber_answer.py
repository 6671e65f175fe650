"""Tibber's answers that pyTibber cannot read, made a connection fault like any other.

pyTibber reads every answer of Tibber's API in its response handler, which has no error of its
own for an answer it cannot read: a GraphQL error without `extensions` or without a `message`,
an empty body or a gateway's HTML page labelled JSON raise `AttributeError`, `TypeError` or
`json.JSONDecodeError` from deep inside it. Each is a fault of Tibber's or of the network, over
once Tibber answers as usual, so the requests whose callers tell errors apart go through
`read_tibber`, and retry a `TibberAnswerError` with the backoff they use for a server error
(a caller that takes any error alike, such as the token check after a refused websocket, needs
no wrapper).
"""

from collections.abc import Awaitable

# What pyTibber raises while reading an answer it cannot make sense of (JSONDecodeError is a
# ValueError).
_UNREADABLE_ANSWER = (AttributeError, IndexError, KeyError, TypeError, ValueError)


class TibberAnswerError(ConnectionError):
    """Tibber, or a gateway in front of it, answered what pyTibber could not read."""


async def read_tibber[T](request: Awaitable[T]) -> T:
    """The result of `request`, a pyTibber call, or TibberAnswerError for an unreadable answer.

    pyTibber's own errors (a rejected token, a server error) pass unchanged.
    """
    try:
        return await request
    except _UNREADABLE_ANSWER as err:
        raise TibberAnswerError(f"Tibber's answer could not be read ({err!r})") from err
