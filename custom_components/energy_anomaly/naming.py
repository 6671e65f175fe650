"""What a home's name must hold: Home Assistant spells its entity ids from it."""

from homeassistant.util import slugify

# An entity's name after the home's, as Home Assistant joins them into an entity id
_ENTITY_NAME = "power"


def spells_nothing(name: str) -> bool:
    """Whether entity ids cannot spell `name` (emoji or marks alone).

    Its entities would be `sensor.power`, `select.mode` and the like, nothing of the home in
    them. Asked of the joined name, as the entity ids are made: Home Assistant's slug of a
    name alone is "unknown" both for one it cannot spell and for "Unknown." itself.
    """
    return slugify(f"{name} {_ENTITY_NAME}") == slugify(_ENTITY_NAME)
