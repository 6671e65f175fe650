"""What a published release promises: one version everywhere, HACS metadata HACS accepts, a
quality scale that answers every rule Home Assistant asks of its own integrations."""

import ast
import json
from pathlib import Path
import re
import tomllib

import homeassistant.components
from homeassistant.const import Platform
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


def test_every_config_entry_argument_is_the_typed_entry_core_checks_for_strict_typing() -> None:
    """runtime-data with strict-typing done: core's hassfest (quality_scale_validation/
    runtime_data.py) requires the entry argument of the entry functions, the platforms'
    async_setup_entry and the options flow's async_get_options_flow to be annotated with a
    `<Name>ConfigEntry` alias; a bare `ConfigEntry` is reported as "does not use typed
    ConfigEntry"."""
    typed = re.compile(r"^[A-Za-z]+ConfigEntry$")
    checked = {
        "__init__": {
            "async_migrate_entry",
            "async_remove_config_entry_device",
            "async_remove_entry",
            "async_setup_entry",
            "async_unload_entry",
        },
        "diagnostics": {"async_get_config_entry_diagnostics", "async_get_device_diagnostics"},
        **{platform.value: {"async_setup_entry"} for platform in Platform},
    }
    untyped = []
    for module, names in checked.items():
        if not (path := INTEGRATION / f"{module}.py").exists():
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.AsyncFunctionDef) and node.name in names:
                annotation = node.args.args[1].annotation
                if not (isinstance(annotation, ast.Name) and typed.match(annotation.id)):
                    untyped.append(f"{module}.{node.name}")
    for node in ast.walk(ast.parse((INTEGRATION / "config_flow.py").read_text())):
        if isinstance(node, ast.FunctionDef) and node.name == "async_get_options_flow":
            annotation = node.args.args[0].annotation
            if not (isinstance(annotation, ast.Name) and typed.match(annotation.id)):
                untyped.append(f"config_flow.{node.name}")

    rules = _rules(INTEGRATION / "quality_scale.yaml")
    claimed = {
        name: rule if isinstance(rule, str) else rule["status"]  # type: ignore[index]
        for name, rule in rules.items()
        if name in ("runtime-data", "strict-typing")
    }
    assert claimed == {"runtime-data": "done", "strict-typing": "done"}
    assert untyped == []
