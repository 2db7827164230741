"""The netfw-firewall-deletion-protection runbook, rendered, validated and run end to end against the fake."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from perimeter.exemptions import evaluation_date
from perimeter.registry import load_rule
from perimeter.runbooks import render_runbook
from perimeter.templates.remediation_parameters import RESOURCE_ID, map_remediation_parameters
from tests.fakes.networkfirewall import FakeNetworkFirewall
from tests.netfw_firewall_runbooks import (
    ACCOUNT, REGION, ROLE, after_describe, exempt_tags, failed_outputs, new_firewall, nfw, outputs, run, verdict,
)  # nfw: the fake, a fixture
from tests.ssm.runner import run_document
from tests.ssm.validator import validate_document

RULE_ID = "netfw-firewall-deletion-protection"
RULE_DIR = Path(__file__).resolve().parents[1] / "rules" / "netfw_firewall_deletion_protection"
SPEC = load_rule("perimeter.rules.netfw_firewall_deletion_protection.rule")


@pytest.fixture(scope="module")
def document() -> dict:
    return render_runbook(RULE_DIR)


def test_the_rendered_document_is_valid_and_takes_the_resource_id(document):
    assert [str(finding) for finding in validate_document(document)] == []
    assert document["parameters"]["DryRun"]["default"] is True
    mapped = {parameter.name: parameter for parameter in map_remediation_parameters(SPEC, document)}
    assert mapped["Firewall"].source == RESOURCE_ID


def test_the_document_defaults_to_a_dry_run_that_changes_nothing(document, nfw):
    arn = new_firewall(nfw)
    result = run_document(document, {"AutomationAssumeRole": ROLE, "Firewall": arn}, region=REGION)
    out = outputs(result)
    assert (out["Changed"], out["DryRun"], out["Planned"], out["Enabled"]) == (False, True, ["DeleteProtection"], [])
    assert out["Message"] == f"Dry run: would turn on deletion protection of {arn}; nothing changed"
    assert nfw.calls_to("UpdateFirewallDeleteProtection") == [] and nfw.firewall(arn).delete_protection is False


@pytest.mark.parametrize("identify", ["id", "arn", "name"])
def test_turns_on_deletion_protection_with_the_update_token_and_verifies(document, identify):
    # Three firewalls, pages of two: the id (what Config passes) is looked up through every ListFirewalls page.
    with FakeNetworkFirewall(region=REGION, account_id=ACCOUNT, default_max_results=2) as nfw:
        others = [new_firewall(nfw, name) for name in ("alpha", "bravo")]
        arn = new_firewall(nfw, "edge-fw")
        record = nfw.firewall(arn)
        token = record.token
        given = {"id": record.id, "arn": arn, "name": "edge-fw"}[identify]
        assert verdict(nfw, SPEC, arn)[0] == "NON_COMPLIANT"

        out = outputs(run(document, given))

        assert (out["Changed"], out["Enabled"], out["Attempts"], out["FirewallArn"]) == \
            (True, ["DeleteProtection"], 1, arn)
        assert out["Message"] == (f"Turned on deletion protection of {arn}; {RULE_ID} now judges it COMPLIANT "
                                  "(Deletion protection is enabled)")
        (update,) = nfw.calls_to("UpdateFirewallDeleteProtection")
        assert update == {"FirewallArn": arn, "UpdateToken": token, "DeleteProtection": True}
        assert verdict(nfw, SPEC, arn) == ("COMPLIANT", "Deletion protection is enabled")
        assert all(nfw.firewall(other).delete_protection is False for other in others)
        if identify == "id":
            assert len(nfw.calls_to("ListFirewalls")) == 2


def test_a_second_run_changes_nothing_and_succeeds(document, nfw):
    arn = new_firewall(nfw)
    assert outputs(run(document, arn))["Changed"] is True
    token = nfw.firewall(arn).token
    out = outputs(run(document, arn))
    assert (out["Changed"], out["Planned"], out["Attempts"]) == (False, [], 0)
    assert out["Message"] == f"{RULE_ID} already judges {arn} COMPLIANT (Deletion protection is enabled); nothing changed"
    assert len(nfw.calls_to("UpdateFirewallDeleteProtection")) == 1 and nfw.firewall(arn).token == token


def test_a_stale_token_is_re_read_and_retried(document, nfw):
    arn = new_firewall(nfw)
    # Another writer changes the firewall right after the run read it: its token is stale.
    after_describe(nfw, lambda arn: nfw.bump_firewall_token(arn, subnet_change_protection=True), times=1)
    out = outputs(run(document, arn))
    assert (out["Changed"], out["Attempts"]) == (True, 2)
    first, second = nfw.calls_to("UpdateFirewallDeleteProtection")
    assert first["UpdateToken"] != second["UpdateToken"]
    record = nfw.firewall(arn)
    assert record.delete_protection is True and record.subnet_change_protection is True  # theirs kept


def test_another_writer_turning_it_on_meanwhile_leaves_nothing_to_do(document, nfw):
    arn = new_firewall(nfw)
    after_describe(nfw, lambda arn: nfw.bump_firewall_token(arn, delete_protection=True), times=1)
    out = outputs(run(document, arn))
    assert (out["Changed"], out["Enabled"], out["Attempts"]) == (False, [], 1)
    assert out["Message"] == (f"Nothing changed on {arn}; another writer turned on deletion protection meanwhile; "
                              f"{RULE_ID} now judges it COMPLIANT (Deletion protection is enabled)")


def test_a_conflict_that_never_clears_fails_after_five_attempts_with_outputs(document, nfw):
    arn = new_firewall(nfw)
    nfw.fail_next("UpdateFirewallDeleteProtection", "InvalidTokenException", times=50)
    result = run(document, arn)
    out = failed_outputs(result)
    assert (out["Changed"], out["Enabled"], out["Attempts"], out["FirewallArn"]) == (False, [], 5, arn)
    assert "Turning on deletion protection: refused with InvalidTokenException 5 times in a row" in \
        result.failure_message
    assert len(nfw.calls_to("UpdateFirewallDeleteProtection")) == 5
    assert len(nfw.calls_to("DescribeFirewall")) == 5  # the first read, then one before each retry
    assert nfw.firewall(arn).delete_protection is False


def test_a_firewall_deleted_mid_run_fails_loudly_with_outputs(document, nfw):
    arn = new_firewall(nfw)
    after_describe(nfw, nfw.delete_firewall_now, times=1)
    result = run(document, arn)
    out = failed_outputs(result)
    assert (out["Changed"], out["Enabled"], out["FirewallArn"]) == (False, [], arn)
    assert f"Firewall {arn} no longer exists: it was deleted during the run" in result.failure_message


def test_a_firewall_that_does_not_exist_fails_clearly(document, nfw):
    result = run(document, "5e4d3c2b-1a09-4887-9766-554433221100")
    failed_outputs(result)
    assert "Firewall 5e4d3c2b-1a09-4887-9766-554433221100 does not exist in this account and Region" in \
        result.failure_message


def test_an_update_that_does_not_show_when_read_again_fails_loudly(document, nfw):
    arn = new_firewall(nfw)
    nfw.reply_next("UpdateFirewallDeleteProtection", {"FirewallArn": arn, "DeleteProtection": True,
                                                       "UpdateToken": nfw.firewall(arn).token})
    result = run(document, arn)
    out = failed_outputs(result)
    assert out["Enabled"] == ["DeleteProtection"]  # AWS said so: recorded as changed
    assert f"Turned on deletion protection but {RULE_ID} still judges {arn} NON_COMPLIANT when read again: " \
           "Deletion protection is disabled" in result.failure_message


def test_an_exempt_firewall_is_left_unchanged_and_the_run_says_until_when(document, nfw):
    until = (evaluation_date() + timedelta(days=30)).isoformat()
    arn = new_firewall(nfw, tags=exempt_tags(RULE_ID, until))
    out = outputs(run(document, arn))
    assert (out["ExemptUntil"], out["Changed"], out["Planned"]) == (until, False, [])
    assert out["Message"].startswith(f"Exempt from {RULE_ID} until {until}")
    assert nfw.calls_to("UpdateFirewallDeleteProtection") == [] and nfw.firewall(arn).delete_protection is False
