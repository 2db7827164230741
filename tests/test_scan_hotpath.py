"""The scan's shortcuts (issue 16) change nothing a caller can see: readings shared only within one item's rules,
snapshot-shaped items taken as they are, JSON rows spelled as json.dumps spells them."""
from __future__ import annotations

import copy
import json

import pytest

import scan_golden
from perimeter.items import normalise_item, normalised, share_readings
from perimeter.reports.tabular import json_row as finding_json
from perimeter.scan import Finding
from perimeter.securitygroups import security_group_from_configuration

CASES = scan_golden.read()
GROUP = {"groupId": "sg-1", "groupName": "web", "ipPermissions": [
    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]}


def test_outside_a_scan_a_changed_configuration_is_read_again():
    configuration = copy.deepcopy(GROUP)
    assert len(security_group_from_configuration(configuration).ingress) == 1
    configuration["ipPermissions"].append({"ipProtocol": "udp", "fromPort": 53, "toPort": 53,
                                           "ipRanges": ["10.0.0.0/8"]})
    assert len(security_group_from_configuration(configuration).ingress) == 2


def test_while_an_item_is_judged_its_group_is_read_once_and_other_groups_are_not_kept():
    item = {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configuration": copy.deepcopy(GROUP)}
    other = copy.deepcopy(GROUP)
    share_readings(item)
    try:
        first = security_group_from_configuration(item["configuration"], egress=False)
        assert security_group_from_configuration(item["configuration"], egress=False) is first
        assert security_group_from_configuration(item["configuration"]).ingress_entries is first.ingress_entries
        assert security_group_from_configuration(other) is not security_group_from_configuration(other)
    finally:
        share_readings(None)
    assert security_group_from_configuration(item["configuration"]) is not security_group_from_configuration(
        item["configuration"])


@pytest.mark.parametrize("index", range(0, len(CASES), 7))
def test_normalised_equals_normalise_item_on_the_fuzz_corpus(index):
    raw = CASES[index]["item"]
    snapshot = copy.deepcopy(raw)
    try:
        expected = normalise_item(raw)
    except ValueError as error:
        with pytest.raises(type(error), match=None) as raised:
            normalised(raw)
        assert str(raised.value) == str(error)
        return
    assert normalised(raw) == expected
    assert raw == snapshot


@pytest.mark.parametrize("exemption", [None, {"expires": "2027-01-15", "reason": "change \u00e9 42", "state": "active"},
                                       {"expires": None, "reason": None, "state": "invalid", "problem": "no \"date\""}])
def test_a_row_is_spelled_as_json_dumps_spells_it(exemption):
    finding = Finding("r", "High", "123456789012", None, "AWS::EC2::SecurityGroup", "sg-\u2028", None,
                      "arn:aws:ec2:x", "NON_COMPLIANT", "tcp 22 from 0.0.0.0/0 \"quoted\"\n\u00fc", exemption)
    record = finding._asdict()
    if exemption is None:
        del record["exemption"]
    assert finding_json(finding) == json.dumps(record)
