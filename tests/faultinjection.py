"""HTTP faults injected *inside* botocore's retry loop, for clients the code under test creates itself.

botocore retries only what comes back as an HTTP response: a Stubber, moto's ``fail_next``-style helpers and
the Network Firewall fake all answer at ``before-call``, outside the retry loop, so they stand for what the
caller sees once retries are spent. To prove the retries, ``HttpFaults`` answers at ``before-send`` (fired
once per attempt) with a real HTTP error response in the service's wire protocol: botocore parses it, the
standard retry handler decides, and the attempt is counted. When an operation's script runs out the
request goes on as usual (to moto when it is active), unless the script ends with ``ok(body)``, a 200 body
(JSON protocols: config, network-firewall) for state no backend holds.

Attach with ``faults.attach(client)`` (e.g. from ``ClientInterceptor.on_create``) or
``faults.attach_to_new_sessions(monkeypatch)`` for code that makes its own ``boto3.Session``. Backoff
delays are recorded in ``delays`` and not slept (``no_backoff_sleep``).
"""
from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import boto3
import botocore.exceptions
import botocore.session
from botocore.awsrequest import AWSResponse


@dataclass(frozen=True)
class Reply:
    status: int
    code: str | None = None  # None: a success carrying ``body``
    message: str = ""
    body: dict | None = None


def throttle(code: str | None = None) -> Reply:
    """The service's throttling error (its usual code per protocol unless given)."""
    return Reply(400, code or "<throttle>", "Rate exceeded")


def server_error(status: int = 500) -> Reply:
    code = {500: "InternalFailure", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}[status]
    return Reply(status, code, "We encountered an internal error. Please try again.")


def denied(code: str = "AccessDenied", message: str = "User is not authorized to perform this action") -> Reply:
    return Reply(403, code, message)


def error(code: str, status: int = 400, message: str = "") -> Reply:
    return Reply(status, code, message or code)


def ok(body: dict) -> Reply:
    return Reply(200, None, body=body)


_THROTTLE_CODES = {"json": "ThrottlingException", "rest-json": "ThrottlingException", "query": "Throttling",
                   "ec2": "RequestLimitExceeded"}


@lru_cache(maxsize=None)
def _service_model(service_name: str):
    return botocore.session.get_session().get_service_model(service_name)


def service_id(service_name: str) -> str:
    """The id in botocore's event names: "config" is "config-service"."""
    return _service_model(service_name).service_id.hyphenize()


class _RawBody(io.BytesIO):
    def stream(self, **_):
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _json_default(value):
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(type(value))


def _http_response(url: str, protocol: str, reply: Reply) -> AWSResponse:
    request_id = "11111111-2222-4333-8444-555555555555"
    if reply.code is None:
        body = json.dumps(reply.body, default=_json_default).encode()
        headers = {"x-amzn-RequestId": request_id, "Content-Type": "application/x-amz-json-1.1"}
    elif protocol in ("json", "rest-json"):
        body = json.dumps({"__type": reply.code, "message": reply.message}).encode()
        headers = {"x-amzn-RequestId": request_id, "Content-Type": "application/x-amz-json-1.1"}
    elif protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{reply.code}</Code><Message>{reply.message}</Message></Error>"
                f"</Errors><RequestID>{request_id}</RequestID></Response>").encode()
        headers = {"Content-Type": "text/xml"}
    else:  # query
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{reply.code}</Code><Message>{reply.message}"
                f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers = {"Content-Type": "text/xml"}
    return AWSResponse(url, reply.status, headers, _RawBody(body))


class HttpFaults:
    def __init__(self):
        self.scripts: dict[tuple[str, str], list[Reply]] = {}
        self._attempts: Counter = Counter()  # (service id, operation) -> HTTP attempts, answered here or not
        self._protocols: dict[str, str] = {}
        self._backends: dict[str, object] = {}
        self.delays: list[float] = []

    def serve(self, service_name: str, backend) -> None:
        """Answer every unscripted attempt of this service with ``backend(operation, params, region) -> Reply``:
        for state kept by a fake that answers at before-call (outside the retry loop) when it is active.
        JSON protocols only (the request body is the parameters)."""
        sid = service_id(service_name)
        self._protocols[sid] = _service_model(service_name).resolved_protocol
        self._backends[sid] = backend

    def script(self, service_name: str, operation: str, *replies: Reply) -> None:
        """Answer the next attempts of ``service_name``/``operation`` (e.g. "config", "PutEvaluations")."""
        key = (service_id(service_name), operation)
        self._protocols[key[0]] = _service_model(service_name).resolved_protocol  # what the client speaks
        self.scripts.setdefault(key, []).extend(replies)

    def attempts(self, service_name: str, operation: str) -> int:
        return self._attempts[service_id(service_name), operation]

    def pending(self) -> dict:
        return {key: replies for key, replies in self.scripts.items() if replies}

    def _before_send(self, request, event_name: str, **_):
        _, sid, operation = event_name.split(".", 2)
        self._attempts[sid, operation] += 1
        replies = self.scripts.get((sid, operation))
        if replies:
            reply = replies.pop(0)
        elif sid in self._backends:
            region = request.url.split("//", 1)[1].split(".")[1]  # https://<service>.<region>.amazonaws.com/
            reply = self._backends[sid](operation, json.loads(request.body or b"{}"), region)
        else:
            return None
        # botocore calls every before-send handler and takes the first answer: moto's would still run, and
        # process (or refuse) the request. Pointed at a host no backend knows, it is left alone.
        url, request.url = request.url, "https://http-faults.invalid/"
        protocol = self._protocols[sid]
        if protocol not in _THROTTLE_CODES:
            raise NotImplementedError(f"HttpFaults does not speak {protocol} ({sid})")
        if reply.code == "<throttle>":
            reply = Reply(reply.status, _THROTTLE_CODES[protocol], reply.message)
        return _http_response(url, protocol, reply)

    def attach(self, client) -> None:
        client.meta.events.register_first("before-send", self._before_send, unique_id=f"http-faults-{id(self)}")

    def attach_to_new_sessions(self, monkeypatch) -> None:
        """Every ``boto3.Session()`` made from now on carries the handler (and so do its clients)."""
        faults = self

        class Session(boto3.Session):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.events.register_first("before-send", faults._before_send, unique_id=f"http-faults-{id(faults)}")

        monkeypatch.setattr(boto3, "Session", Session)

    def no_backoff_sleep(self, monkeypatch) -> None:
        """Record botocore's computed backoff delays instead of sleeping them."""
        from botocore.retries import standard

        real = standard.ExponentialBackoff.delay_amount
        faults = self

        def delay_amount(backoff, context):
            faults.delays.append(real(backoff, context))
            return 0

        monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", delay_amount)


def fake_backend(fake):
    """A ``HttpFaults.serve`` backend answering from a tests.fakes.networkfirewall.FakeNetworkFirewall that is
    *not* entered: the fake answers at before-call, outside the retry loop; served from here, its answers come
    inside the loop, after the scripted faults, and every request is still checked against the model."""
    from tests.fakes.networkfirewall import _PARAMS_KEY

    def serve(operation: str, params: dict, region: str) -> Reply:
        http, parsed = fake._answer(fake._contract.operation(operation), {_PARAMS_KEY: params, "client_region": region})
        if http.status_code >= 400:
            return error(parsed["Error"]["Code"], http.status_code, parsed["Error"]["Message"])
        return ok({key: value for key, value in parsed.items() if key != "ResponseMetadata"})

    return serve
