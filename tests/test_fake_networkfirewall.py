"""The Network Firewall fake behaves like the service for the code under test (DESIGN.md §4)."""

import re

import boto3
import botocore.httpsession
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.fakes.networkfirewall import FakeContractError, FakeNetworkFirewall

REGION = "us-east-1"
ACCOUNT = "123456789012"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MANAGED_STRICT = f"arn:aws:network-firewall:{REGION}:aws-managed:stateful-rulegroup/" \
                 "ThreatSignaturesBotnetStrictOrder"
MANAGED_ACTION = f"arn:aws:network-firewall:{REGION}:aws-managed:stateful-rulegroup/" \
                 "ThreatSignaturesBotnetActionOrder"
SSH_DROP = "drop tcp any any -> any 22 (msg:\"ssh\"; sid:1;)"
STATELESS_RULE_GROUP = {
    "RulesSource": {"StatelessRulesAndCustomActions": {"StatelessRules": [{
        "Priority": 1,
        "RuleDefinition": {
            "MatchAttributes": {"Protocols": [6, 17],
                                "Sources": [{"AddressDefinition": "10.0.0.0/8"}]},
            "Actions": ["aws:forward_to_sfe"],
        },
    }]}},
}


class ReachedTheWire(Exception):
    """A request got past before-call: nothing answered it."""


def _refuse_network(*_args, **_kwargs):
    raise AssertionError("a test tried to send a real HTTP request")


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # Backstop: whatever happens, no test sends HTTP (moto answers before this point too).
    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", _refuse_network)


@pytest.fixture
def nfw():
    with FakeNetworkFirewall(region=REGION, account_id=ACCOUNT) as fake:
        yield fake


@pytest.fixture
def client(nfw):
    return boto3.client("network-firewall", region_name=REGION)


def policy(stateful=(), stateless=(), rule_order=None, **extra):
    document = {
        "StatelessDefaultActions": ["aws:forward_to_sfe"],
        "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulRuleGroupReferences": list(stateful),
        "StatelessRuleGroupReferences": list(stateless),
        **extra,
    }
    if rule_order:
        document["StatefulEngineOptions"] = {"RuleOrder": rule_order}
    return document


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


# --------------------------------------------------------------------------- state and shapes


def test_created_resources_read_back_with_aws_like_identity(nfw, client):
    group = client.create_rule_group(RuleGroupName="block-ssh", Type="STATEFUL", Capacity=10,
                                     Rules=SSH_DROP)
    group_arn = group["RuleGroupResponse"]["RuleGroupArn"]
    created = client.create_firewall_policy(
        FirewallPolicyName="edge", FirewallPolicy=policy([{"ResourceArn": group_arn}]))

    described = client.describe_firewall_policy(FirewallPolicyName="edge")
    response = described["FirewallPolicyResponse"]
    assert group_arn == f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:stateful-rulegroup/block-ssh"
    assert response["FirewallPolicyArn"] == \
        f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:firewall-policy/edge"
    assert UUID.match(response["FirewallPolicyId"]) and UUID.match(described["UpdateToken"])
    assert described["UpdateToken"] == created["UpdateToken"]
    assert response["FirewallPolicyStatus"] == "ACTIVE"
    assert response["NumberOfAssociations"] == 0
    assert response["ConsumedStatefulRuleCapacity"] == 10
    references = described["FirewallPolicy"]["StatefulRuleGroupReferences"]
    assert references == [{"ResourceArn": group_arn}]
    rule_group = client.describe_rule_group(RuleGroupArn=group_arn)
    assert rule_group["RuleGroup"] == {"RulesSource": {"RulesString": SSH_DROP}}
    assert rule_group["RuleGroupResponse"]["NumberOfAssociations"] == 1
    assert rule_group["RuleGroupResponse"]["ConsumedCapacity"] == 1


def test_lookups_by_name_or_arn_follow_the_service_rules(nfw, client):
    arn = nfw.put_firewall_policy("edge", policy())
    group_arn = nfw.put_rule_group("block-ssh", rules=SSH_DROP)

    assert client.describe_firewall_policy(FirewallPolicyArn=arn)["FirewallPolicy"] == policy()
    both = client.describe_firewall_policy(FirewallPolicyArn=arn, FirewallPolicyName="edge")
    assert both["FirewallPolicyResponse"]["FirewallPolicyArn"] == arn
    by_name = client.describe_rule_group(RuleGroupName="block-ssh", Type="STATEFUL")
    assert by_name["RuleGroupResponse"]["RuleGroupArn"] == group_arn

    with pytest.raises(client.exceptions.InvalidRequestException):
        client.describe_firewall_policy(FirewallPolicyArn=arn, FirewallPolicyName="other")
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.describe_rule_group(RuleGroupName="block-ssh")  # Type is needed without an ARN
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.describe_firewall_policy()
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_rule_group(RuleGroupName="block-ssh", Type="STATELESS")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        boto3.client("network-firewall", region_name="eu-west-1").describe_firewall_policy(
            FirewallPolicyArn=arn)


