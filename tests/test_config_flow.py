"""Config flow: every branch, with the real pyTibber client against the local Tibber server."""

from collections.abc import Iterator
from datetime import timedelta
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigFlowResult
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_anomaly import async_setup_entry as real_setup_entry
from custom_components.energy_anomaly.const import (
    CONF_HOMES,
    CONF_KEPT_HOMES,
    CONF_OFFERED_HOMES,
    CONF_POWER_ENTITY,
    CONF_SOURCE,
    DEMO_UNIQUE_ID,
    DOMAIN,
    SOURCE_DEMO,
    SOURCE_ENTITY,
    SOURCE_TIBBER,
)
from custom_components.energy_anomaly.redact import hashed_id

from .conftest import HOME_A, HOME_B, HOME_NO_PULSE, USER_ID
from .test_live_connection import jump
from .test_live_data import wait_until
from .tibber_server import DEFAULT_TOKEN, HttpFault, LocalAccount, LocalHome, LocalTibberServer

pytestmark = pytest.mark.usefixtures("tibber_server")


@pytest.fixture(autouse=True)
def setup_entry() -> Iterator[AsyncMock]:
    """Keep the flow tests about the flow: creating an entry does not start it."""
    with patch("custom_components.energy_anomaly.async_setup_entry", return_value=True) as mock:
        yield mock


async def _token_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [SOURCE_TIBBER, SOURCE_ENTITY, SOURCE_DEMO]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_TIBBER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == SOURCE_TIBBER
    return result["flow_id"]


async def _submit_token(hass: HomeAssistant, flow_id: str) -> ConfigFlowResult:
    """Submit the local server's valid token on the token form."""
    return await hass.config_entries.flow.async_configure(
        flow_id, {CONF_ACCESS_TOKEN: DEFAULT_TOKEN}
    )


async def test_token_then_chosen_homes_create_one_entry_per_account(hass: HomeAssistant) -> None:
    flow_id = await _token_form(hass)
    result = await _submit_token(hass, flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "homes"
    offered = result["data_schema"].schema[CONF_HOMES].config["options"]
    assert [option["value"] for option in offered] == [HOME_A, HOME_B]

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOMES: [HOME_B]})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Ada Lovelace"
    assert result["result"].unique_id == USER_ID
    assert result["data"] == {
        CONF_SOURCE: SOURCE_TIBBER,
        CONF_ACCESS_TOKEN: DEFAULT_TOKEN,
        CONF_HOMES: {HOME_B: "Flat"},
        CONF_OFFERED_HOMES: sorted([HOME_A, HOME_B]),
    }


@pytest.mark.parametrize(
    "tibber_account",
    [
        LocalAccount(
            user_id=USER_ID,
            name="Ada Lovelace",
            homes=[
                LocalHome(HOME_A, nickname="Cabin"),
                LocalHome(HOME_NO_PULSE, has_pulse=False),
            ],
        )
    ],
)
async def test_account_with_one_pulse_home_skips_the_home_choice(hass: HomeAssistant) -> None:
    flow_id = await _token_form(hass)
    result = await _submit_token(hass, flow_id)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOMES] == {HOME_A: "Cabin"}


async def test_choosing_no_home_shows_an_error_and_choosing_one_then_works(
    hass: HomeAssistant,
) -> None:
    flow_id = await _token_form(hass)
    await _submit_token(hass, flow_id)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOMES: []})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_home_selected"}

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOMES: [HOME_A]})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOMES] == {HOME_A: "Cabin"}


async def test_invalid_token_shows_an_error_and_a_good_token_then_works(
    hass: HomeAssistant,
) -> None:
    flow_id = await _token_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_ACCESS_TOKEN: "not-a-token"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ACCESS_TOKEN: "invalid_auth"}

    result = await _submit_token(hass, flow_id)
    assert result["step_id"] == "homes"
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOMES: [HOME_A]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ACCESS_TOKEN] == DEFAULT_TOKEN


