"""In-memory fake of an AWS Config aggregator: the three read APIs the pack calls, for every botocore client.

moto 5.2.x does not serve SelectAggregateResourceConfig, DescribeAggregateComplianceByConfigRules or
GetAggregateComplianceDetailsByConfigRule. This fake answers them, the way tests/fakes/networkfirewall.py answers
Network Firewall: while active, ``before-parameter-build`` / ``before-call`` handlers on every new botocore session
(and boto3's default session) short-circuit ``config`` calls; any other Config operation fails loudly, so nothing
reaches the network. Every request is checked against botocore's input shape (types, required, min, and the
max / pattern / enum constraints botocore leaves to the server) and answered with the modeled error as the
service would; every response is checked against the output shape (a mismatch is a FakeContractError, raised
again on exit so code that swallows errors cannot hide it).

- SelectAggregateResourceConfig parses the expression with tests/configquery.py (Config's documented grammar
  and resource schemas; an expression outside them is InvalidExpressionException), evaluates its condition on
  the recorded rows and returns the selected properties as JSON text, ``Limit`` (at most 100) rows a page.
- DescribeAggregateComplianceByConfigRules summarises the recorded evaluation results per rule, account and
  region (NON_COMPLIANT when any resource is, with the count); GetAggregateComplianceDetailsByConfigRule pages
  through them (``Limit`` at most 100), optionally of one ComplianceType.
- NextToken is opaque and tied to the request it continues; a token from another request is
  InvalidNextTokenException. An unknown aggregator is NoSuchConfigurationAggregatorException.
"""
from __future__ import annotations

import base64
import copy
import json
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import boto3
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from botocore.validate import ParamValidator

import configquery
from tests.fakes.networkfirewall import FakeContractError, _constraint_violations

SERVICE_ID = "config-service"
_PARAMS_KEY = "perimeter.fake_configaggregator.params"
_ACTIVE: list["FakeAggregator"] = []


class ConfigError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def _model():
    return botocore.session.get_session().get_service_model("config")


def _problems(value: Any, shape) -> str:
    report = ParamValidator().validate(value, shape)
    if report.has_errors():
        return report.generate_report()
    return "; ".join(_constraint_violations(value, shape))


def _remember(params, context, **_):
    if _ACTIVE and context is not None:
        context[_PARAMS_KEY] = copy.deepcopy(params)


def _answer(model, context, **_):
    return _ACTIVE[-1]._answer(model, context or {}) if _ACTIVE else None


_HANDLERS = ((f"before-parameter-build.{SERVICE_ID}", _remember), (f"before-call.{SERVICE_ID}", _answer))
for _entry in _HANDLERS:
    if _entry not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(_entry)


