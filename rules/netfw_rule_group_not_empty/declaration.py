"""The declaration of netfw-rule-group-not-empty: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

DECLARATION = {
    "id": "netfw-rule-group-not-empty",
    "title": "Network Firewall rule groups must not be empty",
    "description": "Network Firewall rule groups must contain rules: an empty stateless or stateful rule group inspects nothing.",
    "severity": "Medium",
    "frameworks": [
        "CBP"
    ],
    "controls": [
        "Security Hub NetworkFirewall.6",
        "Control Tower CT.NETWORK-FIREWALL.PR.4"
    ],
    "resourceTypes": [
        "AWS::NetworkFirewall::RuleGroup"
    ],
    "trigger": {
        "change": True,
        "periodic": None
    },
    "runtime": "python3.12",
    "parameters": {},
    "lambdaPermissions": [
        {
            "actions": [
                "network-firewall:DescribeRuleGroup"
            ],
            "resources": [
                "arn:{partition}:network-firewall:{region}:{account}:stateful-rulegroup/*",
                "arn:{partition}:network-firewall:{region}:{account}:stateless-rulegroup/*"
            ]
        }
    ],
    "remediation": None
}