@pytest.mark.parametrize("fault", [HttpFault.SERVER_ERROR, HttpFault.RATE_LIMITED])
async def test_unreachable_tibber_shows_cannot_connect_and_a_retry_then_works(
    hass: HomeAssistant, tibber_server: LocalTibberServer, fault: HttpFault
) -> None:
    flow_id = await _token_form(hass)
    tibber_server.http_fault = fault
    result = await _submit_token(hass, flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    tibber_server.http_fault = None
    result = await _submit_token(hass, flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "homes"


@pytest.mark.parametrize(
    "tibber_account",
    [LocalAccount(user_id=USER_ID, homes=[LocalHome(HOME_NO_PULSE, has_pulse=False)])],
)
async def test_account_without_pulse_shows_no_pulse_until_a_home_has_one(
    hass: HomeAssistant, tibber_server: LocalTibberServer
) -> None:
    flow_id = await _token_form(hass)
    result = await _submit_token(hass, flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_pulse"}

    tibber_server.account.homes.append(LocalHome(HOME_A, nickname="Cabin"))
    result = await _submit_token(hass, flow_id)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOMES] == {HOME_A: "Cabin"}


async def test_unexpected_error_shows_unknown_and_a_retry_then_works(
    hass: HomeAssistant,
) -> None:
    flow_id = await _token_form(hass)
    with patch(
        "custom_components.energy_anomaly.config_flow.async_fetch_account",
        side_effect=RuntimeError("boom"),
    ):
        result = await _submit_token(hass, flow_id)
    assert result["errors"] == {"base": "unknown"}

    result = await _submit_token(hass, flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "homes"


async def test_same_account_cannot_be_added_twice(
    hass: HomeAssistant, tibber_entry: MockConfigEntry
) -> None:
    tibber_entry.add_to_hass(hass)
    flow_id = await _token_form(hass)
    result = await _submit_token(hass, flow_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def shared_home_entry(homes: dict[str, str]) -> MockConfigEntry:
    """Another account's entry watching `homes`, shared with the local server's account."""
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id="another-member-of-the-home",
        data={CONF_SOURCE: SOURCE_TIBBER, CONF_ACCESS_TOKEN: "other", CONF_HOMES: homes},
    )


async def test_a_home_another_entry_watches_is_not_offered(hass: HomeAssistant) -> None:
    shared_home_entry({HOME_A: "Cabin"}).add_to_hass(hass)  # shared with a second account
    flow_id = await _token_form(hass)

    result = await _submit_token(hass, flow_id)

    assert result["type"] is FlowResultType.CREATE_ENTRY  # the one home left needs no choice
    assert result["data"][CONF_HOMES] == {HOME_B: "Flat"}


async def test_an_account_whose_homes_other_entries_all_watch_is_refused(
    hass: HomeAssistant,
) -> None:
    shared_home_entry({HOME_A: "Cabin", HOME_B: "Flat"}).add_to_hass(hass)
    flow_id = await _token_form(hass)

    result = await _submit_token(hass, flow_id)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "homes_watched_elsewhere"


async def test_demo_home_needs_no_account_and_is_added_once(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_DEMO}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_SOURCE: SOURCE_DEMO}
    assert result["result"].unique_id == DEMO_UNIQUE_ID

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_DEMO}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_a_second_demo_flow_while_one_is_open_is_refused_in_words(
    hass: HomeAssistant,
) -> None:
    for _ in range(2):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": SOURCE_DEMO}
        )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_in_progress"
    texts = await async_get_translations(hass, "en", "config", {DOMAIN})
    assert texts[f"component.{DOMAIN}.config.abort.already_in_progress"].startswith("This is")


async def test_reauth_with_a_new_token_of_the_same_account_updates_the_entry(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    tibber_entry.add_to_hass(hass)
    tibber_server.valid_tokens = {"new-token"}
    result = await tibber_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: DEFAULT_TOKEN}
    )
    assert result["errors"] == {CONF_ACCESS_TOKEN: "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: "new-token"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert tibber_entry.data[CONF_ACCESS_TOKEN] == "new-token"
    assert tibber_entry.data[CONF_HOMES] == {HOME_A: "Cabin", HOME_B: "Flat"}


async def test_the_reauth_dialog_names_the_account_whose_token_to_create(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Two accounts' entries: the dialog says which one needs a new token."""
    tibber_entry.add_to_hass(hass)

    result = await tibber_entry.start_reauth_flow(hass)

    texts = await async_get_translations(hass, "en", "config", {DOMAIN})
    title = texts[f"component.{DOMAIN}.config.step.reauth_confirm.title"]
    assert title.format(**result["description_placeholders"]) == (
        f"Tibber token of {tibber_entry.title} no longer valid"
    )


async def test_reauth_with_a_token_of_another_account_is_refused_and_asked_again(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    tibber_entry.add_to_hass(hass)
    tibber_server.account.user_id = "someone-else"
    result = await tibber_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: DEFAULT_TOKEN}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_account"}
    assert tibber_entry.data[CONF_ACCESS_TOKEN] == DEFAULT_TOKEN


async def test_reconfigure_changes_the_watched_homes_and_removes_the_dropped_device(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
) -> None:
    with patch("custom_components.energy_anomaly.async_setup_entry", wraps=real_setup_entry):
        tibber_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(tibber_entry.entry_id)
        await tibber_server.wait_for_subscriptions(2)
        await hass.async_block_till_done(wait_background_tasks=True)  # the history import
        result = await tibber_entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ACCESS_TOKEN: DEFAULT_TOKEN}
        )
        assert result["step_id"] == "homes"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOMES: [HOME_A]}
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        await tibber_server.wait_for_subscriptions(1)  # the reloaded entry's websocket is up

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert tibber_entry.data[CONF_HOMES] == {HOME_A: "Cabin"}
    assert tibber_entry.data[CONF_OFFERED_HOMES] == sorted([HOME_A, HOME_B])  # B stays out
    assert tibber_entry.data[CONF_KEPT_HOMES] == [HOME_B]  # what it learned goes with the entry
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), tibber_entry.entry_id)
    assert [device.name for device in devices] == ["Cabin"]


