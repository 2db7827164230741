"""Exemptions, the same for every rule of the pack (issue 15): one contract, run over all_rules().

Each rule is exercised with a NON_COMPLIANT and a COMPLIANT item of its resource type, found among the recorded
items under tests/fixtures/items (a new rule of a known type needs nothing here; a new type needs one of each).
Verdicts go through RuleSpec.evaluate, the path the Lambda, the scans and the periodic pass share.

C1  Given an active exemption (expiry today or later, a reason) on a NON_COMPLIANT resource
    Then COMPLIANT "Exempt until 2027-03-31 (reason): would be NON_COMPLIANT: <the rule's annotation>"
C2  Given an active exemption on a COMPLIANT resource
    Then COMPLIANT "<the rule's annotation>; exempt until 2027-03-31 (reason), not needed"
C3  Given the expiry date: the last exempt day (UTC)
    Then active on that date, and the next day the verdict is the rule's, "<annotation>; exemption expired <date>"
C4  Given a malformed value (no date, an impossible date, no reason, a character tag values do not allow, an
    expiry further ahead than maxExemptionDays)
    Then the tag is ignored: the rule's verdict, "<annotation>; exemption tag ignored: <why>"
C5  Given maxExemptionDays, which every rule takes (default 365)
    Then an expiry 400 days ahead is valid with maxExemptionDays 500; a bad value fails naming the parameter
C6  Given the tag in any shape an item carries it (Config's tags map, the configuration's camelCase or PascalCase
    tag list, a configuration member's tags, the API shape)
    Then the same verdict
C7  Given another rule's exemption tag
    Then nothing changes
C8  Given a long reason and a long annotation
    Then the annotation fits 256 characters and still says until when
C9  Given a deleted item, another resource type or eventLeftScope
    Then NOT_APPLICABLE with its reason, whatever the tag says
C10 Given the same tagged item
    Then the Lambda (judging at today in UTC) and the scan (at today, or --as-of) give the same verdict
C11 Given a rule that takes trustedSources (the rules that judge sources)
    Then it is the shared declaration (a list, blank by default), CIDRs and pl-/sg- ids are accepted, an invalid
    entry fails naming the parameter and the entry, and its runbook (if any) receives the rule's value
"""
from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from moto import mock_aws

from conftest import change_event
from perimeter.exemptions import evaluation_date, tag_key
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.registry import all_rules
from perimeter.rule import lambda_handler_for
from perimeter.runbooks import render_runbook
from perimeter.scan import scan
from perimeter.securitygroups import TRUSTED_SOURCES_PARAMETER
from perimeter.templates import map_remediation_parameters
from perimeter.verdicts import COMPLIANT, MAX_ANNOTATION, NON_COMPLIANT, NOT_APPLICABLE, fit
from tests.builders import api_shape
from tests.fakes.networkfirewall import FakeNetworkFirewall

FIXTURES = Path(__file__).parent / "fixtures" / "items"
RULES = all_rules()
AS_OF = date(2026, 12, 1)
UNTIL = "2027-03-31"
REASON = "vendor appliance until replacement CHG-1234"
rules = pytest.mark.parametrize("spec", RULES, ids=[spec.rule_id for spec in RULES])


def samples(spec) -> dict[str, dict]:
    """The first NON_COMPLIANT and the first COMPLIANT recorded item of the rule's types, by file name."""
    found: dict[str, dict] = {}
    parameters = spec.parse_parameters({})
    for path in sorted(FIXTURES.glob("*.notification.json")):
        item = json.loads(path.read_text(encoding="utf-8"))
        if item.get("resourceType") not in spec.resource_types:
            continue
        try:
            verdict = spec.evaluate(normalise_item(item), parameters, as_of=AS_OF)
        except ItemError:
            continue
        found.setdefault(verdict.compliance, item)
    missing = {NON_COMPLIANT, COMPLIANT} - set(found)
    assert not missing, f"{spec.rule_id}: add a recorded item the rule finds {' and '.join(sorted(missing))} " \
                        f"to tests/fixtures/items"
    return found


SAMPLES = {spec.rule_id: samples(spec) for spec in RULES}


def item_of(spec, compliance: str) -> dict:
    return copy.deepcopy(SAMPLES[spec.rule_id][compliance])


def tagged(item: dict, key: str, value: str) -> dict:
    item = copy.deepcopy(item)
    item["tags"] = {**(item.get("tags") or {}), key: value}
    return item


def judge(spec, item: dict, as_of: date = AS_OF, **raw) -> tuple[str, str]:
    verdict = spec.evaluate(normalise_item(item), spec.parse_parameters(raw), as_of=as_of)
    return verdict.compliance, verdict.annotation


def plain(spec, compliance: str) -> str:
    return judge(spec, item_of(spec, compliance))[1]


