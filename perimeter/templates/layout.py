"""Where each template lives under templates/, and where its functions' code is found from there."""

ACCOUNT_STACK = "perimeter.yaml"
ACCOUNT_PACK = "conformance-pack.yaml"
ORG_CENTRAL = "organization/central.yaml"
ORG_MEMBER = "organization/member.yaml"
ORG_PACK = "organization/conformance-pack.yaml"
PACK_FILES = (ACCOUNT_PACK, ORG_PACK)
# Where `aws cloudformation package` finds the artifact, relative to each template that has functions.
CODE_PATHS = {ACCOUNT_STACK: "../build/perimeter-lambda.zip", ORG_CENTRAL: "../../build/perimeter-lambda.zip"}