async def test_reconfigure_with_a_token_of_another_account_is_refused(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    tibber_entry.add_to_hass(hass)
    tibber_server.account.user_id = "someone-else"
    result = await tibber_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: DEFAULT_TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


async def test_the_demo_home_has_nothing_to_reconfigure(
    hass: HomeAssistant, demo_entry: MockConfigEntry
) -> None:
    demo_entry.add_to_hass(hass)
    result = await demo_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nothing_to_reconfigure"


@pytest.mark.parametrize(
    ("fault", "error"),
    [(HttpFault.BAD_GATEWAY, "cannot_connect"), (None, "invalid_auth")],
)
async def test_the_token_form_keeps_the_token_typed_after_an_error(
    hass: HomeAssistant, tibber_server: LocalTibberServer, fault: HttpFault | None, error: str
) -> None:
    flow_id = await _token_form(hass)
    tibber_server.http_fault = fault
    typed = DEFAULT_TOKEN if fault else "a-token-with-a-typo"
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_ACCESS_TOKEN: typed})
    assert result["type"] is FlowResultType.FORM
    assert error in result["errors"].values()

    [key] = result["data_schema"].schema
    assert (key.description or {}).get("suggested_value") == typed


@pytest.mark.parametrize(
    "tibber_account",
    [
        pytest.param(
            LocalAccount(user_id=USER_ID, homes=[LocalHome(HOME_A), LocalHome(HOME_B, nickname=n)]),
            id=label,
        )
        for n, label in (
            (None, "no nickname"),
            ("\N{HOUSE WITH GARDEN}", "a nickname of emoji alone"),
        )
    ],
)
async def test_a_pulse_home_without_a_nickname_is_named_by_its_address(
    hass: HomeAssistant,
) -> None:
    """Also one whose nickname entity ids cannot spell (emoji alone: `sensor.power`)."""
    flow_id = await _token_form(hass)
    result = await _submit_token(hass, flow_id)
    assert result["step_id"] == "homes"
    offered = result["data_schema"].schema[CONF_HOMES].config["options"]

    assert {option["value"]: option["label"] for option in offered} == {
        HOME_A: "Home",
        HOME_B: "Testveien 1",
    }


@pytest.mark.parametrize(
    "tibber_account",
    [
        LocalAccount(
            user_id=USER_ID,
            homes=[LocalHome(HOME_A), LocalHome(HOME_B, nickname=None, address1=None)],
        )
    ],
)
async def test_a_pulse_home_without_a_nickname_or_an_address_is_named_by_its_hash(
    hass: HomeAssistant,
) -> None:
    flow_id = await _token_form(hass)
    result = await _submit_token(hass, flow_id)
    offered = result["data_schema"].schema[CONF_HOMES].config["options"]

    assert {option["value"]: option["label"] for option in offered} == {
        HOME_A: "Home",
        HOME_B: f"Tibber home {hashed_id(HOME_B)}",
    }


HOME_NEW = "00000000-0000-4000-8000-00000000000d"


async def test_reconfigure_ticks_a_pulse_home_new_on_the_account_as_setup_would_watch_it(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    """Saved as shown (only the token changed), the new home is watched, as the hourly listing
    would have watched it: only a home the user unticks stays out."""
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tibber_entry, data={**tibber_entry.data, CONF_OFFERED_HOMES: sorted([HOME_A, HOME_B])}
    )
    tibber_server.account.homes.append(LocalHome(HOME_NEW, nickname="Boathouse"))
    result = await tibber_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: DEFAULT_TOKEN}
    )
    assert result["step_id"] == "homes"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})

    assert result["reason"] == "reconfigure_successful"
    assert tibber_entry.data[CONF_HOMES] == {HOME_A: "Cabin", HOME_B: "Flat", HOME_NEW: "Boathouse"}