def test_managed_rule_groups_are_readable_by_arn_and_listed(nfw, client):
    managed = client.describe_rule_group(RuleGroupArn=MANAGED_STRICT)["RuleGroupResponse"]
    assert managed["RuleGroupName"] == "ThreatSignaturesBotnetStrictOrder"
    assert managed["Type"] == "STATEFUL"
    listed = client.list_rule_groups(Scope="MANAGED", ManagedType="AWS_MANAGED_DOMAIN_LISTS")
    assert "AbusedLegitMalwareDomainsStrictOrder" in {g["Name"] for g in listed["RuleGroups"]}
    assert client.list_rule_groups()["RuleGroups"] == []  # the account's own: none yet
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.delete_rule_group(RuleGroupArn=MANAGED_STRICT)


def test_states_the_service_refuses_can_still_be_arranged(nfw, client):
    dangling = f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:stateful-rulegroup/gone"
    document = policy([{"ResourceArn": dangling}])
    nfw.put_firewall_policy("legacy", document, semantic_checks=False)
    document["StatefulRuleGroupReferences"].clear()  # the store keeps its own copy

    described = client.describe_firewall_policy(FirewallPolicyName="legacy")
    assert described["FirewallPolicy"]["StatefulRuleGroupReferences"] == [{"ResourceArn": dangling}]
    assert described["FirewallPolicyResponse"]["ConsumedStatefulRuleCapacity"] == 0
    with pytest.raises(FakeContractError, match="StatelessDefaultActions"):
        nfw.put_firewall_policy("broken", {"StatefulRuleGroupReferences": []},
                                semantic_checks=False)


def test_dry_run_checks_without_creating(nfw, client):
    client.create_firewall_policy(FirewallPolicyName="edge", FirewallPolicy=policy(), DryRun=True)
    assert client.list_firewall_policies()["FirewallPolicies"] == []


def test_deletion_is_refused_while_in_use(nfw, client):
    group_arn = nfw.put_rule_group("block-ssh", rules=SSH_DROP)
    nfw.put_firewall_policy("edge", policy([{"ResourceArn": group_arn}]), associations=1)

    with pytest.raises(client.exceptions.InvalidOperationException):
        client.delete_rule_group(RuleGroupArn=group_arn)
    with pytest.raises(client.exceptions.InvalidOperationException):
        client.delete_firewall_policy(FirewallPolicyName="edge")
    nfw.set_firewall_associations("edge", 0)
    deleted = client.delete_firewall_policy(FirewallPolicyName="edge")
    assert deleted["FirewallPolicyResponse"]["FirewallPolicyStatus"] == "DELETING"
    client.delete_rule_group(RuleGroupName="block-ssh", Type="STATEFUL")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_firewall_policy(FirewallPolicyName="edge")


# --------------------------------------------------------------------------- validation


def test_server_side_constraints_reject_what_botocore_lets_through(nfw, client):
    with pytest.raises(client.exceptions.InvalidRequestException, match="regular expression"):
        client.create_firewall_policy(FirewallPolicyName="bad_name", FirewallPolicy=policy())
    with pytest.raises(client.exceptions.InvalidRequestException, match="enum value set"):
        client.create_firewall_policy(FirewallPolicyName="edge",
                                      FirewallPolicy=policy(rule_order="RANDOM_ORDER"))
    assert [operation for operation, _ in nfw.calls] == ["CreateFirewallPolicy"] * 2


def test_fake_validates_requests_even_when_the_client_does_not(nfw):
    unvalidated = boto3.client("network-firewall", region_name=REGION,
                               config=Config(parameter_validation=False))
    with pytest.raises(unvalidated.exceptions.InvalidRequestException, match="FirewallPolicy"):
        unvalidated.create_firewall_policy(FirewallPolicyName="edge")
    with pytest.raises(unvalidated.exceptions.InvalidRequestException, match="Invalid type"):
        unvalidated.list_firewall_policies(MaxResults="10")
    with pytest.raises(unvalidated.exceptions.InvalidRequestException, match="min value"):
        unvalidated.list_firewall_policies(MaxResults=0)
    assert unvalidated.list_firewall_policies()["FirewallPolicies"] == []


