"""The declaration of netfw-firewall-multi-az: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

DECLARATION = {
    "id": "netfw-firewall-multi-az",
    "title": "Network Firewall firewalls must have endpoints in several availability zones",
    "description": "A Network Firewall firewall must have endpoints in at least minAvailabilityZones availability zones, so that losing one zone does not stop inspection.",
    "severity": "Medium",
    "frameworks": [
        "CBP"
    ],
    "controls": [
        "Security Hub NetworkFirewall.1",
        "AWS Config managed rule netfw-multi-az-enabled"
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
        "minAvailabilityZones": {
            "type": "integer",
            "minimum": 1,
            "default": "2",
            "description": "Integer >= 1: the fewest distinct availability zones the firewall's endpoints must span."
        }
    },
    "lambdaPermissions": [
        {
            "actions": [
                "network-firewall:DescribeFirewall"
            ],
            "resources": [
                "arn:{partition}:network-firewall:{region}:{account}:firewall/*"
            ]
        }
    ],
    "remediation": None
}
