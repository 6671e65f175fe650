"""What a published release promises: one version everywhere, HACS metadata HACS accepts, a
quality scale that answers every rule Home Assistant asks of its own integrations."""

import json
from pathlib import Path
import tomllib

import homeassistant.components
import yaml

REPO = Path(__file__).parents[1]
INTEGRATION = REPO / "custom_components" / "energy_anomaly"
# Keys HACS reads from hacs.json (hacs.xyz, "Publish: General"); render_readme was dropped.
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
}


def _rules(path: Path) -> dict[str, object]:
    rules: dict[str, object] = yaml.safe_load(path.read_text())["rules"]
    return rules


def test_manifest_pyproject_and_changelog_name_the_same_version() -> None:
    version = json.loads((INTEGRATION / "manifest.json").read_text())["version"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]

    assert project == version
    assert f"## {version}\n" in (REPO / "CHANGELOG.md").read_text()


def test_hacs_json_uses_only_keys_hacs_reads() -> None:
    assert set(json.loads((REPO / "hacs.json").read_text())) <= HACS_KEYS


def test_quality_scale_answers_every_rule_of_a_platinum_core_integration() -> None:
    # Peblar, a platinum integration of the installed Home Assistant, answers every rule.
    reference = Path(homeassistant.components.__file__).parent / "peblar" / "quality_scale.yaml"

    assert set(_rules(INTEGRATION / "quality_scale.yaml")) == set(_rules(reference))


def test_every_rule_not_done_says_why() -> None:
    unexplained = [
        name
        for name, rule in _rules(INTEGRATION / "quality_scale.yaml").items()
        if rule != "done" and not (isinstance(rule, dict) and rule.get("comment"))
    ]
    assert unexplained == []


def test_the_manifest_claims_the_tier_its_quality_scale_answers() -> None:
    """Every rule done or exempt (with its reason) is platinum: the tier is not left behind."""
    rules = _rules(INTEGRATION / "quality_scale.yaml").values()
    open_rules = [
        rule
        for rule in rules
        if rule == "todo" or (isinstance(rule, dict) and rule.get("status") == "todo")
    ]
    claimed = json.loads((INTEGRATION / "manifest.json").read_text())["quality_scale"]

    assert (claimed, open_rules) == ("platinum", [])
