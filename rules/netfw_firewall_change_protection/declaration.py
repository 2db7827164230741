"""The declaration of netfw-firewall-change-protection: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

from perimeter.firewall import firewall_remediation

DECLARATION = {
    "id": "netfw-firewall-change-protection",
    "title": "Network Firewall firewalls must have subnet change protection enabled",
    "description": "A Network Firewall firewall must have subnet change protection enabled and, when requirePolicyChangeProtection is true, firewall policy change protection too.",
    "severity": "Medium",
    "frameworks": [
        "CBP"
    ],
    "controls": [
        "Security Hub NetworkFirewall.10",
        "AWS Config managed rule netfw-subnet-change-protection-enabled"
    ],
    "resourceTypes": [
        "AWS::NetworkFirewall::Firewall"
    ],
    "trigger": {
        "change": True,
        "periodic": None
    },
    "runtime": "python3.12",
    "parameters": {
        "requirePolicyChangeProtection": {
            "type": "boolean",
            "default": "false",
            "description": "true: firewall policy change protection (firewallPolicyChangeProtection) must be enabled as well."
        }
    },
    "lambdaPermissions": [],
    "remediation": firewall_remediation("network-firewall:UpdateSubnetChangeProtection",
                                       "network-firewall:UpdateFirewallPolicyChangeProtection")
}
