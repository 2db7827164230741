"""A firewall's logging configuration and whether its log destinations exist, read through API clients.

One reader for the two places that ask the APIs: the periodic pass of netfw-logging-enabled (the Lambda's client
factory) and the live scan (its region's clients). What it returns goes into the firewall item's
``supplementaryConfiguration`` under perimeter.firewall's LOGGING_KEY and DESTINATIONS_EXIST_KEY, where the rule's
pure evaluation reads it; the offline scan attaches the first from the input's LoggingConfiguration items and has
no way to know the second. ``client(service)`` returns a botocore client: nothing here imports boto3.
"""
from __future__ import annotations

from typing import Callable, Iterable

from perimeter.firewall import DESTINATIONS_EXIST_KEY, LOGGING_KEY, LogDestination, log_destinations

# The permissions of the calls below (declared once, for the rule's Lambda and its runbook): HeadBucket needs
# s3:ListBucket (S3 API reference, HeadBucket).
DESTINATION_EXISTENCE_PERMISSIONS = (
    {"actions": ["s3:ListBucket"], "resources": ["arn:{partition}:s3:::*"]},
    {"actions": ["logs:DescribeLogGroups"], "resources": ["arn:{partition}:logs:{region}:{account}:log-group:*"]},
    {"actions": ["firehose:DescribeDeliveryStream"],
     "resources": ["arn:{partition}:firehose:{region}:{account}:deliverystream/*"]},
)
# What changing a firewall's logging configuration needs besides network-firewall:UpdateLoggingConfiguration: "You
# must have the following permissions to make any changes to your firewall logging configuration" (Network Firewall
# Developer Guide, "Permissions to configure AWS Network Firewall logging": the five log delivery actions, on *), and
# per destination type (its pages under "AWS Network Firewall logging destinations"): the bucket policy of an S3
# bucket; the CloudWatch Logs resource policy (PutResourcePolicy and DescribeResourcePolicies take no resource);
# firehose:TagDeliveryStream and the log delivery service-linked role for Firehose.
LOG_DELIVERY_PERMISSIONS = (
    {"actions": ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                 "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"],
     "resources": ["*"]},
    {"actions": ["s3:GetBucketPolicy", "s3:PutBucketPolicy"], "resources": ["arn:{partition}:s3:::*"]},
    {"actions": ["firehose:TagDeliveryStream"],
     "resources": ["arn:{partition}:firehose:{region}:{account}:deliverystream/*"]},
    {"actions": ["iam:CreateServiceLinkedRole"], "resources": [
        "arn:{partition}:iam::{account}:role/aws-service-role/delivery.logs.amazonaws.com/AWSServiceRoleForLogDelivery"]},
)

# HeadBucket answers 404 for a bucket that does not exist, and 403 for one that exists but that the caller may not
# read (S3 API reference, HeadBucket): a bucket of another account that the firewall delivers to is such a one.
_NO_BUCKET = frozenset({"404", "NoSuchBucket", "NotFound"})
_BUCKET_NOT_READABLE = frozenset({"403", "AccessDenied", "Forbidden"})


def logging_supplement(client: Callable, firewall_arn: str, log_types: Iterable[str] | None = None) -> dict:
    """``{LOGGING_KEY: <the LoggingConfiguration item's configuration>, DESTINATIONS_EXIST_KEY: {log type: bool}}``
    for the destinations of ``log_types`` (all when None). DescribeLoggingConfiguration's errors propagate
    (ResourceNotFoundException: the firewall is gone)."""
    response = client("network-firewall").describe_logging_configuration(FirewallArn=firewall_arn)
    # As DescribeLoggingConfiguration spells it; the live scan respells it as Config records it.
    logging = {"FirewallArn": firewall_arn,
               "LoggingConfiguration": response.get("LoggingConfiguration") or {"LogDestinationConfigs": []}}
    wanted = None if log_types is None else set(log_types)
    exist = {destination.log_type: destination_exists(client, destination)
             for destination in log_destinations(logging) if wanted is None or destination.log_type in wanted}
    return {LOGGING_KEY: logging, DESTINATIONS_EXIST_KEY: exist}


def destination_exists(client: Callable, destination: LogDestination) -> bool:
    if destination.name is None:
        return False
    if destination.destination_type == "S3":
        s3 = client("s3")
        try:
            s3.head_bucket(Bucket=destination.name)
        except s3.exceptions.ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _NO_BUCKET:
                return False
            if code in _BUCKET_NOT_READABLE:
                return True
            raise
        return True
    if destination.destination_type == "CloudWatchLogs":
        pages = client("logs").get_paginator("describe_log_groups").paginate(logGroupNamePrefix=destination.name)
        groups = (group for page in pages for group in page.get("logGroups", []))
        return any(group.get("logGroupName") == destination.name for group in groups)
    firehose = client("firehose")
    try:
        firehose.describe_delivery_stream(DeliveryStreamName=destination.name)
    except firehose.exceptions.ResourceNotFoundException:
        return False
    return True