async def test_reconfigure_names_a_token_of_another_account_without_a_pulse_as_another_account(
    hass: HomeAssistant, tibber_server: LocalTibberServer, tibber_entry: MockConfigEntry
) -> None:
    tibber_entry.add_to_hass(hass)
    tibber_server.account = LocalAccount(
        user_id="someone-else", homes=[LocalHome(HOME_NEW, has_pulse=False)]
    )
    result = await tibber_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: DEFAULT_TOKEN}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


async def _other_account_added_in_another_window(
    hass: HomeAssistant, tibber_server: LocalTibberServer, homes: list[LocalHome]
) -> None:
    """The other member of shared `homes` adds their own account with all of them meanwhile."""
    mine = tibber_server.account
    tibber_server.account = LocalAccount(user_id="another-member-of-the-home", homes=homes)
    flow_id = await _token_form(hass)
    result = await _submit_token(hass, flow_id)
    if result["type"] is FlowResultType.FORM:
        chosen = [home.home_id for home in homes]
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_HOMES: chosen})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    tibber_server.account = mine


async def cabin_ticked_after_another_window_took(
    hass: HomeAssistant, server: LocalTibberServer, taken: list[LocalHome]
) -> tuple[str, ConfigFlowResult]:
    """The homes form shows Cabin and Flat; another window's entry takes `taken`; Cabin is sent.

    Returns the flow's id and the result of sending Cabin.
    """
    flow_id = await _token_form(hass)
    result = await _submit_token(hass, flow_id)
    assert result["step_id"] == "homes"  # Cabin and Flat offered
    await _other_account_added_in_another_window(hass, server, taken)
    return flow_id, await hass.config_entries.flow.async_configure(flow_id, {CONF_HOMES: [HOME_A]})


async def test_homes_another_window_took_while_the_form_was_open_abort_as_watched_elsewhere(
    hass: HomeAssistant, tibber_server: LocalTibberServer
) -> None:
    _, result = await cabin_ticked_after_another_window_took(
        hass,
        tibber_server,
        [LocalHome(HOME_A, nickname="Cabin"), LocalHome(HOME_B, nickname="Flat")],
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "homes_watched_elsewhere"


async def test_a_home_left_out_is_not_watched_when_another_window_took_the_one_chosen(
    hass: HomeAssistant, tibber_server: LocalTibberServer
) -> None:
    _, result = await cabin_ticked_after_another_window_took(
        hass, tibber_server, [LocalHome(HOME_A, nickname="Cabin")]
    )

    assert result["type"] is FlowResultType.FORM  # asked again, with what is left to choose
    assert (result["step_id"], result["errors"]) == ("homes", {"base": "home_taken_meanwhile"})
    offered = result["data_schema"].schema[CONF_HOMES].config["options"]
    assert [option["value"] for option in offered] == [HOME_B]


@pytest.mark.parametrize(
    "tibber_account",
    [LocalAccount(user_id=USER_ID, homes=[LocalHome(HOME_NO_PULSE, has_pulse=False)])],
)
async def test_an_account_without_pulse_says_no_pulse_also_in_a_second_window(
    hass: HomeAssistant,
) -> None:
    first = await _token_form(hass)
    result = await _submit_token(hass, first)
    assert result["errors"] == {"base": "no_pulse"}
    second = await _token_form(hass)

    result = await _submit_token(hass, second)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_pulse"}


async def test_an_account_a_first_window_is_choosing_homes_of_is_refused_in_a_second(
    hass: HomeAssistant,
) -> None:
    first = await _token_form(hass)
    result = await _submit_token(hass, first)
    assert result["step_id"] == "homes"
    second = await _token_form(hass)

    result = await _submit_token(hass, second)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_in_progress"


async def test_the_homes_form_asked_again_does_not_tick_a_home_the_user_left_out(
    hass: HomeAssistant, tibber_server: LocalTibberServer
) -> None:
    flow_id, result = await cabin_ticked_after_another_window_took(
        hass, tibber_server, [LocalHome(HOME_A, nickname="Cabin")]
    )
    assert result["errors"] == {"base": "home_taken_meanwhile"}  # Flat is left to choose

    result = await hass.config_entries.flow.async_configure(flow_id, {})  # sent as shown

    assert result["type"] is FlowResultType.FORM  # Flat, left out, is not watched
    assert result["errors"] == {"base": "no_home_selected"}


async def test_the_home_name_the_power_sensor_form_suggests_is_one_it_accepts(
    hass: HomeAssistant,
) -> None:
    """Home Assistant's own name for the home may be emoji alone, which the form refuses (entity
    ids cannot spell it): a form sent as suggested must not come back with its own suggestion."""
    hass.config.location_name = "\N{HOUSE WITH GARDEN}"
    hass.states.async_set("sensor.meter_power", "400", {"unit_of_measurement": "W"})
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_ENTITY}
    )
    name = next(key for key in result["data_schema"].schema if str(key) == CONF_NAME)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: name.description["suggested_value"], CONF_POWER_ENTITY: "sensor.meter_power"},
    )

    assert result.get("errors") is None
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    "tibber_account",
    [
        LocalAccount(
            user_id=USER_ID, name="Ada Lovelace", homes=[LocalHome(HOME_B, nickname="Flat")]
        )
    ],
)
async def test_reconfigure_does_not_watch_a_home_the_user_left_out_without_asking(
    hass: HomeAssistant, tibber_entry: MockConfigEntry
) -> None:
    """Cabin (watched) left the account; Flat, left out when the entry was set up, is the one
    Pulse home left. A new token alone must not watch Flat: a home left out stays out."""
    tibber_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tibber_entry,
        data={
            **tibber_entry.data,
            CONF_HOMES: {HOME_A: "Cabin"},
            CONF_OFFERED_HOMES: sorted([HOME_A, HOME_B]),
        },
    )
    result = await tibber_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: DEFAULT_TOKEN}
    )

    assert HOME_B not in tibber_entry.data[CONF_HOMES]
    assert (result["type"], result.get("step_id")) == (FlowResultType.FORM, "homes")


