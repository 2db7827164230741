"""The declaration of netfw-logging-enabled: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict. The pack's first periodic rule: it lists the firewalls itself every run (the
frequency is a template parameter), and reads Config's record of its own earlier results to retire deleted ones.

The remediation's permissions: the Network Firewall calls it makes; the log delivery permissions "you must have ...
to make any changes to your firewall logging configuration" (Network Firewall Developer Guide, "Permissions to
configure AWS Network Firewall logging": logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery,
DeleteLogDelivery, ListLogDeliveries on *) and those of each destination type (its logging destination pages:
s3:GetBucketPolicy/PutBucketPolicy on the bucket; logs:PutResourcePolicy, DescribeResourcePolicies, which take no
resource, and DescribeLogGroups; firehose:TagDeliveryStream and iam:CreateServiceLinkedRole for the log delivery
service-linked role); and the existence checks the rule makes (s3:ListBucket for HeadBucket, logs:DescribeLogGroups,
firehose:DescribeDeliveryStream).
"""

DECLARATION = {
    "id": "netfw-logging-enabled",
    "title": "Network Firewall firewalls must send the required log types to existing destinations",
    "description": "Every Network Firewall firewall must have logging configured for each required log type (logTypes, default ALERT and FLOW), to a destination that exists.",
    "severity": "Medium",
    "frameworks": [
        "CBP"
    ],
    "controls": [
        "Security Hub NetworkFirewall.2",
        "AWS Config managed rule netfw-logging-enabled"
    ],
    "resourceTypes": [
        "AWS::NetworkFirewall::Firewall"
    ],
    "trigger": {
        "change": False,
        "periodic": "TwentyFour_Hours"
    },
    "runtime": "python3.12",
    "parameters": {
        "logTypes": {
            "type": "list",
            "values": [
                "ALERT",
                "FLOW",
                "TLS"
            ],
            "default": "ALERT,FLOW",
            "description": "Comma list of the log types that must each have an existing destination: ALERT, FLOW, TLS."
        }
    },
    "lambdaPermissions": [
        {
            "actions": [
                "network-firewall:ListFirewalls"
            ],
            "resources": [
                "*"
            ]
        },
        {
            "actions": [
                "network-firewall:DescribeFirewall",
                "network-firewall:DescribeLoggingConfiguration"
            ],
            "resources": [
                "arn:{partition}:network-firewall:{region}:{account}:firewall/*"
            ]
        },
        {
            "actions": [
                "s3:ListBucket"
            ],
            "resources": [
                "arn:{partition}:s3:::*"
            ]
        },
        {
            "actions": [
                "logs:DescribeLogGroups"
            ],
            "resources": [
                "arn:{partition}:logs:{region}:{account}:log-group:*"
            ]
        },
        {
            "actions": [
                "firehose:DescribeDeliveryStream"
            ],
            "resources": [
                "arn:{partition}:firehose:{region}:{account}:deliverystream/*"
            ]
        },
        {
            "actions": [
                "config:GetComplianceDetailsByConfigRule"
            ],
            "resources": [
                "arn:{partition}:config:{region}:{account}:config-rule/*"
            ]
        }
    ],
    "remediation": {
        "resourceIdParameter": "Firewall",
        "permissions": [
            {
                "actions": [
                    "network-firewall:ListFirewalls"
                ],
                "resources": [
                    "*"
                ]
            },
            {
                "actions": [
                    "network-firewall:DescribeFirewall",
                    "network-firewall:DescribeLoggingConfiguration",
                    "network-firewall:UpdateLoggingConfiguration"
                ],
                "resources": [
                    "arn:{partition}:network-firewall:{region}:{account}:firewall/*"
                ]
            },
            {
                "actions": [
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies"
                ],
                "resources": [
                    "*"
                ]
            },
            {
                "actions": [
                    "logs:DescribeLogGroups"
                ],
                "resources": [
                    "arn:{partition}:logs:{region}:{account}:log-group:*"
                ]
            },
            {
                "actions": [
                    "s3:ListBucket",
                    "s3:GetBucketPolicy",
                    "s3:PutBucketPolicy"
                ],
                "resources": [
                    "arn:{partition}:s3:::*"
                ]
            },
            {
                "actions": [
                    "firehose:DescribeDeliveryStream",
                    "firehose:TagDeliveryStream"
                ],
                "resources": [
                    "arn:{partition}:firehose:{region}:{account}:deliverystream/*"
                ]
            },
            {
                "actions": [
                    "iam:CreateServiceLinkedRole"
                ],
                "resources": [
                    "arn:{partition}:iam::{account}:role/aws-service-role/delivery.logs.amazonaws.com/AWSServiceRoleForLogDelivery"
                ]
            }
        ]
    }
}
