"""Every rule folder is complete and consistent: RDK metadata, handler, scenarios mirrored by tests."""
from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from perimeter.events import CHANGE, OVERSIZED
from perimeter.registry import all_rules

TESTS = Path(__file__).parent
SPECS = all_rules()
IDS = [spec.rule_id for spec in SPECS]


def test_the_pack_has_rules():
    assert "sg-ingress-port-range-restricted" in IDS


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_rdk_schema_and_naming(spec):
    metadata = json.loads((spec.folder / "parameters.json").read_text())
    parameters = metadata["Parameters"]

    assert metadata["Version"] == "1.0"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", spec.rule_id)
    assert spec.folder.name == spec.rule_id.replace("-", "_")
    assert parameters["SourceRuntime"].startswith("python3.")
    assert len(parameters["Description"]) <= 256
    for key in ("InputParameters", "OptionalParameters"):
        assert isinstance(json.loads(parameters[key]), dict)
    assert json.loads(metadata["Tags"]) == []
    for name, default in spec.parameter_defaults.items():
        assert isinstance(default, str), f"{name}: Config passes parameters as strings"
        assert name in metadata["Perimeter"]["ParameterDescriptions"]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_change_triggered_rules_take_both_change_message_types(spec):
    if spec.metadata["Parameters"]["SourceEvents"]:
        assert {CHANGE, OVERSIZED} <= set(spec.metadata["Perimeter"]["Triggers"])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_defaults_parse(spec):
    spec.parse_parameters({})
    spec.parse_parameters(dict(spec.parameter_defaults))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_the_entry_point_serves_this_rule_by_its_environment_variable(spec, monkeypatch):
    from perimeter import entry

    monkeypatch.setenv(entry.RULE_ID_VARIABLE, spec.rule_id)
    assert entry.handler_for_environment().spec is spec


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_rule_module_does_not_import_aws_libraries(spec):
    """Pure rules are bundled into runbook scripts; rdklib stays in handler.py."""
    source = (spec.folder / "rule.py").read_text()

    assert not re.search(r"^\s*(import|from)\s+(boto3|botocore|rdklib)\b", source, re.M)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_scenarios_are_mirrored_one_to_one_by_tests(spec):
    scenarios = sorted({int(n) for n in re.findall(r"^S(\d+)\s", spec.module.__doc__, re.M)})
    test_file = TESTS / f"test_rule_{spec.folder.name}.py"  # named after the rule's folder
    assert test_file.is_file(), f"no {test_file.name} for {spec.rule_id}"
    tested = {int(n) for n in re.findall(r"^def test_s(\d+)_", test_file.read_text(), re.M)}

    assert scenarios == list(range(1, len(scenarios) + 1)), "scenarios are numbered S1..Sn without gaps"
    assert set(scenarios) == tested, f"scenarios without a test: {set(scenarios) - tested}; tests without a scenario: {tested - set(scenarios)}"


@pytest.mark.parametrize("value, message", [
    (None, "the function's environment has no PERIMETER_RULE_ID"),
    ("  ", "the function's environment has no PERIMETER_RULE_ID"),
    ("no-such-rule", "environment variable PERIMETER_RULE_ID: unknown rule 'no-such-rule'; known rules: "),
])
def test_the_entry_point_fails_the_invocation_when_the_rule_is_not_set(value, message, monkeypatch):
    from perimeter import entry
    from perimeter.rule import RuleInvocationError

    if value is None:
        monkeypatch.delenv(entry.RULE_ID_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(entry.RULE_ID_VARIABLE, value)
    with pytest.raises(RuleInvocationError, match=re.escape(message)):
        entry.lambda_handler({}, None)


@pytest.mark.parametrize("resource_type", sorted({t for spec in SPECS for t in spec.resource_types}))
def test_every_declared_resource_type_is_read_by_the_live_scan_and_fuzzed(resource_type):
    """A rule of a new resource type needs the type in the core (see README, Adding a rule); this names what is
    missing instead of letting the registry-driven suites skip it."""
    from perimeter.live import READERS
    from test_fuzz import CONFIGURATIONS

    assert resource_type in READERS, f"perimeter/live.py has no reader for {resource_type}"
    assert resource_type in CONFIGURATIONS, f"tests/test_fuzz.py has no configuration strategy for {resource_type}"


def test_a_functions_cold_start_loads_only_its_own_rule():
    """perimeter.entry resolves PERIMETER_RULE_ID with rule_by_id: with 30 rules, importing all would cost every
    function's cold start the others' modules."""
    import ast
    import subprocess
    import sys

    probe = ("import sys; from perimeter.registry import rule_by_id; rule_by_id('netfw-rule-group-not-empty'); "
             "print(sorted(m for m in sys.modules if m.startswith('perimeter.rules.')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout

    assert ast.literal_eval(loaded) == ["perimeter.rules.netfw_rule_group_not_empty",
                            "perimeter.rules.netfw_rule_group_not_empty.declaration",
                            "perimeter.rules.netfw_rule_group_not_empty.rule"]
