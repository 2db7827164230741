"""The rules of the pack: each folder under ``rules/`` (the package ``perimeter.rules``) with a ``declaration.py``.

A rule's declaration (perimeter.declarations) is the single source of its id, resource types, triggers,
parameters and permissions; its ``rule.py`` holds only its pure semantics (``parse_parameters`` and ``evaluate``).
``metadata`` is the declaration in RDK's ``parameters.json`` shape (plus a ``Perimeter`` section), which
``make generate`` writes into each folder for RDK users and the templates read.

What every rule shares is added here, once (perimeter.exemptions): the pack-wide parameter ``maxExemptionDays``,
exemptions applied to every verdict in ``RuleSpec.evaluate``, and the daily periodic pass that lets exemptions
expire (its trigger and its IAM actions), so that every rule is hybrid without any declaration repeating it.
"""
from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from perimeter.declaration_schema import DeclarationError, validate
from perimeter.declarations import declared_values
from perimeter.exemptions import (
    ACTIVE, EXPIRED, MAX_EXEMPTION_DAYS, PACK_WIDE_PARAMETERS, Exemption, evaluation_date, read_exemption, tag_key,
    tags_of,
)
from perimeter.items import ItemError, configuration_of, describe, not_applicable_reason, shared
from perimeter.parameters import ParameterError, check_known
from perimeter.periodic import EXEMPTION_PASS_ACTIONS, EXEMPTION_PASS_FREQUENCY, PeriodicListing, exemption_pass
from perimeter.sources import RULES_PACKAGE
from perimeter.verdicts import COMPLIANT, MAX_ANNOTATION, NON_COMPLIANT, NOT_APPLICABLE, Verdict, fit

_new = tuple.__new__  # an Assessment without its generated __new__: the scan makes one per rule and item

LEFT_SCOPE_REASON = "Resource left the scope of this rule"
CHANGE_TRIGGERS = ("ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification")
PERIODIC_TRIGGER = "ScheduledNotification"


@dataclass(frozen=True)
class RuleParameters:
    """A rule's parsed parameters: its own (what its ``parse_parameters`` returns, handed to its ``evaluate`` and
    ``periodic_listing``) and the pack-wide ones the registry reads itself."""

    own: Any
    max_exemption_days: int


class Assessment(NamedTuple):
    verdict: Verdict
    exemption: Exemption | None  # the item's exemption tag for this rule, read at the evaluation date


