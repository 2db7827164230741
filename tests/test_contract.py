"""The contract every rule keeps, run over every rule of the registry: a new rule is covered without editing this file.

Contract scenarios (each test below is named after its scenario):

C1 Given a deleted or not-recorded item (ResourceDeleted, ResourceDeletedNotRecorded, ResourceNotRecorded), also with
   configuration null
   Then NOT_APPLICABLE "Resource status is <status>"
C2 Given eventLeftScope
   Then NOT_APPLICABLE "Resource left the scope of this rule"
C3 Given an item of a resource type the rule does not declare
   Then NOT_APPLICABLE "Resource type <type> is not evaluated by this rule"
C4 Given no parameters, or each declared parameter blank
   Then the declared defaults apply, and the verdict is the same as with the defaults written out
C5 Given a value outside a declared parameter's type, values or bounds
   Then ParameterError naming the parameter and the value
C6 Given an unknown parameter name
   Then ParameterError naming it and listing the known parameters
C7 Given an item of the rule's type with configuration missing
   Then a clear ItemError naming the item
C8 Given any sample item of the rule's types
   Then a verdict whose annotation is 1 to 256 characters
Fuzzed items give a verdict or a clear error: tests/test_fuzz.py, over the same registry. The Lambda-level
equivalents (events, rdklib's traps) are tests/test_bad_input.py.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from perimeter.declarations import NO_PORTS
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.registry import LEFT_SCOPE_REASON, all_rules
from perimeter.verdicts import COMPLIANCE_TYPES, MAX_ANNOTATION, NOT_APPLICABLE

FIXTURES = Path(__file__).parent / "fixtures" / "items"
SPECS = all_rules()
IDS = [spec.rule_id for spec in SPECS]
GONE_STATUSES = ("ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded")


def samples(resource_type: str) -> list[dict]:
    """Every fixture item of this resource type (files in tests/fixtures/items, any shape), normalised."""
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for item in document.get("configurationItems", [document]) if isinstance(document, dict) else []:
            if isinstance(item, dict) and item.get("resourceType") == resource_type:
                found.append(normalise_item(item))
    return found


def sample(spec) -> dict:
    for resource_type in spec.resource_types:
        items = [item for item in samples(resource_type) if item.get("configurationItemStatus", "OK") == "OK"]
        if items:
            return copy.deepcopy(items[0])
    pytest.fail(f"no fixture item of {', '.join(spec.resource_types)} in tests/fixtures/items: add one")


def invalid_values(parameter: dict) -> list[str]:
    """Values the declared type refuses."""
    kind = parameter["type"]
    if kind == "integer":
        values = ["abc", "1.5", "-1"]
        if parameter.get("minimum") is not None and parameter["minimum"] > 0:
            values.append(str(parameter["minimum"] - 1))
        if parameter.get("maximum") is not None:
            values.append(str(parameter["maximum"] + 1))
        return values
    if kind == "ports":
        return ["70000", "5-1", "22,x", NO_PORTS + "x"]
    if kind in ("choice", "list"):
        return ["not-a-listed-value"] if parameter.get("values") else []
    if kind == "boolean":
        return ["yes", "2"]
    return ["\u0000"] if parameter.get("pattern") else []


rules = pytest.mark.parametrize("spec", SPECS, ids=IDS)


@rules
@pytest.mark.parametrize("status", GONE_STATUSES)
def test_c1_gone_items_are_not_applicable_with_their_status(spec, status):
    parameters = spec.parse_parameters({})
    for configuration in ("keep", None):
        item = sample(spec)
        item["configurationItemStatus"] = status
        if configuration is None:
            item["configuration"] = None
        assert spec.evaluate(item, parameters) == (NOT_APPLICABLE, f"Resource status is {status}")


@rules
def test_c2_an_item_that_left_the_scope_is_not_applicable(spec):
    assert spec.evaluate(sample(spec), spec.parse_parameters({}), left_scope=True) == (NOT_APPLICABLE, LEFT_SCOPE_REASON)


@rules
def test_c3_another_resource_type_is_not_applicable_with_its_reason(spec):
    item = {**sample(spec), "resourceType": "AWS::S3::Bucket"}
    assert spec.evaluate(item, spec.parse_parameters({})) == (
        NOT_APPLICABLE, "Resource type AWS::S3::Bucket is not evaluated by this rule")


@rules
def test_c4_blank_parameters_mean_the_declared_defaults(spec):
    item = sample(spec)
    written_out = spec.evaluate(item, spec.parse_parameters(dict(spec.parameter_defaults)))

    assert spec.evaluate(item, spec.parse_parameters({})) == written_out
    assert spec.evaluate(item, spec.parse_parameters({name: " " for name in spec.parameter_names})) == written_out


CASES = [(spec, name, value) for spec in SPECS for name, parameter in spec.declaration["parameters"].items()
         for value in invalid_values(parameter)]


@pytest.mark.parametrize("spec, name, value", CASES, ids=[f"{s.rule_id}-{n}-{v!r}" for s, n, v in CASES])
def test_c5_a_value_outside_the_declared_type_names_parameter_and_value(spec, name, value):
    with pytest.raises(ParameterError) as raised:
        spec.parse_parameters({name: value})

    message = str(raised.value)
    assert f"parameter {name}: " in message
    assert any(part in message for part in (value, *value.split(","))), message


@rules
def test_c6_an_unknown_parameter_is_refused_listing_the_known_ones(spec):
    with pytest.raises(ParameterError) as raised:
        spec.parse_parameters({"noSuchParameter": "1"})

    message = str(raised.value)
    assert "unknown parameter(s) noSuchParameter (value '1')" in message
    assert all(name in message for name in spec.parameter_names)


@rules
def test_c7_an_evaluated_item_without_configuration_is_a_clear_error(spec):
    item = sample(spec)
    del item["configuration"]

    with pytest.raises(ItemError, match="configuration is missing or not an object"):
        spec.evaluate(item, spec.parse_parameters({}))


@rules
def test_c8_every_sample_gets_a_verdict_with_an_annotation_config_accepts(spec):
    parameters = spec.parse_parameters({})
    items = [item for resource_type in spec.resource_types for item in samples(resource_type)]
    judged = 0
    for item in items:
        try:
            verdict = spec.evaluate(item, parameters)
        except ItemError:
            continue  # a fixture of a malformed item: its clear error is C7's and the rule's own business
        assert verdict.compliance in COMPLIANCE_TYPES
        assert 1 <= len(verdict.annotation) <= MAX_ANNOTATION, verdict.annotation
        judged += 1
    assert judged, f"no sample of {spec.rule_id}'s types could be judged"
