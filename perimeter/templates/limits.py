"""The AWS limits the rendered templates must stay within, and how the README deploys each template.

A template goes ``INLINE`` (``aws cloudformation deploy --template-file`` without ``--s3-bucket``, or
``--template-body``: the request carries the body) or through ``S3`` (``make deploy``, which runs ``aws cloudformation
package`` and ``deploy --s3-bucket``; ``--template-url``; ``--template-s3-uri`` for packs). Limits:
- CloudFormation: a body of at most 51,200 bytes inline and 1 MB from S3; at most 200 parameters, 500 resources and
  200 outputs per template (CloudFormation User Guide, "CloudFormation quotas", cloudformation-limits.html).
- Conformance packs: a TemplateBody of at most 51,200 bytes, a TemplateS3Uri object of at most 300 KB
  (PutConformancePack), at most 60 input parameters and 130 rules per pack (Config Developer Guide, "Service Limits").

Only the packs' bodies grow with the rules where the README has them go inline, so every pack goes through S3; the
inline templates are organization/artifacts.yaml, which has no per-rule part, and organization/aggregator.yaml,
whose per-rule part (a Security Hub automation rule) is about 1 KB. tests/test_scale.py checks these at 30 rules
and that the README's commands take each template by its route.
"""
from __future__ import annotations

from perimeter.templates.errors import TemplateError
from perimeter.templates.layout import (
    ACCOUNT_PACK, ACCOUNT_STACK, ORG_AGGREGATOR, ORG_ARTIFACTS, ORG_MEMBER, ORG_PACK, PACK_FILES,
)

INLINE, S3 = "inline", "s3"
MAX_INLINE_BODY_BYTES = 51_200  # CloudFormation TemplateBody and PutConformancePack TemplateBody alike
MAX_TEMPLATE_BYTES = 1024 * 1024  # CloudFormation TemplateURL
MAX_PACK_S3_BODY_BYTES = 300 * 1024  # PutConformancePack TemplateS3Uri: "max size: 300 KB"
MAX_TEMPLATE_PARAMETERS = 200
MAX_TEMPLATE_RESOURCES = 500
MAX_TEMPLATE_OUTPUTS = 200
MAX_PACK_PARAMETERS = 60  # ConformancePackInputParameters
MAX_PACK_RULES = 130

ROUTES = {
    ACCOUNT_STACK: S3,
    ACCOUNT_PACK: S3,
    ORG_ARTIFACTS: INLINE,
    ORG_MEMBER: S3,
    ORG_PACK: S3,
    ORG_AGGREGATOR: INLINE,  # one automation rule per pack rule, about 1 KB each (tests/test_scale.py)
}


def body_limit(path: str) -> int:
    """The most bytes the template at ``path`` (under templates/) may have by its route."""
    if ROUTES[path] == INLINE:
        return MAX_INLINE_BODY_BYTES
    return MAX_PACK_S3_BODY_BYTES if path in PACK_FILES else MAX_TEMPLATE_BYTES


def body_size(text: str) -> int:
    return len(text.encode("utf-8"))


def check_body_size(path: str, text: str, limit: int | None = None) -> None:
    """TemplateError when the body is over what its route accepts."""
    limit = body_limit(path) if limit is None else limit
    size = body_size(text)
    if size > limit:
        raise TemplateError(f"{path} is {size} bytes; by its route ({ROUTES.get(path, S3)}) AWS accepts at most "
                            f"{limit} bytes (see perimeter.templates.limits)")