def test_a_malformed_response_fails_loudly(nfw, client):
    broken = {"UpdateToken": "not-a-uuid", "FirewallPolicyResponse": {"FirewallPolicyName": "x"}}
    nfw.reply_next("DescribeFirewallPolicy", broken)
    with pytest.raises(FakeContractError, match="FirewallPolicyArn"):
        client.describe_firewall_policy(FirewallPolicyName="edge")
    assert len(nfw.contract_errors) == 1
    nfw.contract_errors.clear()  # provoked on purpose; otherwise exit would raise it again


def test_a_swallowed_contract_error_is_raised_at_exit():
    fake = FakeNetworkFirewall()
    with pytest.raises(FakeContractError, match="UpdateToken"):
        with fake:
            fake.reply_next("ListFirewallPolicies", {"FirewallPolicies": [], "UpdateToken": "x"})
            try:  # code under test that catches everything must not hide a broken fake
                boto3.client("network-firewall", region_name=REGION).list_firewall_policies()
            except Exception:
                pass


# --------------------------------------------------------------------------- update tokens


def test_update_tokens_lock_optimistically(nfw, client):
    nfw.put_firewall_policy("edge", policy())
    first = client.describe_firewall_policy(FirewallPolicyName="edge")["UpdateToken"]
    updated = client.update_firewall_policy(FirewallPolicyName="edge", UpdateToken=first,
                                            FirewallPolicy=policy(), Description="v2")
    second = updated["UpdateToken"]
    assert second != first and UUID.match(second)

    with pytest.raises(client.exceptions.InvalidTokenException):
        client.update_firewall_policy(FirewallPolicyName="edge", UpdateToken=first,
                                      FirewallPolicy=policy())
    assert client.describe_firewall_policy(FirewallPolicyName="edge")["UpdateToken"] == second


def test_a_concurrent_writer_makes_the_callers_token_stale(nfw, client):
    group_arn = nfw.put_rule_group("block-ssh", rules=SSH_DROP)
    nfw.put_firewall_policy("edge", policy())
    token = client.describe_firewall_policy(FirewallPolicyName="edge")["UpdateToken"]
    add_group = lambda document: document["StatefulRuleGroupReferences"].append(
        {"ResourceArn": group_arn})
    bumped = nfw.bump_token("edge", add_group)

    with pytest.raises(client.exceptions.InvalidTokenException):
        client.update_firewall_policy(FirewallPolicyName="edge", UpdateToken=token,
                                      FirewallPolicy=policy())
    current = client.describe_firewall_policy(FirewallPolicyName="edge")
    assert current["UpdateToken"] == bumped
    assert current["FirewallPolicy"]["StatefulRuleGroupReferences"] == [{"ResourceArn": group_arn}]


def test_rule_group_updates_use_tokens_and_keep_capacity(nfw, client):
    group_arn = nfw.put_rule_group("block-ssh", rules=SSH_DROP, capacity=2)
    token = client.describe_rule_group(RuleGroupArn=group_arn)["UpdateToken"]
    two_rules = SSH_DROP + "\n" + SSH_DROP.replace("sid:1", "sid:2")
    with pytest.raises(client.exceptions.InvalidRequestException, match="capacity"):
        client.update_rule_group(RuleGroupArn=group_arn, UpdateToken=token,
                                 Rules=two_rules + "\n" + SSH_DROP.replace("sid:1", "sid:3"))
    updated = client.update_rule_group(RuleGroupArn=group_arn, UpdateToken=token, Rules=two_rules)
    assert updated["RuleGroupResponse"]["ConsumedCapacity"] == 2
    with pytest.raises(client.exceptions.InvalidTokenException):
        client.update_rule_group(RuleGroupArn=group_arn, UpdateToken=token, Rules=SSH_DROP)


def retrying_update(client, name, attempts):
    """What a remediation does (DESIGN.md §5): on a token conflict, re-read and retry."""
    for _ in range(attempts):
        current = client.describe_firewall_policy(FirewallPolicyName=name)
        try:
            return client.update_firewall_policy(FirewallPolicyName=name,
                                                 UpdateToken=current["UpdateToken"],
                                                 FirewallPolicy=current["FirewallPolicy"])
        except client.exceptions.InvalidTokenException:
            continue
    raise RuntimeError("gave up")


