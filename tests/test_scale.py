"""The pack at 30 rules stays inside every AWS limit (issue 11, item 6).

Thirty synthetic rules, copies of the real ones under new ids (declaration, metadata and runbook included), are
rendered into every template, both conformance packs (as committed, and as `perimeter pack --parameters` renders
them with a value for every rule) and every SSM document; each limit is asserted with the figure in the message.
The limits are AWS's own, written here rather than read from perimeter.templates.limits, so that a wrong constant
there cannot pass this check:
- CloudFormation quotas (cloudformation-limits.html): template body 51,200 bytes inline (TemplateBody), 1 MB from S3
  (TemplateURL); 200 parameters, 500 resources, 200 outputs.
- Conformance packs (PutConformancePack; Config "Service Limits"): TemplateBody 51,200 bytes, TemplateS3Uri 300 KB,
  60 input parameters, 130 rules.
- SSM documents: the issue's budget of 24 KB each, whatever the number of rules (SSM itself takes 64 KB).
Which templates go inline is what the README's commands do, checked against perimeter.templates.limits.ROUTES.
"""
from __future__ import annotations

import dataclasses
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from perimeter.exemptions import PACK_WIDE_PARAMETERS
from perimeter.registry import all_rules, rdk_metadata
from perimeter.templates import BUILDERS, PACK_FILES
from perimeter.templates.limits import INLINE, ROUTES, S3
from perimeter.templates.packs import PackValues, pack
from perimeter.templates.plan import plan_pack
from perimeter.templates.render import dump

ROOT = Path(__file__).resolve().parent.parent
RULES = 30
KB = 1024
INLINE_BODY = 51_200
TEMPLATE_BODY = 1024 * KB
TEMPLATE_PARAMETERS, TEMPLATE_RESOURCES, TEMPLATE_OUTPUTS = 200, 500, 200
PACK_S3_BODY = 300 * KB
PACK_PARAMETERS, PACK_RULES = 60, 130
DOCUMENT_BUDGET = 24 * KB