# --- C1 / C2 active --------------------------------------------------------------------------------------------
@rules
def test_c01_an_active_exemption_makes_a_non_compliant_resource_compliant_saying_what_it_would_be(spec):
    item = tagged(item_of(spec, NON_COMPLIANT), tag_key(spec.rule_id), f"{UNTIL} {REASON}")
    expected = f"Exempt until {UNTIL} ({REASON}): would be NON_COMPLIANT: {plain(spec, NON_COMPLIANT)}"
    assert judge(spec, item) == (COMPLIANT, fit(expected))


@rules
def test_c02_an_active_exemption_on_a_compliant_resource_says_it_is_not_needed(spec):
    item = tagged(item_of(spec, COMPLIANT), tag_key(spec.rule_id), f"{UNTIL} {REASON}")
    assert judge(spec, item) == (COMPLIANT, f"{plain(spec, COMPLIANT)}; exempt until {UNTIL} ({REASON}), not needed")


# --- C3 the last exempt day -----------------------------------------------------------------------------------
@rules
def test_c03_the_expiry_date_is_the_last_exempt_day(spec):
    item = tagged(item_of(spec, NON_COMPLIANT), tag_key(spec.rule_id), f"{AS_OF.isoformat()} last day")
    assert judge(spec, item, AS_OF)[0] == COMPLIANT
    assert judge(spec, item, AS_OF + timedelta(days=1)) == (
        NON_COMPLIANT, f"{plain(spec, NON_COMPLIANT)}; exemption expired {AS_OF.isoformat()}")


# --- C4 malformed values ---------------------------------------------------------------------------------------
@rules
@pytest.mark.parametrize("value, why", [
    ("vendor appliance", "no date given (expected 'YYYY-MM-DD reason', got 'vendor appliance')"),
    ("31/03/2027 vendor", "no date given (expected 'YYYY-MM-DD reason', got '31/03/2027 vendor')"),
    ("2027-02-30 vendor", "impossible date 2027-02-30"),
    ("2027-03-31", "no reason given"),
    ("2027-03-31    ", "no reason given"),
    ("2027-03-31 vendor; see #42", "reason has characters tag values do not allow: '#' ';'"),
    ("2028-01-01 vendor", "expiry 2028-01-01 is more than 365 days ahead (maxExemptionDays)"),
])
def test_c04_a_malformed_value_is_ignored_and_said_after_the_annotation(spec, value, why):
    item = tagged(item_of(spec, NON_COMPLIANT), tag_key(spec.rule_id), value)
    assert judge(spec, item) == (NON_COMPLIANT, f"{plain(spec, NON_COMPLIANT)}; exemption tag ignored: {why}")


# --- C5 maxExemptionDays --------------------------------------------------------------------------------------
@rules
def test_c05_max_exemption_days_is_a_parameter_of_every_rule(spec):
    far = (AS_OF + timedelta(days=400)).isoformat()
    item = tagged(item_of(spec, NON_COMPLIANT), tag_key(spec.rule_id), f"{far} long project")
    assert judge(spec, item)[0] == NON_COMPLIANT
    assert judge(spec, item, maxExemptionDays="500")[0] == COMPLIANT
    assert judge(spec, item, maxExemptionDays="400")[0] == COMPLIANT  # exactly 400 days ahead: allowed
    assert judge(spec, item, maxExemptionDays="399")[0] == NON_COMPLIANT
    assert spec.parameter_defaults["maxExemptionDays"] == "365"


@rules
@pytest.mark.parametrize("value", ["0", "-1", "abc", "3651"])
def test_c05_an_invalid_max_exemption_days_names_the_parameter(spec, value):
    with pytest.raises(ParameterError, match=f"parameter maxExemptionDays: '{value}' is not an integer"):
        spec.parse_parameters({"maxExemptionDays": value})


# --- C6 every shape ---------------------------------------------------------------------------------------------
def _in_camel_list(item, key, value):
    item["configuration"]["tags"] = [*item["configuration"].get("tags", []), {"key": key, "value": value}]


def _in_pascal_list(item, key, value):
    item["configuration"]["Tags"] = [{"Key": key, "Value": value}]


def _in_member(item, key, value):
    members = [name for name, inner in item["configuration"].items() if isinstance(inner, dict)]
    if not members:
        pytest.skip("this resource type's configuration has no member object")
    member = item["configuration"][members[-1]]
    member["tags"] = [*member.get("tags", []), {"key": key, "value": value}]


@rules
@pytest.mark.parametrize("place", [_in_camel_list, _in_pascal_list, _in_member], ids=["camel", "pascal", "member"])
@pytest.mark.parametrize("api", [False, True], ids=["notification", "api"])
def test_c06_the_tag_is_read_wherever_the_item_carries_it(spec, place, api):
    item = item_of(spec, NON_COMPLIANT)
    place(item, tag_key(spec.rule_id), f"{UNTIL} {REASON}")
    item.pop("tags", None)  # BatchGetResourceConfig items have no tags map either
    if api:
        item = api_shape({**item, "supplementaryConfiguration": item.get("supplementaryConfiguration") or {}})
    assert judge(spec, item)[0] == COMPLIANT