def test_injected_token_conflicts_drive_a_retry_loop(nfw, client):
    nfw.put_firewall_policy("edge", policy())
    nfw.fail_next("UpdateFirewallPolicy", "InvalidTokenException", times=2)
    retrying_update(client, "edge", attempts=3)
    assert [operation for operation, _ in nfw.calls] == \
        ["DescribeFirewallPolicy", "UpdateFirewallPolicy"] * 3
    assert all(p["FirewallPolicyName"] == "edge" for p in nfw.calls_to("UpdateFirewallPolicy"))


def test_injected_throttling_is_a_modeled_error_and_only_declared_codes_inject(nfw, client):
    nfw.throttle_next("ListRuleGroups")
    with pytest.raises(client.exceptions.ThrottlingException) as excinfo:
        client.list_rule_groups()
    assert isinstance(excinfo.value, ClientError)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert client.list_rule_groups()["RuleGroups"] == []
    with pytest.raises(ValueError, match="does not declare"):
        nfw.fail_next("ListRuleGroups", "InvalidTokenException")
    with pytest.raises(ValueError, match="does not serve"):
        nfw.fail_next("ListTagsForResource", "ThrottlingException")  # neither the fake's nor moto's


# --------------------------------------------------------------------------- semantic checks


def _stateless_ref(arn, priority):
    return {"ResourceArn": arn, "Priority": priority}


SEMANTIC_CASES = {  # case: (what the error says, policy built from the arranged groups)
    "missing group": ("does not exist", lambda g: policy(
        [{"ResourceArn": g["stateful"].replace("block-ssh", "gone")}])),
    "stateful group in stateless list": ("accepts only STATELESS", lambda g: policy(
        stateless=[_stateless_ref(g["stateful"], 1)])),
    "stateless group in stateful list": ("accepts only STATEFUL", lambda g: policy(
        [{"ResourceArn": g["stateless"]}])),
    "duplicate stateless priorities": ("must be unique", lambda g: policy(
        stateless=[_stateless_ref(g["stateless"], 5), _stateless_ref(g["other"], 5)])),
    "strict order without priority": ("needs a Priority", lambda g: policy(
        [{"ResourceArn": MANAGED_STRICT}], rule_order="STRICT_ORDER")),
    "priority without strict order": ("applies only to STRICT_ORDER", lambda g: policy(
        [{"ResourceArn": g["stateful"], "Priority": 1}])),
    "managed group of the other order": ("uses rule order DEFAULT_ACTION_ORDER", lambda g: policy(
        [{"ResourceArn": MANAGED_ACTION, "Priority": 1}], rule_order="STRICT_ORDER")),
    "stateful default action without strict order": ("valid only when", lambda g: policy(
        StatefulDefaultActions=["aws:drop_strict"])),
    "two standard stateless actions": ("exactly one of", lambda g: policy(
        StatelessDefaultActions=["aws:pass", "aws:drop"])),
    "override on own group": ("only to managed", lambda g: policy(
        [{"ResourceArn": g["stateful"], "Override": {"Action": "DROP_TO_ALERT"}}])),
}


@pytest.fixture
def groups(nfw):
    return {
        "stateful": nfw.put_rule_group("block-ssh", rules=SSH_DROP),
        "stateless": nfw.put_rule_group("forward", "STATELESS", rule_group=STATELESS_RULE_GROUP),
        "other": nfw.put_rule_group("forward-too", "STATELESS", rule_group=STATELESS_RULE_GROUP),
    }


@pytest.mark.parametrize("case", SEMANTIC_CASES)
def test_policies_the_service_refuses_are_refused(nfw, client, groups, case):
    reason, build = SEMANTIC_CASES[case]
    with pytest.raises(client.exceptions.InvalidRequestException, match=reason):
        client.create_firewall_policy(FirewallPolicyName="edge", FirewallPolicy=build(groups))
    token = nfw.put_firewall_policy("edge", policy()) and nfw.update_token("edge")
    with pytest.raises(client.exceptions.InvalidRequestException, match=reason):
        client.update_firewall_policy(FirewallPolicyName="edge", UpdateToken=token,
                                      FirewallPolicy=build(groups))
    assert nfw.update_token("edge") == token


