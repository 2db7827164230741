"""The core of exemptions (perimeter.exemptions) and how the registry and the templates give them to every rule.

The verdict-level scenarios every rule shares are tests/test_contract_exemptions.py; here are the parts below and
around them: the tag value's grammar, where tags are read, trusted sources, the pack-wide parameter."""
from __future__ import annotations

from datetime import date

import pytest

from perimeter.declaration_schema import DeclarationError
from perimeter.cidrs import TrustedSources, parse_trusted_sources
from perimeter.exemptions import ACTIVE, EXPIRED, INVALID, Exemption, read_exemption, tags_of
from perimeter.items import ItemError
from perimeter.parameters import ParameterError
from perimeter.templates.naming import logical_id
from perimeter.registry import all_rules, apply_exemption, load_rule, rule_by_id
from perimeter.templates.packs import MAX_PACK_PARAMETERS
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict
from tests.test_templates import RULE_TEMPLATES, load

AS_OF = date(2026, 12, 1)


# --- the value ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, state, expires, reason", [
    ("2026-12-01 last day", ACTIVE, date(2026, 12, 1), "last day"),
    ("  2027-03-31   vendor  appliance  ", ACTIVE, date(2027, 3, 31), "vendor  appliance"),
    ("2026-11-30 yesterday", EXPIRED, date(2026, 11, 30), "yesterday"),
    ("2027-12-01 exactly 365 days", ACTIVE, date(2027, 12, 1), "exactly 365 days"),
    ("2027-12-02 366 days", INVALID, date(2027, 12, 2), "366 days"),
    ("2027-03-31 ünïcode letters ok +-=._:/@", ACTIVE, date(2027, 3, 31), "ünïcode letters ok +-=._:/@"),
    ("2027-03-31", INVALID, date(2027, 3, 31), None),
    ("2027-3-31 short month", INVALID, None, None),
    ("2027-03-31reason", INVALID, None, None),
    ("2027-13-01 month 13", INVALID, None, None),
    ("", INVALID, None, None),
])
def test_the_value_is_a_date_a_space_and_a_reason(value, state, expires, reason):
    exemption = read_exemption(value, AS_OF, 365)
    assert (exemption.state, exemption.expires, exemption.reason) == (state, expires, reason)
    assert (exemption.problem is not None) == (state == INVALID)


def test_the_scan_object_has_expires_reason_and_state():
    from perimeter.scan import _exemption_object

    assert _exemption_object(read_exemption("2027-03-31 vendor", AS_OF, 365)) == {
        "expires": "2027-03-31", "reason": "vendor", "state": "active"}
    assert _exemption_object(read_exemption("2027-02-30 vendor", AS_OF, 365)) == {
        "expires": None, "reason": None, "state": "invalid", "problem": "impossible date 2027-02-30"}


def test_not_applicable_is_never_rewritten():
    verdict = Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")
    assert apply_exemption(verdict, Exemption(ACTIVE, AS_OF, "x")) == verdict
    assert apply_exemption(Verdict(NON_COMPLIANT, "open"), None) == Verdict(NON_COMPLIANT, "open")


