"""The declaration of netfw-policy-rule-group-associated: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

from perimeter.firewall import firewall_policy_remediation

DECLARATION = {
    "id": "netfw-policy-rule-group-associated",
    "title": "Network Firewall policies must reference stateful or stateless rule groups",
    "description": "Ensure network firewall rule groups are stateful or stateless: a firewall policy must reference at least one rule group, or it inspects nothing but its default actions.",
    "severity": "Medium",
    "frameworks": [
        "CBP"
    ],
    "controls": [
        "Security Hub NetworkFirewall.3",
        "AWS Config managed rule netfw-policy-rule-group-associated"
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
        "requiredRuleGroupTypes": {
            "type": "choice",
            "values": [
                "any",
                "stateful",
                "stateless",
                "both"
            ],
            "default": "any",
            "description": "any (at least one stateless or stateful rule group), stateful, stateless, or both (at least one of each)."
        }
    },
    "lambdaPermissions": [],
    "remediation": firewall_policy_remediation({
        "actions": ["network-firewall:DescribeRuleGroup"],
        "resources": [
            "arn:{partition}:network-firewall:{region}:*:stateful-rulegroup/*",
            "arn:{partition}:network-firewall:{region}:*:stateless-rulegroup/*",
        ],
    }),
}
