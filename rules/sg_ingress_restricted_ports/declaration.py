"""The declaration of sg-ingress-restricted-ports: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

# Security Hub EC2.19's list of high-risk ports ("Security groups should not allow unrestricted access to ports
# with high risk"), the default of restrictedTcpPorts.
EC2_19_PORTS = "20,21,22,23,25,110,135,143,445,1433,1434,3000,3306,3389,4333,5000,5432,5500,5601,8080,8088,8888,9200,9300"

from perimeter.sg_permissions import sg_remediation_permissions
from perimeter.securitygroups import TRUSTED_SOURCES_PARAMETER, source_scope_parameter

DECLARATION = {
    "id": "sg-ingress-restricted-ports",
    "title": "Security groups must not open restricted ports to inbound traffic",
    "description": "Security groups must not allow inbound traffic from in-scope sources (default: 0.0.0.0/0 and ::/0) to restricted tcp or udp ports such as SSH 22, RDP 3389 and databases.",
    "severity": "High",
    "frameworks": [
        "CIS AWS Foundations Benchmark",
        "PCI DSS",
        "NIST 800-53"
    ],
    "controls": [
        "Security Hub EC2.13",
        "Security Hub EC2.14",
        "Security Hub EC2.19",
        "Security Hub EC2.53",
        "Security Hub EC2.54",
        "AWS Config managed rule restricted-ssh",
        "AWS Config managed rule restricted-common-ports",
        "AWS Config managed rule vpc-sg-port-restriction-check"
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
        "restrictedTcpPorts": {
            "type": "ports",
            "default": EC2_19_PORTS,
            "description": "Comma list of tcp ports and ranges no in-scope source may reach; none for no tcp port. Default: the 24 ports of Security Hub EC2.19."
        },
        "restrictedUdpPorts": {
            "type": "ports",
            "default": "",
            "description": "Comma list of udp ports and ranges no in-scope source may reach. Both lists empty is invalid."
        },
        "sourceScope": source_scope_parameter("world"),
        "trustedSources": TRUSTED_SOURCES_PARAMETER
    },
    "lambdaPermissions": [],
    "remediation": {
        "resourceIdParameter": "SecurityGroupId",
        "permissions": sg_remediation_permissions("ec2:RevokeSecurityGroupIngress")
    }
}
