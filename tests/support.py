"""Test plumbing for clients created inside the code under test (rdklib builds its own clients)."""
from __future__ import annotations

import boto3
from botocore.stub import Stubber


class OperationStubber(Stubber):
    """botocore's Stubber narrowed to the named operations; every other call goes on to moto.

    Responses and expected parameters are still validated against the service model by Stubber.
    """

    def __init__(self, client, *operations: str):
        super().__init__(client)
        service = client.meta.service_model.service_id.hyphenize()
        self._events = [f"{service}.{operation}" for operation in operations]

    def activate(self):
        for name in self._events:
            self.client.meta.events.register_first(
                f"before-parameter-build.{name}", self._assert_expected_params, unique_id=f"{self._expected_params_event_id}{name}"
            )
            self.client.meta.events.register(
                f"before-call.{name}", self._get_response_handler, unique_id=f"{self._event_id}{name}"
            )

    def deactivate(self):
        for name in self._events:
            self.client.meta.events.unregister(
                f"before-parameter-build.{name}", unique_id=f"{self._expected_params_event_id}{name}"
            )
            self.client.meta.events.unregister(f"before-call.{name}", unique_id=f"{self._event_id}{name}")


class ClientInterceptor:
    """Wraps ``boto3.client`` so a test sees every client the code under test creates.

    ``calls`` records (service, operation) for every API call made through those clients, and
    ``on_create[service]`` callbacks may attach stubbers to each new client of that service.
    """

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, str]] = []
        self.on_create: dict[str, list] = {}
        real_client = boto3.client

        def client(service_name, *args, **kwargs):
            created = real_client(service_name, *args, **kwargs)
            created.meta.events.register("before-call.*.*", self._record)
            for callback in self.on_create.get(service_name, []):
                callback(created)
            return created

        monkeypatch.setattr(boto3, "client", client)

    def _record(self, model, **_):
        self.calls.append((model.service_model.service_name, model.name))

    def operations(self, service: str | None = None) -> list[str]:
        return [operation for name, operation in self.calls if service in (None, name)]


def stub_clients(interceptor: ClientInterceptor, service: str, configure) -> list:
    """Attach the stubber ``configure(client)`` returns to each ``service`` client the code under test creates."""
    stubbers = []

    def attach(client):
        stubber = configure(client)
        stubber.activate()
        stubbers.append(stubber)

    interceptor.on_create.setdefault(service, []).append(attach)
    return stubbers


def rule_handler(rule_id: str):
    """The deployed entry point, perimeter.entry.lambda_handler, as the function of ``rule_id`` runs it: the call
    sees PERIMETER_RULE_ID set as the templates set it. ``.spec`` is the rule's RuleSpec."""
    import os

    from perimeter import entry
    from perimeter.registry import rule_by_id

    def handler(event, context):
        previous = os.environ.get(entry.RULE_ID_VARIABLE)
        os.environ[entry.RULE_ID_VARIABLE] = rule_id
        try:
            return entry.lambda_handler(event, context)
        finally:
            if previous is None:
                os.environ.pop(entry.RULE_ID_VARIABLE, None)
            else:
                os.environ[entry.RULE_ID_VARIABLE] = previous

    handler.spec = rule_by_id(rule_id)
    return handler


def stub_client_error(interceptor: ClientInterceptor, service: str, operation: str, code: str, message: str) -> list:
    """Every ``service`` client the code under test creates answers ``operation`` (PascalCase) with this error."""
    method = "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")

    def configure(client):
        stubber = OperationStubber(client, operation)
        stubber.add_client_error(method, code, message)
        return stubber

    return stub_clients(interceptor, service, configure)