# --- where tags are read ----------------------------------------------------------------------------------------
def item(**fields) -> dict:
    return {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", **fields}


def test_tags_are_gathered_from_every_shape_config_s_map_winning():
    found = tags_of(item(tags={"a": "map"}, configuration={
        "tags": [{"key": "a", "value": "camel"}, {"key": "b", "value": "camel"}],
        "Tags": [{"Key": "c", "Value": "pascal"}],
        "firewallPolicyResponse": {"tags": [{"key": "d", "value": "member"}]},
        "FirewallPolicyResponse": {"Tags": [{"Key": "e", "Value": "pascal member"}]},
    }))
    assert found == {"a": "map", "b": "camel", "c": "pascal", "d": "member", "e": "pascal member"}


SHAPE = "must be a map or a list of key/value pairs of text, not holding"


@pytest.mark.parametrize("fields, fragment", [
    ({"tags": "Name=x"}, f"AWS::EC2::SecurityGroup sg-1: tags {SHAPE} 'Name=x'"),
    ({"configuration": {"tags": ["Name"]}}, f"configuration.tags {SHAPE} 'Name'"),
    ({"configuration": {"tags": [{"value": "x"}]}}, f"configuration.tags {SHAPE} {{'value': 'x'}}"),
    ({"tags": {"perimeter:exempt:r": 5}}, f"tags {SHAPE} {{'key': 'perimeter:exempt:r', 'value': 5}}"),
])
def test_unreadable_tags_are_a_clear_item_error(fields, fragment):
    with pytest.raises(ItemError) as raised:
        tags_of(item(**fields))
    assert fragment in str(raised.value)


# --- trusted sources --------------------------------------------------------------------------------------------
def test_a_cidr_is_trusted_inside_a_trusted_cidr_of_its_own_family():
    trusted = parse_trusted_sources(["10.0.0.0/8", " 2001:db8::/32 ", "", "pl-0123456789abcdef0",
                                     "sg-0123456789abcdef0", "192.168.1.7/24"])
    assert [trusted.covers(source) for source in (
        "10.1.2.0/24", "10.0.0.0/8", "10.0.0.0/7", "11.0.0.0/8", "2001:db8:ff::/48", "2001:db9::/32",
        "192.168.1.0/24", "pl-0123456789abcdef0", "pl-0fedcba987654321f", "sg-0123456789abcdef0", "not a cidr",
    )] == [True, True, False, False, True, False, True, True, False, True, False]
    assert TrustedSources().covers("0.0.0.0/0") is False


def test_an_invalid_entry_names_the_parameter_and_the_entry():
    with pytest.raises(ParameterError, match="parameter trustedSources: 'sg-xyz' is not a CIDR, pl- or sg- id"):
        parse_trusted_sources(["10.0.0.0/8", "sg-xyz"])


# --- every rule, once -------------------------------------------------------------------------------------------
def test_a_rule_cannot_declare_the_pack_wide_parameter(monkeypatch):
    from perimeter.rules.netfw_rule_group_not_empty import declaration

    own = {"maxExemptionDays": {"type": "integer", "default": "30", "description": "mine"}}
    monkeypatch.setattr(declaration, "DECLARATION", {**declaration.DECLARATION, "parameters": own})
    with pytest.raises(DeclarationError, match="parameters.maxExemptionDays: every rule has it already"):
        load_rule("perimeter.rules.netfw_rule_group_not_empty.rule")


def test_evaluate_takes_the_registrys_parameters_only():
    spec = rule_by_id("sg-ingress-port-range-restricted")
    recorded = {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configuration": {}}
    with pytest.raises(TypeError, match="evaluate takes the RuleParameters of RuleSpec.parse_parameters"):
        spec.evaluate(recorded, spec.module.Parameters())


@pytest.mark.parametrize("relative", RULE_TEMPLATES)
def test_templates_hold_one_max_exemption_days_and_schedule_every_rule_daily(relative):
    template = load(relative)
    rules = {name: resource for name, resource in template["Resources"].items()
             if resource["Type"] == "AWS::Config::ConfigRule"}
    assert len(rules) == len(all_rules())
    assert len(template["Parameters"]) <= MAX_PACK_PARAMETERS or "conformance" not in relative
    if "conformance" in relative:  # packs keep few inputs: the value is written into every rule
        assert {r["Properties"]["InputParameters"]["maxExemptionDays"] for r in rules.values()} == {"365"}
    else:
        assert [name for name in template["Parameters"] if name.endswith("MaxExemptionDays")] == ["MaxExemptionDays"]
    # A declared periodic rule (netfw-logging-enabled) runs at its own frequency, a template parameter in the stacks.
    declared = {logical_id(spec.rule_id) for spec in all_rules() if spec.declaration["trigger"]["periodic"]}
    for name, resource in rules.items():
        properties = resource["Properties"]
        frequency = properties["MaximumExecutionFrequency"]
        if name in declared and isinstance(frequency, dict):
            assert frequency == {"Ref": f"{name}MaximumExecutionFrequency"}
            assert template["Parameters"][frequency["Ref"]]["Default"] == "TwentyFour_Hours"
        else:
            assert frequency == "TwentyFour_Hours"
        assert properties["Scope"]["ComplianceResourceTypes"]
        assert {"EventSource": "aws.config", "MessageType": "ScheduledNotification",
                "MaximumExecutionFrequency": frequency} in properties["Source"]["SourceDetails"]
        if "conformance" not in relative:
            assert properties["InputParameters"]["maxExemptionDays"] == {
                "Fn::If": ["MaxExemptionDaysIsSet", {"Ref": "MaxExemptionDays"}, {"Ref": "AWS::NoValue"}]}


def test_a_pack_of_thirty_rules_still_has_one_max_exemption_days():
    from perimeter.templates.template_parameters import rule_parameters

    class Plan:
        def __init__(self, spec, logical):
            self.spec, self.logical, self.rule_id = spec, logical, spec.rule_id

    spec = rule_by_id("netfw-rule-group-not-empty")  # no parameter of its own
    names = rule_parameters([Plan(spec, f"Rule{n}") for n in range(30)])
    assert list(names) == ["MaxExemptionDays"]
    assert all(spec.parameter_defaults["maxExemptionDays"] == "365" for spec in all_rules())


# --- an active exemption read back from the annotation a Lambda wrote (perimeter report) ---------------------------
@pytest.mark.parametrize("compliance, annotation", [
    (NON_COMPLIANT, "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0"),
    (NON_COMPLIANT, "x" * 400),  # cut to 256: the date and reason stay
    (COMPLIANT, "No inbound port range over 1 port(s) open"),
    (COMPLIANT, "y (with parentheses) " * 20),
])
def test_an_active_exemption_is_read_back_from_the_annotation_it_produced(compliance, annotation):
    from perimeter.registry import active_exemption_in

    exemption = read_exemption("2027-03-31 vendor appliance CHG-1 owner@example.com", AS_OF, 365)
    written = apply_exemption(Verdict(compliance, annotation), exemption)

    assert written.compliance == COMPLIANT
    assert active_exemption_in(written.annotation) == {
        "expires": "2027-03-31", "reason": "vendor appliance CHG-1 owner@example.com", "state": ACTIVE}


@pytest.mark.parametrize("value", ["2026-11-01 done", "someday"])
def test_an_expired_or_invalid_exemption_is_not_read_back_as_active(value):
    from perimeter.registry import active_exemption_in

    written = apply_exemption(Verdict(NON_COMPLIANT, "open"),
                              read_exemption(value, AS_OF, 365))
    assert active_exemption_in(written.annotation) is None
    assert active_exemption_in("Inbound port ranges open: tcp 22 from 0.0.0.0/0") is None
