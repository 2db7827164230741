"""The declaration of nacl-ingress-admin-ports-restricted: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

from perimeter.securitygroups import TRUSTED_SOURCES_PARAMETER

DECLARATION = {
    "id": "nacl-ingress-admin-ports-restricted",
    "title": "Network ACLs must not let the world reach remote administration ports",
    "description": "Network ACLs must not allow inbound traffic from 0.0.0.0/0 or ::/0 (or, optionally, any public address) to SSH 22 or RDP 3389, judged in rule-number order: a deny ahead of the allow closes the port.",
    "severity": "Medium",
    "frameworks": [
        "CIS AWS Foundations Benchmark",
        "PCI DSS",
        "NIST 800-53"
    ],
    "controls": [
        "Security Hub EC2.21",
        "AWS Config managed rule nacl-no-unrestricted-ssh-rdp"
    ],
    "resourceTypes": [
        "AWS::EC2::NetworkAcl"
    ],
    "trigger": {
        "change": True,
        "periodic": None
    },
    "runtime": "python3.12",
    "parameters": {
        "restrictedTcpPorts": {
            "type": "ports",
            "default": "22,3389",
            "description": "Comma list of tcp ports and ranges the world may not reach; none for no tcp port."
        },
        "restrictedUdpPorts": {
            "type": "ports",
            "default": "22,3389",
            "description": "Comma list of udp ports and ranges the world may not reach; none for no udp port. Both lists empty is invalid."
        },
        "sourceScope": {
            "type": "choice",
            "values": [
                "world",
                "public"
            ],
            "default": "world",
            "description": "world (allow entries for 0.0.0.0/0 or ::/0, the default) or public (any globally routable address allowed, whatever the entry's CIDR)."
        },
        "evaluateDefaultNetworkAcl": {
            "type": "boolean",
            "default": "false",
            "description": "true to judge each VPC's default network ACL too; false reports it NOT_APPLICABLE."
        },
        # The shared parameter (one pack-wide value may serve the SG and ACL rules alike), described for ACLs.
        "trustedSources": {
            **TRUSTED_SOURCES_PARAMETER,
            "description": "CIDRs whose addresses are never judged nor denied. pl- and sg- ids are accepted, so one "
                           "value serves SG and ACL rules, but never match an ACL entry."
        }
    },
    "lambdaPermissions": [],
    # Describe* take no resource-level permissions (Service Authorization Reference, Amazon EC2: no resource type
    # for DescribeNetworkAcls or DescribeTags); Create/DeleteNetworkAclEntry act on the network-acl resource type.
    "remediation": {
        "resourceIdParameter": "NetworkAclId",
        "permissions": [
            {
                "actions": [
                    "ec2:DescribeNetworkAcls",
                    "ec2:DescribeTags"
                ],
                "resources": [
                    "*"
                ]
            },
            {
                "actions": [
                    "ec2:CreateNetworkAclEntry",
                    "ec2:DeleteNetworkAclEntry"
                ],
                "resources": [
                    "arn:{partition}:ec2:{region}:{account}:network-acl/*"
                ]
            }
        ]
    }
}