def synthetic_rules(count: int) -> tuple:
    """``count`` rules, the real ones copied in turn under new ids (``<id>-NN``), each with its own declaration."""
    real = all_rules()
    # Every other copy is of a rule with a runbook, so that at least half the synthetic rules carry one.
    with_runbook = [spec for spec in real if (spec.folder / "runbook.yaml").exists()]
    copies = []
    for number in range(count):
        models = with_runbook if number % 2 == 0 else real
        model = models[(number // 2) % len(models)]
        rule_id = f"{model.rule_id}-{number:02d}"
        declaration = {**model.declaration, "id": rule_id}
        copies.append(dataclasses.replace(model, rule_id=rule_id, declaration=declaration,
                                          metadata=rdk_metadata(declaration)))
    return tuple(copies)


@lru_cache(maxsize=1)
def plans():
    return plan_pack(synthetic_rules(RULES))


def user_values() -> PackValues:
    """A value for every rule parameter and runbook template parameter, as a `--parameters` file would give."""
    rules = {}
    for plan in plans():
        values = {name: default for name, default in plan.spec.parameter_defaults.items()
                  if default and name not in PACK_WIDE_PARAMETERS}  # those are given once, for the pack
        values.update({p.name: p.default or f"example-{p.name}" for p in plan.template_parameters()})
        rules[plan.rule_id] = values
    return PackValues(rules, {"MaxExemptionDays": "365"})


@lru_cache(maxsize=None)
def rendered(path: str) -> str:
    """The text of ``path`` at 30 rules; ``<pack>+values`` is the pack rendered with user_values()."""
    if path.endswith("+values"):
        organization = path.startswith("organization/")
        return dump(pack(plans(), user_values(), organization=organization))
    return dump(BUILDERS[path](plans()))


def size(path: str) -> int:
    return len(rendered(path).encode("utf-8"))


def template(path: str) -> dict:
    return yaml.safe_load(rendered(path))


STACKS = [path for path in BUILDERS if path not in PACK_FILES]
PACKS = list(PACK_FILES) + [f"{path}+values" for path in PACK_FILES]


def test_the_synthetic_rules_are_thirty_distinct_rules_with_runbooks():
    ids = [plan.rule_id for plan in plans()]
    assert len(set(ids)) == RULES
    assert sum(plan.document is not None for plan in plans()) >= RULES // 2


@pytest.mark.parametrize("path", STACKS)
def test_each_template_body_is_at_most_1_mb_at_30_rules(path):
    assert size(path) <= TEMPLATE_BODY, (
        f"{path} is {size(path):,} bytes at {RULES} rules; CloudFormation takes at most {TEMPLATE_BODY:,} (1 MB)")


@pytest.mark.parametrize("path", [p for p in BUILDERS if ROUTES[p] == INLINE])
def test_each_template_the_readme_deploys_inline_is_at_most_51200_bytes_at_30_rules(path):
    assert size(path) <= INLINE_BODY, (
        f"{path} is {size(path):,} bytes at {RULES} rules and the README deploys it inline; "
        f"TemplateBody takes at most {INLINE_BODY:,}")


@pytest.mark.parametrize("path", STACKS)
def test_each_template_has_at_most_200_parameters_500_resources_200_outputs_at_30_rules(path):
    counts = {key: len(template(path).get(key, {})) for key in ("Parameters", "Resources", "Outputs")}
    limits = {"Parameters": TEMPLATE_PARAMETERS, "Resources": TEMPLATE_RESOURCES, "Outputs": TEMPLATE_OUTPUTS}
    over = {key: f"{counts[key]} (limit {limits[key]})" for key in limits if counts[key] > limits[key]}
    assert not over, f"{path} at {RULES} rules: {over}"


@pytest.mark.parametrize("path", PACKS)
def test_each_pack_has_at_most_130_rules_and_60_input_parameters_at_30_rules(path):
    body = template(path)
    rules = sum(r["Type"] == "AWS::Config::ConfigRule" for r in body["Resources"].values())
    parameters = len(body.get("Parameters", {}))

    assert rules == RULES
    assert rules <= PACK_RULES, f"{path} holds {rules} rules; a conformance pack takes at most {PACK_RULES}"
    assert parameters <= PACK_PARAMETERS, (
        f"{path} has {parameters} input parameters at {RULES} rules; a conformance pack takes at most {PACK_PARAMETERS}")


@pytest.mark.parametrize("path", PACKS)
def test_each_pack_body_fits_its_route_at_30_rules(path):
    route = ROUTES[path.removesuffix("+values")]
    limit = INLINE_BODY if route == INLINE else PACK_S3_BODY
    assert size(path) <= limit, (
        f"{path} is {size(path):,} bytes at {RULES} rules; a conformance pack body takes at most {limit:,} "
        f"({'TemplateBody' if route == INLINE else 'TemplateS3Uri, 300 KB'})")


def test_each_ssm_document_is_at_most_24_kb_at_30_rules():
    sizes = {plan.rule_id: len(json.dumps(plan.document, separators=(",", ":")).encode("utf-8"))
             for plan in plans() if plan.document is not None}
    over = {rule_id: f"{bytes_:,} bytes" for rule_id, bytes_ in sizes.items() if bytes_ > DOCUMENT_BUDGET}
    assert not over, f"SSM documents over the {DOCUMENT_BUDGET:,}-byte (24 KB) budget at {RULES} rules: {over}"


# --- the README deploys each template by its route ------------------------------------------------------------

def readme_commands() -> list[str]:
    """The README's shell commands, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_deploys_each_template_by_its_route():
    inline, through_s3 = set(), set()
    for command in readme_commands():
        for path in re.findall(r"templates/([\w/.-]+\.yaml)", command):
            if "--template-body" in command or ("cloudformation deploy" in command and "--s3-bucket" not in command):
                inline.add(path)
            else:
                through_s3.add(path)
        if "make deploy" in command:
            through_s3.add(re.search(r"TEMPLATE=templates/(\S+)", command).group(1) if "TEMPLATE=" in command
                           else "perimeter.yaml")
    assert inline == {p for p, route in ROUTES.items() if route == INLINE}
    assert through_s3 == {p for p, route in ROUTES.items() if route == S3}
