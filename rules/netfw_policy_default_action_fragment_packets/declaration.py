"""The declaration of netfw-policy-default-action-fragment-packets: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

from perimeter.firewall import firewall_policy_remediation

DECLARATION = {
    "id": "netfw-policy-default-action-fragment-packets",
    "title": "Network Firewall policies must drop or forward fragmented packets by default",
    "description": "A firewall policy's stateless default action for fragmented packets must be drop or forward to the stateful engine (statelessFragmentDefaultActions), not pass.",
    "severity": "Medium",
    "frameworks": [
        "CBP"
    ],
    "controls": [
        "Security Hub NetworkFirewall.5",
        "AWS Config managed rule netfw-policy-default-action-fragment-packets"
    ],
    "resourceTypes": [
        "AWS::NetworkFirewall::FirewallPolicy"
    ],
    "trigger": {
        "change": True,
        "periodic": None
    },
    "runtime": "python3.12",
    "parameters": {
        "statelessFragmentDefaultActions": {
            "type": "list",
            "values": [
                "aws:pass",
                "aws:drop",
                "aws:forward_to_sfe"
            ],
            "default": "aws:drop,aws:forward_to_sfe",
            "description": "Comma list of the standard actions allowed as the default for fragmented packets: aws:pass, aws:drop, aws:forward_to_sfe."
        }
    },
    "lambdaPermissions": [],
    "remediation": firewall_policy_remediation(),
}