def test_policies_the_service_accepts_are_accepted(nfw, client, groups):
    strict = policy([{"ResourceArn": MANAGED_STRICT, "Priority": 10,
                      "Override": {"Action": "DROP_TO_ALERT"}}],
                    stateless=[_stateless_ref(groups["stateless"], 1),
                               _stateless_ref(groups["other"], 2)],
                    rule_order="STRICT_ORDER", StatefulDefaultActions=["aws:drop_established"])
    response = client.create_firewall_policy(FirewallPolicyName="strict", FirewallPolicy=strict)
    assert response["FirewallPolicyResponse"]["ConsumedStatelessRuleCapacity"] == 200
    client.create_firewall_policy(FirewallPolicyName="action", FirewallPolicy=policy(
        [{"ResourceArn": MANAGED_ACTION}, {"ResourceArn": groups["stateful"]}]))


RULE_GROUP_CASES = {  # case: (what the error says, CreateRuleGroup parameters)
    "neither RuleGroup nor Rules": ("either a RuleGroup or a Rules", dict(Type="STATEFUL")),
    "both RuleGroup and Rules": ("not both", dict(
        Type="STATEFUL", Rules=SSH_DROP, RuleGroup={"RulesSource": {"RulesString": SSH_DROP}})),
    "Rules for a stateless group": ("only to STATEFUL", dict(Type="STATELESS", Rules=SSH_DROP)),
    "empty RulesSource": ("exactly one rules source", dict(
        Type="STATEFUL", RuleGroup={"RulesSource": {}})),
    "stateful source in stateless group": ("can't use RulesSource.RulesString", dict(
        Type="STATELESS", RuleGroup={"RulesSource": {"RulesString": SSH_DROP}})),
    # Two protocols times one source: 2 units (CreateRuleGroup's Capacity documentation).
    "over capacity": ("need 2 capacity units", dict(
        Type="STATELESS", RuleGroup=STATELESS_RULE_GROUP, Capacity=1)),
}


@pytest.mark.parametrize("case", RULE_GROUP_CASES)
def test_rule_groups_the_service_refuses_are_refused(client, case):
    reason, params = RULE_GROUP_CASES[case]
    with pytest.raises(client.exceptions.InvalidRequestException, match=reason):
        client.create_rule_group(**{"RuleGroupName": "group", "Capacity": 100, **params})


# --------------------------------------------------------------------------- pagination


def test_real_paginators_walk_every_page(nfw, client):
    names = [f"policy-{index}" for index in range(5)]
    for name in names:
        nfw.put_firewall_policy(name, policy())
    pages = list(client.get_paginator("list_firewall_policies").paginate(
        PaginationConfig={"PageSize": 2}))
    assert [len(page["FirewallPolicies"]) for page in pages] == [2, 2, 1]
    assert [p["Name"] for page in pages for p in page["FirewallPolicies"]] == names
    managed = client.get_paginator("list_rule_groups").paginate(
        Scope="MANAGED", PaginationConfig={"PageSize": 5}).build_full_result()
    assert len(managed["RuleGroups"]) == 12
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.list_firewall_policies(NextToken="!!not-a-token")


def test_a_resource_deleted_between_pages_skips_nothing(nfw, client):
    for name in ("a", "b", "c", "d"):
        nfw.put_firewall_policy(name, policy())
    first = client.list_firewall_policies(MaxResults=2)
    client.delete_firewall_policy(FirewallPolicyName="b")
    rest = client.list_firewall_policies(MaxResults=2, NextToken=first["NextToken"])
    assert [p["Name"] for p in first["FirewallPolicies"] + rest["FirewallPolicies"]] == \
        ["a", "b", "c", "d"]
    assert "NextToken" not in rest


# --------------------------------------------------------------------------- plumbing


def test_works_inside_moto_next_to_ec2_and_serves_firewalls_itself(nfw):
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1c")["Subnet"]
        nfw.subnet_zones[subnet["SubnetId"]] = subnet["AvailabilityZone"]  # the zones EC2 (moto) gave the subnets
        firewall_client = boto3.client("network-firewall", region_name=REGION)
        arn = firewall_client.create_firewall_policy(
            FirewallPolicyName="edge", FirewallPolicy=policy())["FirewallPolicyResponse"][
            "FirewallPolicyArn"]
        firewall_client.create_firewall(
            FirewallName="fw", FirewallPolicyArn=arn, VpcId=vpc_id,
            SubnetMappings=[{"SubnetId": subnet["SubnetId"]}])
        assert [f["FirewallName"] for f in firewall_client.list_firewalls()["Firewalls"]] == ["fw"]
        described = firewall_client.describe_firewall(FirewallName="fw")
        assert list(described["FirewallStatus"]["SyncStates"]) == ["us-east-1c"]
        assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        with pytest.raises(NotImplementedError):  # neither serves it: moto answers, never the network
            firewall_client.list_tags_for_resource(ResourceArn=arn)
    assert [operation for operation, _ in nfw.calls] == [
        "CreateFirewallPolicy", "CreateFirewall", "ListFirewalls", "DescribeFirewall"]


