"""The rules of the pack: each folder under ``rules/`` with a ``parameters.json`` (RDK schema).

The metadata is the single source of a rule's id, resource types, triggers and parameter names;
a rule's ``rule.py`` holds only its pure semantics (``parse_parameters`` and ``evaluate``).
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from perimeter.items import ItemError, configuration_of, describe, not_applicable_reason
from perimeter.parameters import ParameterError, check_known
from perimeter.verdicts import NOT_APPLICABLE, Verdict, fit

RULES_PACKAGE = "perimeter.rules"
LEFT_SCOPE_REASON = "Resource left the scope of this rule"


@dataclass(frozen=True)
class RuleSpec:
    rule_id: str
    resource_types: tuple[str, ...]
    parameter_defaults: dict[str, str]
    metadata: dict[str, Any]
    module: ModuleType
    folder: Path

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


def _metadata(folder: Path) -> dict:
    return json.loads((folder / "parameters.json").read_text(encoding="utf-8"))


def _parameter_defaults(parameters: dict) -> dict[str, str]:
    defaults: dict[str, str] = {}
    for key in ("InputParameters", "OptionalParameters"):
        text = parameters.get(key) or "{}"
        defaults.update(json.loads(text) if isinstance(text, str) else text)
    return defaults


def load_rule(module_name: str) -> RuleSpec:
    """The spec of the rule whose ``rule.py`` is ``module_name`` (e.g. ``rules.x.rule``)."""
    module = importlib.import_module(module_name)
    folder = Path(module.__file__).parent
    metadata = _metadata(folder)
    parameters = metadata["Parameters"]
    return RuleSpec(
        rule_id=parameters["RuleName"],
        resource_types=tuple(t.strip() for t in parameters["SourceEvents"].split(",") if t.strip()),
        parameter_defaults=_parameter_defaults(parameters),
        metadata=metadata,
        module=module,
        folder=folder,
    )


@lru_cache(maxsize=1)
def all_rules() -> tuple[RuleSpec, ...]:
    """Every rule of the pack, ordered by rule id."""
    package = importlib.import_module(RULES_PACKAGE)
    root = Path(package.__file__).parent
    folders = sorted(path.parent for path in root.glob("*/parameters.json"))
    specs = [load_rule(f"{RULES_PACKAGE}.{folder.name}.rule") for folder in folders]
    return tuple(sorted(specs, key=lambda spec: spec.rule_id))


def rule_by_id(rule_id: str) -> RuleSpec:
    for spec in all_rules():
        if spec.rule_id == rule_id:
            return spec
    known = ", ".join(spec.rule_id for spec in all_rules())
    raise KeyError(f"unknown rule '{rule_id}'; known rules: {known}")
