"""What a home's name must hold: Home Assistant spells its entity ids from it."""

from homeassistant.util import slugify

# Home Assistant's slug of a text it cannot spell (emoji or marks alone), as of an empty one
_NO_SLUG = frozenset({"", "unknown"})


def spells_nothing(name: str) -> bool:
    """Whether entity ids cannot spell `name` (emoji or marks alone).

    Its entities would be `sensor.power`, `select.mode` and the like, nothing of the home in
    them. Home Assistant's slug of it is then empty or its stand-in "unknown", which a home
    named "Unknown" itself may have.
    """
    return slugify(name) in _NO_SLUG and name.casefold() != "unknown"
