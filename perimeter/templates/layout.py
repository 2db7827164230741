"""Where each template lives under templates/, and where its functions' code is found from there."""

ACCOUNT_STACK = "perimeter.yaml"
ACCOUNT_PACK = "conformance-pack.yaml"
ORG_ARTIFACTS = "organization/artifacts.yaml"
ORG_MEMBER = "organization/member.yaml"
ORG_PACK = "organization/conformance-pack.yaml"
ORG_AGGREGATOR = "organization/aggregator.yaml"
PACK_FILES = (ACCOUNT_PACK, ORG_PACK)
# Where `aws cloudformation package` finds the artifact, relative to perimeter.yaml. organization/member.yaml reads
# it from the regional artifact buckets of organization/artifacts.yaml instead.
ACCOUNT_CODE_PATH = "../build/perimeter-lambda.zip"
