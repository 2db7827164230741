"""The declaration of sg-ingress-authorized-ports-only: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

from perimeter.sg_permissions import sg_remediation_permissions
from perimeter.securitygroups import TRUSTED_SOURCES_PARAMETER, source_scope_parameter

DECLARATION = {
    "id": "sg-ingress-authorized-ports-only",
    "title": "Security groups must open only authorized ports to inbound traffic",
    "description": "Security groups must allow in-scope sources (default: 0.0.0.0/0 and ::/0) only authorized tcp and udp ports (default tcp 80 and 443) and ICMP; all traffic and other protocols are unauthorized.",
    "severity": "High",
    "frameworks": [
        "PCI DSS",
        "NIST 800-53"
    ],
    "controls": [
        "Security Hub EC2.18",
        "AWS Config managed rule vpc-sg-open-only-to-authorized-ports"
    ],
    "resourceTypes": [
        "AWS::EC2::SecurityGroup"
    ],
    "trigger": {
        "change": True,
        "periodic": None
    },
    "runtime": "python3.12",
    "parameters": {
        "authorizedTcpPorts": {
            "type": "ports",
            "default": "80,443",
            "description": "Comma list of tcp ports and ranges in-scope sources may reach, e.g. 443,1024-65535; none for no tcp port. Ranges are united: 80,81 covers tcp 80-81."
        },
        "authorizedUdpPorts": {
            "type": "ports",
            "default": "",
            "description": "Comma list of udp ports and ranges in-scope sources may reach. All traffic (-1) is authorized only when both lists cover 0-65535."
        },
        "sourceScope": source_scope_parameter("world"),
        "trustedSources": TRUSTED_SOURCES_PARAMETER
    },
    "lambdaPermissions": [],
    "remediation": {
        "resourceIdParameter": "SecurityGroupId",
        "permissions": sg_remediation_permissions("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress")
    }
}
