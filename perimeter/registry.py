"""The rules of the pack: each folder under ``rules/`` (the package ``perimeter.rules``) with a ``declaration.py``.

A rule's declaration (perimeter.declarations) is the single source of its id, resource types, triggers,
parameters and permissions; its ``rule.py`` holds only its pure semantics (``parse_parameters`` and ``evaluate``).
``metadata`` is the declaration in RDK's ``parameters.json`` shape (plus a ``Perimeter`` section), which
``make generate`` writes into each folder for RDK users and the templates read.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from perimeter.declaration_schema import DeclarationError, validate
from perimeter.items import ItemError, configuration_of, describe, not_applicable_reason
from perimeter.parameters import ParameterError, check_known
from perimeter.sources import RULES_PACKAGE
from perimeter.verdicts import NOT_APPLICABLE, Verdict, fit

LEFT_SCOPE_REASON = "Resource left the scope of this rule"
CHANGE_TRIGGERS = ("ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification")
PERIODIC_TRIGGER = "ScheduledNotification"


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
    def periodic_frequency(self) -> str | None:
        return self.declaration["trigger"]["periodic"]

    @property
    def remediation_resource_parameter(self) -> str | None:
        """The runbook parameter that receives the non-compliant resource's id (None: no remediation)."""
        remediation = self.declaration["remediation"]
        return remediation["resourceIdParameter"] if remediation else None

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(self.parameter_defaults)

    def parse_parameters(self, raw: dict) -> Any:
        """Validate Config's parameter strings: unknown names, then each value. ParameterError."""
        if not isinstance(raw, dict):
            raise ParameterError("rule parameters must be a JSON object of name -> string")
        check_known(raw, self.parameter_names)
        return self.module.parse_parameters(raw)

    def complete(self, item: dict, client_factory: Any) -> dict:
        """The item with what recording omitted fetched from the API, where the rule needs it.

        Only the Lambda calls this (with rdklib's client factory); the offline scan has no API and
        evaluates items as recorded. Rules opt in by defining ``complete_item(item, client_factory)``.
        """
        complete_item = getattr(self.module, "complete_item", None)
        if complete_item is None or not_applicable_reason(item, self.resource_types):
            return item
        return complete_item(item, client_factory)

    def periodic_listing(self, client_factory: Any, parameters: Any):
        """The rule's own listing for a ScheduledNotification (perimeter.periodic), or None for a rule that
        declares no periodic trigger. Only the Lambda calls this."""
        listing = getattr(self.module, "periodic_listing", None)
        if self.periodic_frequency is None or listing is None:
            return None
        return listing(client_factory, parameters)

    def evaluate(self, item: dict, parameters: Any, *, left_scope: bool = False) -> Verdict:
        """The verdict for one notification-shaped item, NOT_APPLICABLE included.

        ``left_scope`` is the event's ``eventLeftScope``: the resource no longer matches the rule's scope.
        """
        reason = not_applicable_reason(item, self.resource_types)
        if not reason and left_scope:
            reason = LEFT_SCOPE_REASON
        if reason:  # the reason may quote a resource type of any length
            return Verdict(NOT_APPLICABLE, fit(reason))
        configuration_of(item)  # an evaluated item without configuration is malformed, not compliant
        try:
            verdict = self.module.evaluate(item, parameters)
        except ItemError:
            raise
        except ValueError as error:  # model errors (SecurityGroupError, ...) name the field, not the item
            raise ItemError(f"{describe(item)}: {error}") from None
        return Verdict(verdict.compliance, fit(verdict.annotation))


_PSEUDO_PARAMETERS = {"{partition}": "${AWS::Partition}", "{region}": "${AWS::Region}", "{account}": "${AWS::AccountId}"}


def _cloudformation_arn(arn: str) -> str:
    """A declared ARN with its placeholders as CloudFormation pseudo parameters (the templates Fn::Sub them)."""
    for placeholder, pseudo in _PSEUDO_PARAMETERS.items():
        arn = arn.replace(placeholder, pseudo)
    return arn


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
    return RuleSpec(
        rule_id=declaration["id"],
        resource_types=tuple(declaration["resourceTypes"]),
        parameter_defaults={name: p["default"] for name, p in declaration["parameters"].items()},
        metadata=rdk_metadata(declaration),
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