class FakeAggregator:
    """One aggregator ``name`` holding ``rows`` (advanced-query rows: top-level properties plus ``configuration``)
    and ``evaluations`` (rule name -> [(account, region, resource type, resource id, compliance, annotation)])."""

    def __init__(self, name: str, rows: list[dict], evaluations: dict[str, list[tuple]] | None = None,
                 default_limit: int = 100, page_cap: int | None = None):
        self.name, self.rows, self.evaluations = name, rows, evaluations or {}
        self.default_limit = default_limit
        self.page_cap = page_cap  # the service may return fewer results than Limit; tests page with this
        self.calls: list[tuple[str, dict]] = []
        self.contract_errors: list[FakeContractError] = []
        self._model = _model()
        self._operations = {
            "SelectAggregateResourceConfig": self._select,
            "DescribeAggregateComplianceByConfigRules": self._describe_compliance,
            "GetAggregateComplianceDetailsByConfigRule": self._compliance_details,
        }

    def __enter__(self):
        session = boto3.DEFAULT_SESSION
        if session is not None:
            for event, handler in _HANDLERS:
                session.events.register(event, handler, unique_id=f"perimeter-fake-aggregator:{event}")
        _ACTIVE.append(self)
        return self

    def __exit__(self, exc_type, exc, traceback):
        _ACTIVE.remove(self)
        if exc_type is None and self.contract_errors:
            raise self.contract_errors[0]
        return False

    def calls_to(self, operation: str) -> list[dict]:
        return [params for name, params in self.calls if name == operation]

    # --- dispatch -------------------------------------------------------------------------------------------

    def _answer(self, model, context):
        operation = model.name
        if operation not in self._operations:
            error = FakeContractError(f"{operation} is not served by FakeAggregator; no call may reach AWS")
            self.contract_errors.append(error)
            raise error
        params = context.get(_PARAMS_KEY, {})
        self.calls.append((operation, copy.deepcopy(params)))
        request_id = f"00000000-0000-4000-8000-{len(self.calls):012d}"
        try:
            problems = _problems(params, model.input_shape)
            if problems:
                raise ConfigError("ValidationException", problems)
            if params.get("ConfigurationAggregatorName") != self.name:
                raise ConfigError("NoSuchConfigurationAggregatorException",
                                  "The configuration aggregator does not exist. Check the configuration aggregator "
                                  "name and try again.")
            response = self._operations[operation](params)
        except ConfigError as error:
            parsed = {"Error": {"Code": error.code, "Message": error.message}, "message": error.message,
                      "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": 400}}
            return AWSResponse(None, 400, {}, None), parsed
        problems = _problems(response, model.output_shape)
        if problems:
            error = FakeContractError(f"{operation} response breaks botocore's output shape: {problems}")
            self.contract_errors.append(error)
            raise error
        return AWSResponse(None, 200, {}, None), {**response, "ResponseMetadata": {"RequestId": request_id,
                                                                                   "HTTPStatusCode": 200}}

    def _page(self, params: dict, entries: list, limit_max: int) -> tuple[list, dict]:
        """One page of ``entries`` and the NextToken for the rest, tied to this request's other parameters."""
        limit = params.get("Limit") or self.default_limit
        if limit > limit_max:
            raise ConfigError("InvalidLimitException", f"Limit must be at most {limit_max}")
        limit = min(limit, self.page_cap or limit)
        key = json.dumps({k: v for k, v in params.items() if k not in ("NextToken", "Limit")}, sort_keys=True)
        start = 0
        if params.get("NextToken"):
            try:
                token = json.loads(base64.b64decode(params["NextToken"]))
            except ValueError:
                token = {}
            if token.get("key") != key:
                raise ConfigError("InvalidNextTokenException", "The specified next token is not valid.")
            start = token["start"]
        page = entries[start:start + limit]
        more = {}
        if start + limit < len(entries):
            more["NextToken"] = base64.b64encode(json.dumps({"key": key, "start": start + limit}).encode()).decode()
        return page, more

    # --- operations ------------------------------------------------------------------------------------------

    def _select(self, params: dict) -> dict:
        try:
            query = configquery.parse(params["Expression"])
        except configquery.QueryError as error:
            raise ConfigError("InvalidExpressionException", f"The expression is not valid: {error}") from None
        selected = [json.dumps(configquery.project(query, row)) for row in self.rows
                    if configquery.matches(query.where, row)]
        page, more = self._page(params, selected, 100)
        return {"Results": page, "QueryInfo": {"SelectFields": [{"Name": name} for name in query.select]}, **more}

    def _summaries(self, filters: dict) -> list[dict]:
        summaries = []
        for rule, results in sorted(self.evaluations.items()):
            places = sorted({(account, region) for account, region, *_ in results})
            for account, region in places:
                kinds = Counter(result[4] for result in results if result[:2] == (account, region))
                compliance = "NON_COMPLIANT" if kinds["NON_COMPLIANT"] else (
                    "COMPLIANT" if kinds["COMPLIANT"] else "INSUFFICIENT_DATA")
                summary = {"ConfigRuleName": rule, "AccountId": account, "AwsRegion": region,
                           "Compliance": {"ComplianceType": compliance}}
                if compliance == "NON_COMPLIANT":
                    summary["Compliance"]["ComplianceContributorCount"] = {
                        "CappedCount": kinds["NON_COMPLIANT"], "CapExceeded": False}
                wanted = {"ConfigRuleName": rule, "AccountId": account, "AwsRegion": region,
                          "ComplianceType": compliance}
                if all(wanted[key] == value for key, value in filters.items()):
                    summaries.append(summary)
        return summaries

    def _describe_compliance(self, params: dict) -> dict:
        page, more = self._page(params, self._summaries(params.get("Filters") or {}), 1000)
        return {"AggregateComplianceByConfigRules": page, **more}

    def _compliance_details(self, params: dict) -> dict:
        recorded = datetime(2025, 6, 1, 7, 0, tzinfo=timezone.utc)
        results = [
            {"EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {"ConfigRuleName": params["ConfigRuleName"], "ResourceType": kind,
                                              "ResourceId": resource_id},
                "OrderingTimestamp": recorded},
             "ComplianceType": compliance, "ResultRecordedTime": recorded, "ConfigRuleInvokedTime": recorded,
             **({"Annotation": annotation} if annotation else {}), "AccountId": account, "AwsRegion": region}
            for account, region, kind, resource_id, compliance, annotation in self.evaluations.get(
                params["ConfigRuleName"], [])
            if (account, region) == (params["AccountId"], params["AwsRegion"])
            and params.get("ComplianceType") in (None, compliance)
        ]
        page, more = self._page(params, results, 100)
        return {"AggregateEvaluationResults": page, **more}
