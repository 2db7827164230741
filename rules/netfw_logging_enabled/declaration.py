"""The declaration of netfw-logging-enabled: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict. The pack's first periodic rule: it lists the firewalls itself every run (the
frequency is a template parameter), and reads Config's record of its own earlier results to retire deleted ones.
"""

from perimeter.firewall import firewall_remediation
from perimeter.firewall_logging import DESTINATION_EXISTENCE_PERMISSIONS, LOG_DELIVERY_PERMISSIONS

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
        *DESTINATION_EXISTENCE_PERMISSIONS,
        {
            "actions": [
                "config:GetComplianceDetailsByConfigRule"
            ],
            "resources": [
                "arn:{partition}:config:{region}:{account}:config-rule/*"
            ]
        }
    ],
    "remediation": firewall_remediation("network-firewall:DescribeLoggingConfiguration",
                                        "network-firewall:UpdateLoggingConfiguration",
                                        extra=(*DESTINATION_EXISTENCE_PERMISSIONS, *LOG_DELIVERY_PERMISSIONS))
}
