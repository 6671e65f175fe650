"""Repair issues the integration raises: all are warnings the user fixes outside the flow."""

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


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
