"""The organization's stacks. Every account runs its own functions: Config invokes its own account's function under
``SourceAccount`` (see perimeter.templates.functions.invoke_permission), so no cross-account invoke, no role chain
and no shared concurrency pool remain.

- ``organization/artifacts.yaml``: in one account (the management account or Config's delegated administrator), in
  every region: the regional bucket ``<ArtifactBucketPrefix>-<region>`` that holds the Lambda artifact, readable by
  the organization's accounts.
- ``organization/member.yaml``, for a service-managed StackSet over the organization's accounts and regions: per rule
  the function (its code read from the region's artifact bucket), its role, log group, invoke permission and error
  alarm, the SSM document and the automation role; what perimeter.yaml creates, without the Config rules, which
  ``organization/conformance-pack.yaml`` brings.
"""
from __future__ import annotations

from perimeter.templates.account import evaluation_outputs, evaluation_resources
from perimeter.templates.cfn import FORMAT_VERSION, prune_conditions, ref, sub
from perimeter.templates.functions import alarm_conditions
from perimeter.templates.naming import MAX_REGION_LENGTH, NAME_PREFIX
from perimeter.templates.template_parameters import (
    ALARM_TOPIC, LOG_RETENTION, alarm_topic_parameter, log_retention_parameter, name_prefix_parameter,
)

ORGANIZATION_ID = "OrganizationId"
ARTIFACT_BUCKET_PREFIX = "ArtifactBucketPrefix"
ARTIFACT_KEY = "ArtifactKey"
# Lambda reads a function's code only from a bucket in the function's region (FunctionCode, S3Bucket: "An Amazon S3
# bucket in the same AWS Region as your function. The bucket can be in a different AWS account."), so there is one
# bucket per region, named alike everywhere for a StackSet's one set of parameters.
ARTIFACT_BUCKET = f"${{{ARTIFACT_BUCKET_PREFIX}}}-${{AWS::Region}}"
MAX_BUCKET_NAME = 63


def artifact_bucket_prefix_parameter() -> dict:
    limit = MAX_BUCKET_NAME - len("-") - MAX_REGION_LENGTH
    return {"Type": "String", "AllowedPattern": f"^[a-z0-9][a-z0-9-]{{2,{limit - 1}}}$",
            "ConstraintDescription": f"lower-case letters, digits and hyphens, 3 to {limit} characters",
            "Description": ("The artifact buckets' common name: each region's bucket is <prefix>-<region> "
                            "(organization/artifacts.yaml).")}


def org_artifacts(plans) -> dict:
    bucket_arn = sub("arn:${AWS::Partition}:s3:::${ArtifactBucket}")
    objects_arn = sub("arn:${AWS::Partition}:s3:::${ArtifactBucket}/*")
    bucket_policy = {"Version": "2012-10-17", "Statement": [
        {
            # The accounts' IAM principals read the artifact: the StackSet's execution role in each account, whose
            # CreateFunction/UpdateFunctionCode has Lambda fetch the object. aws:PrincipalOrgID is in the request
            # context of every signed request by a principal of an organization's account (IAM User Guide,
            # reference_policies_condition-keys.html#condition-keys-principalorgid), as the S3 guide's bucket
            # policy examples use it (example-bucket-policies.html). No service principal reads here.
            "Sid": "OrganizationReadsArtifacts",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "s3:GetObject",
            "Resource": objects_arn,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ref(ORGANIZATION_ID)}},
        },
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [bucket_arn, objects_arn],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]}
    return {
        "AWSTemplateFormatVersion": FORMAT_VERSION,
        "Description": ("perimeter, organization: the regional bucket holding the Lambda artifact, readable by the "
                        "organization's accounts (deploy in every region the organization evaluates, first)"),
        "Parameters": {
            ORGANIZATION_ID: {"Type": "String", "AllowedPattern": "^o-[a-z0-9]{10,32}$",
                              "Description": "The organization's id (o-...): only its accounts may read the artifact."},
            ARTIFACT_BUCKET_PREFIX: artifact_bucket_prefix_parameter(),
        },
        "Resources": {
            "ArtifactBucket": {
                "Type": "AWS::S3::Bucket",
                "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_18", "comment": (
                    "Access logging would need a second bucket per region for a bucket that holds one build artifact "
                    "per release; its reads are the member accounts' CreateFunction/UpdateFunctionCode calls, which "
                    "their CloudTrail records, and object-level CloudTrail data events remain the account's choice")}]}},
                # Member stacks' functions were created from its objects; keep them when the stack goes.
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "BucketName": sub(ARTIFACT_BUCKET),
                    "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                       "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                    "VersioningConfiguration": {"Status": "Enabled"},
                },
            },
            "ArtifactBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": ref("ArtifactBucket"), "PolicyDocument": bucket_policy},
            },
        },
        "Outputs": {"ArtifactBucketName": {"Description": "Upload the Lambda artifact here (make publish)",
                                           "Value": ref("ArtifactBucket")}},
    }


def org_member(plans) -> dict:
    code = {"S3Bucket": sub(ARTIFACT_BUCKET), "S3Key": ref(ARTIFACT_KEY)}
    resources: dict[str, dict] = {}
    outputs: dict[str, dict] = {}
    for plan in plans:
        resources.update(evaluation_resources(plan, code))
        outputs.update(evaluation_outputs(plan))
    template = {
        "AWSTemplateFormatVersion": FORMAT_VERSION,
        "Description": ("perimeter, organization: per account and region (service-managed StackSet) the rules' "
                        "functions, their error alarms, the SSM remediation documents and their automation roles"),
        "Parameters": {
            NAME_PREFIX: name_prefix_parameter([plan.spec for plan in plans]),
            ARTIFACT_BUCKET_PREFIX: artifact_bucket_prefix_parameter(),
            ARTIFACT_KEY: {"Type": "String", "AllowedPattern": "^[A-Za-z0-9!_.*'()/-]+\\.zip$",
                           "Description": ("The artifact's key in every regional bucket (make publish prints it; a "
                                           "new key per build, so a stack update replaces the functions' code).")},
            LOG_RETENTION: log_retention_parameter(),
            ALARM_TOPIC: alarm_topic_parameter(),
        },
        "Conditions": alarm_conditions(),
        "Resources": resources,
        "Outputs": outputs,
    }
    return prune_conditions(template)