# --- C7 another rule's tag ---------------------------------------------------------------------------------------
@rules
def test_c07_another_rules_tag_changes_nothing(spec):
    item = tagged(item_of(spec, NON_COMPLIANT), tag_key("some-other-rule"), f"{UNTIL} {REASON}")
    item = tagged(item, "perimeter:exempt", f"{UNTIL} {REASON}")
    assert judge(spec, item) == (NON_COMPLIANT, plain(spec, NON_COMPLIANT))


# --- C8 length ----------------------------------------------------------------------------------------------------
@rules
def test_c08_the_annotation_fits_and_still_says_until_when(spec):
    long_reason = "x" * 200
    active = tagged(item_of(spec, NON_COMPLIANT), tag_key(spec.rule_id), f"{UNTIL} {long_reason}")
    compliance, annotation = judge(spec, active)
    assert compliance == COMPLIANT and len(annotation) == MAX_ANNOTATION and annotation.endswith("…")
    assert annotation.startswith(f"Exempt until {UNTIL} (xxx")
    expired = tagged(item_of(spec, NON_COMPLIANT), tag_key(spec.rule_id), f"2026-01-01 {long_reason}")
    compliance, annotation = judge(spec, expired)
    assert compliance == NON_COMPLIANT and len(annotation) <= MAX_ANNOTATION
    assert annotation.endswith("; exemption expired 2026-01-01")


# --- C9 NOT_APPLICABLE ------------------------------------------------------------------------------------------
@rules
@pytest.mark.parametrize("how", ["deleted", "other type", "left scope"])
def test_c09_not_applicable_stays_not_applicable(spec, how):
    item = tagged(item_of(spec, NON_COMPLIANT), tag_key(spec.rule_id), f"{UNTIL} {REASON}")
    if how == "deleted":
        item.update(configurationItemStatus="ResourceDeleted", configuration=None)
    if how == "other type":
        item["resourceType"] = "AWS::EC2::VPC"
    verdict = spec.evaluate(normalise_item(item), spec.parse_parameters({}), left_scope=how == "left scope",
                            as_of=AS_OF)
    assert verdict.compliance == NOT_APPLICABLE and "xempt" not in verdict.annotation


# --- C10 the Lambda and the scan agree --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aws():
    with mock_aws(), FakeNetworkFirewall():
        yield


@rules
@pytest.mark.parametrize("days", [-1, 0, 30], ids=["expired", "last-day", "active"])
def test_c10_the_lambda_and_the_scan_judge_alike(aws, spec, days):
    today = evaluation_date()
    item = tagged(item_of(spec, NON_COMPLIANT), tag_key(spec.rule_id),
                  f"{(today + timedelta(days=days)).isoformat()} {REASON}")

    delivered = lambda_handler_for(spec)(change_event(item, f"perimeter-{spec.rule_id}"), None)
    found = list(scan([item], [spec], {}))
    at_today = list(scan([item], [spec], {}, as_of=today))

    assert [(e["ComplianceType"], e["Annotation"]) for e in delivered] == \
           [(f.complianceType, f.annotation) for f in found] == [(f.complianceType, f.annotation) for f in at_today]
    assert found[0].complianceType == (NON_COMPLIANT if days < 0 else COMPLIANT)
    assert found[0].exemption == {"expires": (today + timedelta(days=days)).isoformat(), "reason": REASON,
                                  "state": "expired" if days < 0 else "active"}


# --- C11 trusted sources, alike wherever they are taken ------------------------------------------------------------
TRUSTING = [spec for spec in RULES if "trustedSources" in spec.declaration["parameters"]]


@pytest.mark.parametrize("spec", TRUSTING, ids=[spec.rule_id for spec in TRUSTING])
def test_c11_trusted_sources_are_declared_parsed_and_carried_alike(spec):
    declared = spec.declaration["parameters"]["trustedSources"]
    assert (declared["type"], declared["default"]) == (TRUSTED_SOURCES_PARAMETER["type"],
                                                       TRUSTED_SOURCES_PARAMETER["default"])
    spec.parse_parameters({"trustedSources": " 203.0.113.0/24, 2001:db8::/32,pl-0123456789abcdef0,sg-0123456789abcdef0"})
    with pytest.raises(ParameterError) as caught:
        spec.parse_parameters({"trustedSources": "10.0.0.0/8,10.0.0.0/33"})
    assert str(caught.value) == "parameter trustedSources: '10.0.0.0/33' is not a CIDR, pl- or sg- id"
    if (spec.folder / "runbook.yaml").exists():
        mapped = {p.name: p.rule_parameter for p in map_remediation_parameters(spec, render_runbook(spec.folder))}
        assert mapped.get("TrustedSources") == "trustedSources"
