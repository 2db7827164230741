"""The declaration of sg-ingress-port-range-restricted: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

from perimeter.sg_permissions import sg_remediation_permissions
from perimeter.securitygroups import TRUSTED_SOURCES_PARAMETER, source_scope_parameter

DECLARATION = {
    "id": "sg-ingress-port-range-restricted",
    "title": "Security groups must not open inbound port ranges",
    "description": "Security groups should not have range of ports opened for inbound traffic, in order to protect EC2 instances against denial-of-service or brute-force attacks.",
    "severity": "Low",
    "frameworks": [
        "HIPAA",
        "NIST",
        "SOC 2",
        "PCI DSS"
    ],
    "controls": [],
    "resourceTypes": [
        "AWS::EC2::SecurityGroup"
    ],
    "trigger": {
        "change": True,
        "periodic": None
    },
    "runtime": "python3.12",
    "parameters": {
        "maxPorts": {
            "type": "integer",
            "minimum": 1,
            "default": "1",
            "description": "Integer >= 1. A permission may open at most this many consecutive ports; more is a range."
        },
        "authorizedTcpPorts": {
            "type": "ports",
            "default": "",
            "description": "Comma list of ports and ranges, e.g. 443,1024-65535. A tcp permission wholly inside one listed range is exempt."
        },
        "authorizedUdpPorts": {
            "type": "ports",
            "default": "",
            "description": "Comma list of ports and ranges. A udp permission wholly inside one listed range is exempt. Neither list covers SCTP, DCCP, UDP-Lite or all traffic (-1)."
        },
        "sourceScope": source_scope_parameter("any"),
        "trustedSources": TRUSTED_SOURCES_PARAMETER,
        "includeSelfReferences": {
            "type": "boolean",
            "default": "false",
            "description": "true to judge rules whose source is the group itself (the default group's all traffic from itself); false leaves them out."
        }
    },
    "lambdaPermissions": [],
    "remediation": {
        "resourceIdParameter": "SecurityGroupId",
        "permissions": sg_remediation_permissions("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress")
    }
}
