"""Repair issues the integration raises: all are warnings the user fixes outside the flow."""

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .redact import hashed_id


def issue_id(kind: str, owner_id: str, *parts: str) -> str:
    """The id of a `kind` of issue of a home or an entry (`owner_id`), named by its hash.

    Core lists the ids of the integration's issues in the diagnostics download, where a home
    appears only as the hash of its id (a power-sensor home's id is its entry's).
    """
    return "_".join((kind, hashed_id(owner_id), *parts))


@callback
def async_delete_unhashed(hass: HomeAssistant, kind: str, owner_id: str, *parts: str) -> None:
    """Delete the issue an earlier release raised under `owner_id` in full, if it is there.

    The registry keeps an issue no longer raised (inactive), and core lists it in every download.
    """
    ir.async_delete_issue(hass, DOMAIN, "_".join((kind, owner_id, *parts)))


@callback
def async_warn(
    hass: HomeAssistant, issue_id: str, translation_key: str, placeholders: dict[str, str]
) -> None:
    """Create (or update) a non-fixable warning issue of this integration."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )
