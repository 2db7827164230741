"""The declaration of netfw-policy-stateful-strict-order: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

from perimeter.firewall import firewall_policy_remediation

DECLARATION = {
    "id": "netfw-policy-stateful-strict-order",
    "title": "Network Firewall policies must evaluate stateful rules in strict order, dropping what no rule passes",
    "description": "A firewall policy must use STRICT_ORDER for its stateful rules and, by default, a stateful default action that drops (aws:drop_strict or aws:drop_established), as AWS's Network Firewall best practices advise.",
    "severity": "Medium",
    "frameworks": [
        "CBP"
    ],
    "controls": [
        "AWS Network Firewall best practices: strict rule order with a default drop (no Security Hub control)"
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
        "requireDefaultDrop": {
            "type": "boolean",
            "default": "true",
            "description": "true: a STRICT_ORDER policy must also have aws:drop_strict or aws:drop_established among its stateful default actions."
        }
    },
    "lambdaPermissions": [],
    "remediation": firewall_policy_remediation(),
}