async def test_a_token_rejected_while_a_reconfigure_window_is_open_is_asked_for_after_it_closes(
    hass: HomeAssistant,
    tibber_server: LocalTibberServer,
    tibber_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Home Assistant starts no reauth flow for an entry while its Reconfigure is open; the live
    source stops for good once the token is rejected. Closed without saving, the window must not
    leave the homes waiting for a token that nothing asks for."""
    with patch("custom_components.energy_anomaly.async_setup_entry", wraps=real_setup_entry):
        tibber_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(tibber_entry.entry_id)
        await tibber_server.wait_for_subscriptions(2)
        result = await tibber_entry.start_reconfigure_flow(hass)
        assert await tibber_server.revoke_token(DEFAULT_TOKEN) == 1  # closed with 4403
        await wait_until(hass, lambda: "reauthentication card" in caplog.text)

        hass.config_entries.flow.async_abort(result["flow_id"])  # the window is closed
        await jump(hass, timedelta(hours=1, minutes=5))  # and the hourly listing ran

    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


@pytest.mark.parametrize(
    "tibber_account",
    [
        LocalAccount(
            user_id=USER_ID,
            homes=[
                LocalHome(HOME_A, nickname=None, address1="Bygata 2"),
                LocalHome(HOME_B, nickname=None, address1="Bygata 2"),
            ],
        )
    ],
)
async def test_two_homes_of_one_address_are_offered_under_labels_that_tell_them_apart(
    hass: HomeAssistant,
) -> None:
    """Two flats of one building, neither given a nickname in the Tibber app."""
    flow_id = await _token_form(hass)
    result = await _submit_token(hass, flow_id)
    assert result["step_id"] == "homes"

    offered = result["data_schema"].schema[CONF_HOMES].config["options"]

    labels = [option["label"] for option in offered]
    assert len(set(labels)) == len(labels), labels


@pytest.mark.parametrize(
    "tibber_account",
    [
        LocalAccount(
            user_id=USER_ID,
            homes=[
                LocalHome(HOME_A, nickname=None, address1="Bygata 2"),
                LocalHome(HOME_NO_PULSE, nickname=None, address1="Bygata 2", has_pulse=False),
            ],
        )
    ],
)
async def test_a_namesake_without_a_pulse_leaves_a_homes_name_as_it_is(
    hass: HomeAssistant,
) -> None:
    """An old contract at one address, without a Pulse: never offered, nothing to tell apart."""
    flow_id = await _token_form(hass)

    result = await _submit_token(hass, flow_id)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOMES] == {HOME_A: "Bygata 2"}