@dataclass(frozen=True)
class RuleSpec:
    rule_id: str
    resource_types: tuple[str, ...]
    parameter_defaults: dict[str, str]
    metadata: dict[str, Any]
    module: ModuleType
    folder: Path
    declaration: dict[str, Any]

    @property
    def is_change_triggered(self) -> bool:
        return self.declaration["trigger"]["change"]

    @property
    def periodic_frequency(self) -> str:
        """How often Config sends the rule a ScheduledNotification: the declared frequency, else daily for the
        exemption pass (every rule is hybrid)."""
        return self.declaration["trigger"]["periodic"] or EXEMPTION_PASS_FREQUENCY

    @property
    def remediation_resource_parameter(self) -> str | None:
        """The runbook parameter that receives the non-compliant resource's id (None: no remediation)."""
        remediation = self.declaration["remediation"]
        return remediation["resourceIdParameter"] if remediation else None

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(self.parameter_defaults)

    def parse_parameters(self, raw: dict) -> RuleParameters:
        """Validate Config's parameter strings: unknown names, then each value. ParameterError."""
        if not isinstance(raw, dict):
            raise ParameterError("rule parameters must be a JSON object of name -> string")
        check_known(raw, self.parameter_names)
        pack_wide = declared_values({"parameters": PACK_WIDE_PARAMETERS},
                                    {name: value for name, value in raw.items() if name in PACK_WIDE_PARAMETERS})
        own = self.module.parse_parameters({name: value for name, value in raw.items()
                                            if name not in PACK_WIDE_PARAMETERS})
        return RuleParameters(own, pack_wide[MAX_EXEMPTION_DAYS])

    def complete(self, item: dict, client_factory: Any) -> dict:
        """The item with what recording omitted fetched from the API, where the rule needs it.

        Only the Lambda calls this (with rdklib's client factory); the offline scan has no API and
        evaluates items as recorded. Rules opt in by defining ``complete_item(item, client_factory)``.
        """
        complete_item = getattr(self.module, "complete_item", None)
        if complete_item is None or not_applicable_reason(item, self.resource_types):
            return item
        return complete_item(item, client_factory)

    def periodic_listing(self, client_factory: Any, parameters: RuleParameters, as_of: date) -> PeriodicListing:
        """What a ScheduledNotification evaluates (perimeter.periodic). Only the Lambda calls this.

        The rule's own listing where it declares a periodic trigger; a complete one holds every resource, exempt
        ones included. Otherwise (or added to a partial listing) the exemption pass: the resources whose exemption
        from this rule changed state since the last pass, a partial listing that flips nothing else.
        """
        own = None
        if self.declaration["trigger"]["periodic"]:
            own = self.module.periodic_listing(client_factory, parameters.own)
            if own.complete:
                return own
        expiring = exemption_pass(client_factory, self.rule_id, self.resource_types, as_of,
                                  parameters.max_exemption_days)
        if own is None:
            return expiring
        listed = {(item["resourceType"], item["resourceId"]) for item in own.items}
        extra = [item for item in expiring.items if (item["resourceType"], item["resourceId"]) not in listed]
        return PeriodicListing(list(own.items) + extra, complete=False)

    def evaluate(self, item: dict, parameters: RuleParameters, *, left_scope: bool = False,
                 as_of: date | None = None) -> Verdict:
        """The verdict for one notification-shaped item, NOT_APPLICABLE included, exemptions applied.

        ``left_scope`` is the event's ``eventLeftScope``: the resource no longer matches the rule's scope.
        ``as_of`` is the date exemptions are judged at (default: today in UTC, as the Lambda judges them).
        """
        return self.assess(item, parameters, left_scope=left_scope, as_of=as_of).verdict

    def assess(self, item: dict, parameters: RuleParameters, *, left_scope: bool = False,
               as_of: date | None = None) -> Assessment:
        """The verdict and the exemption it honoured (or reported), for the scans' output."""
        reason = not_applicable_reason(item, self.resource_types)
        if not reason and left_scope:
            reason = LEFT_SCOPE_REASON
        if reason:  # the reason may quote a resource type of any length
            return Assessment(Verdict(NOT_APPLICABLE, fit(reason)), None)
        configuration_of(item)  # an evaluated item without configuration is malformed, not compliant
        if not isinstance(parameters, RuleParameters):
            raise TypeError(f"{self.rule_id}: evaluate takes the RuleParameters of RuleSpec.parse_parameters, "
                            f"not {type(parameters).__name__}")
        try:
            verdict = self.module.evaluate(item, parameters.own)
        except ItemError:
            raise
        except ValueError as error:  # model errors (SecurityGroupError, ...) name the field, not the item
            raise ItemError(f"{describe(item)}: {error}") from None
        if type(verdict) is not Verdict or len(verdict.annotation) > MAX_ANNOTATION:
            verdict = Verdict(verdict.compliance, fit(verdict.annotation))
        value = shared("tags", item, tags_of).get(self.exemption_tag)  # read once for all the item's rules
        if value is None:
            return _new(Assessment, (verdict, None))
        exemption = read_exemption(value, as_of or evaluation_date(), parameters.max_exemption_days)
        return Assessment(apply_exemption(verdict, exemption), exemption)

    @cached_property
    def exemption_tag(self) -> str:
        return tag_key(self.rule_id)


