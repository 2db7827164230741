"""The declaration of sg-default-closed: what the rule is, its parameters, triggers and permissions.

The schema is perimeter/declarations.py; `make generate` derives parameters.json (RDK), the templates and the
README catalog from this dict.
"""

from perimeter.sg_permissions import sg_remediation_permissions

DECLARATION = {
    "id": "sg-default-closed",
    "title": "VPC default security groups must have no inbound or outbound rules",
    "description": "The default security group of every VPC must allow no inbound and no outbound traffic, so resources launched without a group of their own are isolated.",
    "severity": "High",
    "frameworks": [
        "CIS AWS Foundations Benchmark",
        "PCI DSS",
        "NIST 800-53"
    ],
    "controls": [
        "Security Hub EC2.2",
        "AWS Config managed rule vpc-default-security-group-closed"
    ],
    "resourceTypes": [
        "AWS::EC2::SecurityGroup"
    ],
    "trigger": {
        "change": True,
        "periodic": None
    },
    "runtime": "python3.12",
    "parameters": {},
    "lambdaPermissions": [],
    "remediation": {
        "resourceIdParameter": "SecurityGroupId",
        "permissions": sg_remediation_permissions("ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress")
    }
}