def test_clients_made_after_activation_are_served_and_nothing_leaks_after_exit():
    with FakeNetworkFirewall() as fake:
        plain = boto3.client("network-firewall", region_name=REGION)
        from_session = boto3.Session().client("network-firewall", region_name=REGION)
        plain.create_firewall_policy(FirewallPolicyName="edge", FirewallPolicy=policy())
        assert from_session.describe_firewall_policy(FirewallPolicyName="edge")["FirewallPolicy"]
    assert [operation for operation, _ in fake.calls] == \
        ["CreateFirewallPolicy", "DescribeFirewallPolicy"]

    for leftover in (plain, from_session):
        leftover.meta.events.register("before-send.network-firewall", _reach_the_wire)
        with pytest.raises(ReachedTheWire):
            leftover.describe_firewall_policy(FirewallPolicyName="edge")
    assert len(fake.calls) == 2


def _reach_the_wire(**_kwargs):
    raise ReachedTheWire()


def test_unimplemented_operations_never_reach_the_network_without_moto(nfw, client):
    with pytest.raises(FakeContractError, match="ListTagsForResource"):
        client.list_tags_for_resource(ResourceArn="arn:aws:network-firewall:us-east-1:123456789012:firewall/fw")
    nfw.contract_errors.clear()


def test_moto_firewalls_still_lack_the_contract_the_fake_serves():
    """Why the fake, not moto, serves firewalls (see _FirewallsAndLogging). When this fails, moto has caught up:
    hand the firewall operations back to it."""
    with mock_aws():
        client = boto3.client("network-firewall", region_name=REGION)
        created = client.create_firewall(FirewallName="fw", FirewallPolicyArn=f"arn:aws:network-firewall:{REGION}:"
                                         "123456789012:firewall-policy/p", VpcId="vpc-0a", SubnetMappings=[])
        described = client.describe_firewall(FirewallName="fw")
        assert "FirewallId" not in created["Firewall"]  # required by the output shape
        assert "SyncStates" not in described["FirewallStatus"]
        assert created["Firewall"]["DeleteProtection"] is True  # CreateFirewall's documented default is false
        with pytest.raises(NotImplementedError):
            client.update_firewall_delete_protection(FirewallName="fw", DeleteProtection=False)


# --------------------------------------------------------------------------- logging: one change a call


def test_update_logging_configuration_takes_one_destination_change_a_call_and_no_type_change(nfw, client):
    """UpdateLoggingConfiguration (API reference): one LogDestinationConfig created, deleted or relocated a call;
    its LogDestinationType cannot change in place (delete, then create, in two calls)."""
    policy_arn = nfw.put_firewall_policy("edge", policy())
    alert = {"LogType": "ALERT", "LogDestinationType": "S3", "LogDestination": {"bucketName": "alerts"}}
    flow = {"LogType": "FLOW", "LogDestinationType": "CloudWatchLogs", "LogDestination": {"logGroup": "/flow"}}
    arn = nfw.put_firewall("fw", policy_arn, {"subnet-0a1a1a1a1a1a1a1a1": "us-east-1a"}, logging=[alert])

    def update(*configs):
        return client.update_logging_configuration(FirewallArn=arn,
                                                   LoggingConfiguration={"LogDestinationConfigs": list(configs)})

    with pytest.raises(client.exceptions.InvalidRequestException, match="only one log destination"):
        update({**alert, "LogDestination": {"bucketName": "other"}}, flow)  # relocate one and create another
    with pytest.raises(client.exceptions.InvalidRequestException, match="can't change the LogDestinationType"):
        update({**alert, "LogDestinationType": "KinesisDataFirehose", "LogDestination": {"deliveryStream": "s"}})
    update({**alert, "LogDestination": {"bucketName": "other", "prefix": "fw"}})  # relocating in place is one change
    update({**alert, "LogDestination": {"bucketName": "other", "prefix": "fw"}}, flow)
    update(flow)
    assert nfw.firewall(arn).logging == [flow]