def apply_exemption(verdict: Verdict, exemption: Exemption | None) -> Verdict:
    """The verdict with the rule's exemption applied (perimeter.exemptions), the annotation fitted to Config's limit.

    Active: NON_COMPLIANT becomes COMPLIANT saying what the rule would have said; on a COMPLIANT resource the note
    says the exemption is not needed. Expired or invalid: the rule's verdict, with a note after its annotation.
    """
    if exemption is None or verdict.compliance == NOT_APPLICABLE:
        return verdict
    if exemption.state == ACTIVE:
        until = f"Exempt until {exemption.expires.isoformat()} ({exemption.reason})"
        if verdict.compliance == NON_COMPLIANT:
            return Verdict(COMPLIANT, fit(f"{until}: would be NON_COMPLIANT: {verdict.annotation}"))
        return Verdict(COMPLIANT, _with_note(verdict.annotation, f"{until[0].lower()}{until[1:]}, not needed"))
    if exemption.state == EXPIRED:
        return Verdict(verdict.compliance, _with_note(verdict.annotation,
                                                      f"exemption expired {exemption.expires.isoformat()}"))
    return Verdict(verdict.compliance, _with_note(verdict.annotation, f"exemption tag ignored: {exemption.problem}"))


# apply_exemption's words for an active exemption, read back from an annotation a Lambda wrote (perimeter report):
# "Exempt until 2027-03-31 (reason): would be ..." or "...; exempt until 2027-03-31 (reason), not needed". A reason
# holds no parenthesis (tag values allow letters, digits, spaces and + - = . _ : / @).
_ACTIVE_IN_ANNOTATION = re.compile(r"(?:^Exempt|; exempt) until (\d{4}-\d{2}-\d{2}) \(([^()]+)\)(?::|, not needed)")


def active_exemption_in(annotation: str) -> dict | None:
    """The ``exemption`` object (expires, reason, state active) of a COMPLIANT annotation that says it is exempt."""
    found = _ACTIVE_IN_ANNOTATION.search(annotation or "")
    return {"expires": found.group(1), "reason": found.group(2), "state": ACTIVE} if found else None


