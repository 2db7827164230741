"""README "Exemptions" (issue 15): its tagging examples, by the AWS CLI and in CloudFormation, are exemptions the pack
honours, and the section says how to leave whole accounts out (ExcludedAccounts, and perimeter scan's filters)."""
from __future__ import annotations

import re
import shlex
from datetime import date
from pathlib import Path

import pytest
import yaml

from perimeter.cli import build_parser
from perimeter.exemptions import ACTIVE, TAG_PREFIX, read_exemption
from perimeter.registry import all_rules

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("\n## Exemptions\n"):README.index("\n## ", README.index("\n## Exemptions\n") + 1)]
WRITTEN = date(2026, 12, 1)  # when the examples were written: each is a valid, active exemption then
RULE_IDS = {spec.rule_id for spec in all_rules()}


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", SECTION, re.S)


def commands() -> list[list[str]]:
    joined = [block.replace("\\\n", " ") for block in blocks("sh")]
    return [shlex.split(line) for block in joined for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def shorthand_tags(argument: str) -> dict[str, str]:
    """``Key=k,Value=v`` (the AWS CLI's shorthand for one tag) -> {k: v}."""
    key, value = re.fullmatch(r"Key=([^,]+),Value=(.+)", argument).groups()
    return {key: value}


def assert_honoured(key: str, value: str) -> None:
    assert key.startswith(TAG_PREFIX) and key.removeprefix(TAG_PREFIX) in RULE_IDS, key
    exemption = read_exemption(value, WRITTEN, 365)
    assert exemption.state == ACTIVE, (value, exemption)
    assert re.fullmatch(r"[\w +\-=.:/@]+", value), value  # what tag values allow everywhere


@pytest.mark.parametrize("program", [("ec2", "create-tags"), ("network-firewall", "tag-resource")])
def test_the_aws_cli_examples_tag_an_exemption_the_pack_honours(program):
    found = [argv for argv in commands() if argv[:3] == ["aws", *program]]
    assert found, f"no 'aws {' '.join(program)}' example"
    for argv in found:
        tags = shorthand_tags(argv[argv.index("--tags") + 1])
        for key, value in tags.items():
            assert_honoured(key, value)


def test_the_cloudformation_example_tags_an_exemption_the_pack_honours():
    (block,) = blocks("yaml")
    resources = yaml.load(block, Loader=yaml.BaseLoader)  # !Ref stays text; only the tags matter here
    (resource,) = resources.values()
    assert resource["Type"] == "AWS::EC2::SecurityGroup"
    tags = {tag["Key"]: tag["Value"] for tag in resource["Properties"]["Tags"]}
    assert len(tags) == 1
    for key, value in tags.items():
        assert_honoured(key, value)


def test_the_section_says_how_to_leave_whole_accounts_out_with_options_the_scan_has():
    assert "ExcludedAccounts" in SECTION and "--excluded-accounts" in SECTION
    scan_options = {option for action in build_parser()._subparsers._group_actions[0].choices["scan"]._actions
                    for option in action.option_strings}
    scans = [argv for argv in commands() if argv[:2] == ["perimeter", "scan"]]
    assert any("--account" in argv for argv in scans)
    for argv in scans:
        assert {word.split("=")[0] for word in argv if word.startswith("--")} <= scan_options, argv
