"""The declaration of netfw-firewall-deletion-protection: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

from perimeter.firewall import firewall_remediation

DECLARATION = {
    "id": "netfw-firewall-deletion-protection",
    "title": "Network Firewall firewalls must have deletion protection enabled",
    "description": "A Network Firewall firewall must have deletion protection (deleteProtection) enabled, so that it cannot be deleted by mistake.",
    "severity": "Medium",
    "frameworks": [
        "CBP"
    ],
    "controls": [
        "Security Hub NetworkFirewall.9",
        "AWS Config managed rule netfw-deletion-protection-enabled"
    ],
    "resourceTypes": [
        "AWS::NetworkFirewall::Firewall"
    ],
    "trigger": {
        "change": True,
        "periodic": None
    },
    "runtime": "python3.12",
    "parameters": {},
    "lambdaPermissions": [],
    "remediation": firewall_remediation("network-firewall:UpdateFirewallDeleteProtection")
}