def _with_note(annotation: str, note: str) -> str:
    """``annotation; note``, cutting the annotation (not the note) to fit."""
    note = fit(note, MAX_ANNOTATION // 2)
    return f"{fit(annotation, MAX_ANNOTATION - len(note) - 2)}; {note}"


_PSEUDO_PARAMETERS = {"{partition}": "${AWS::Partition}", "{region}": "${AWS::Region}", "{account}": "${AWS::AccountId}"}


def _cloudformation_arn(arn: str) -> str:
    """A declared ARN with its placeholders as CloudFormation pseudo parameters (the templates Fn::Sub them)."""
    for placeholder, pseudo in _PSEUDO_PARAMETERS.items():
        arn = arn.replace(placeholder, pseudo)
    return arn


def pack_declaration(declaration: dict) -> dict:
    """The declaration with what the pack adds to every rule: the pack-wide parameters, the exemption pass's
    permissions, and a daily periodic trigger where the rule declares none."""
    declared = set(declaration["parameters"]) & set(PACK_WIDE_PARAMETERS)
    if declared:
        raise DeclarationError(f"rules/{declaration['id'].replace('-', '_')}/declaration.py: parameters."
                               f"{sorted(declared)[0]}: every rule has it already (perimeter.exemptions)")
    trigger = declaration["trigger"]
    return {
        **declaration,
        "parameters": {**declaration["parameters"], **PACK_WIDE_PARAMETERS},
        "trigger": {**trigger, "periodic": trigger["periodic"] or EXEMPTION_PASS_FREQUENCY},
        "lambdaPermissions": [*declaration["lambdaPermissions"],
                              {"actions": list(EXEMPTION_PASS_ACTIONS), "resources": ["*"]}],
    }


def rdk_metadata(declaration: dict) -> dict:
    """The declaration in RDK's parameters.json shape; the ``Perimeter`` section holds what RDK has no field for."""
    parameters = declaration["parameters"]
    trigger = declaration["trigger"]

    def statements(entries: list) -> list:
        return [{"Action": entry["actions"], "Resource": [_cloudformation_arn(arn) for arn in entry["resources"]]}
                for entry in entries]

    remediation = declaration["remediation"] or {}
    perimeter = {
        "Title": declaration["title"],
        "Risk": declaration["severity"],
        "Frameworks": declaration["frameworks"],
        "SecurityHubControls": declaration["controls"],
        "Triggers": list(CHANGE_TRIGGERS if trigger["change"] else ()) + ([PERIODIC_TRIGGER] if trigger["periodic"] else []),
        "LambdaActions": statements(declaration["lambdaPermissions"]),
        "RemediationActions": statements(remediation.get("permissions", [])),
        "ParameterDescriptions": {name: p["description"] for name, p in parameters.items()},
    }
    if remediation:
        perimeter["RemediationResourceParameter"] = remediation["resourceIdParameter"]
    return {
        "Version": "1.0",
        "Parameters": {
            "RuleName": declaration["id"],
            "Description": declaration["description"],
            "SourceRuntime": declaration["runtime"],
            "CodeKey": f"{declaration['id']}.zip",
            "InputParameters": "{}",
            "OptionalParameters": json.dumps({name: p["default"] for name, p in parameters.items()}),
            "SourceEvents": ",".join(declaration["resourceTypes"]) if trigger["change"] else "",
            "SourcePeriodic": trigger["periodic"] or "",
            "RuleSets": ["perimeter"],
        },
        "Tags": "[]",
        "Perimeter": perimeter,
    }


def load_rule(module_name: str) -> RuleSpec:
    """The spec of the rule whose ``rule.py`` is ``module_name`` (e.g. ``perimeter.rules.x.rule``)."""
    package = module_name.rpartition(".")[0]
    declaration_module = importlib.import_module(f"{package}.declaration")
    folder = Path(declaration_module.__file__).parent
    declaration = getattr(declaration_module, "DECLARATION", None)
    where = f"rules/{folder.name}/declaration.py"
    validate(declaration, where)
    if folder.name != declaration["id"].replace("-", "_"):
        raise DeclarationError(f"{where}: id: {declaration['id']!r} must be the folder name with - for _")
    module = importlib.import_module(module_name)
    if declaration["trigger"]["periodic"] and not callable(getattr(module, "periodic_listing", None)):
        raise DeclarationError(f"{where}: trigger.periodic: rules/{folder.name}/rule.py defines no "
                               f"periodic_listing(client_factory, parameters) for the periodic pass")
    effective = pack_declaration(declaration)
    return RuleSpec(
        rule_id=declaration["id"],
        resource_types=tuple(declaration["resourceTypes"]),
        parameter_defaults={name: p["default"] for name, p in effective["parameters"].items()},
        metadata=rdk_metadata(effective),
        module=module,
        folder=folder,
        declaration=declaration,
    )


@lru_cache(maxsize=None)
def _rule_in_folder(folder: str) -> RuleSpec:
    return load_rule(f"{RULES_PACKAGE}.{folder}.rule")


def _rules_root() -> Path:
    return Path(importlib.import_module(RULES_PACKAGE).__file__).parent


@lru_cache(maxsize=1)
def all_rules() -> tuple[RuleSpec, ...]:
    """Every rule of the pack, ordered by rule id."""
    folders = sorted(path.parent.name for path in _rules_root().glob("*/declaration.py"))
    return tuple(sorted((_rule_in_folder(folder) for folder in folders), key=lambda spec: spec.rule_id))


def rule_by_id(rule_id: str) -> RuleSpec:
    """The rule with this id, loading only its own folder: a function's cold start imports one rule, not all."""
    folder = rule_id.replace("-", "_") if isinstance(rule_id, str) else ""
    if folder.isidentifier() and (_rules_root() / folder / "declaration.py").is_file():
        spec = _rule_in_folder(folder)
        if spec.rule_id == rule_id:
            return spec
    known = ", ".join(spec.rule_id for spec in all_rules())
    raise KeyError(f"unknown rule '{rule_id}'; known rules: {known}")
