"""A loopback stand-in for AWS Config's PutEvaluations, for the first-invocation and warm-invocation figures.

The Lambda under measurement runs in another process (under callgrind, or plain) with its Config endpoint here
(``AWS_ENDPOINT_URL_CONFIG_SERVICE``; botocore names the variable after the service id "Config Service") and
every other service's endpoint here too (``AWS_ENDPOINT_URL``), so nothing can reach AWS: anything but a well-formed
PutEvaluations is answered 400, which fails the invocation. The wire format is the AWS JSON 1.1 protocol:
``POST /`` with ``X-Amz-Target: StarlingDoveService.PutEvaluations`` and a JSON body; the answer
``{"FailedEvaluations": []}`` (https://docs.aws.amazon.com/config/latest/APIReference/API_PutEvaluations.html).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TARGET = "StarlingDoveService.PutEvaluations"
CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_EVALUATIONS = 100  # the API's limit per call


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        try:
            request = json.loads(body or b"null")
        except ValueError:
            request = None
        evaluations = request.get("Evaluations") if isinstance(request, dict) else None
        if target != TARGET:
            return self._answer(400, {"__type": "UnknownOperationException", "message": f"not served here: {target}"})
        if not isinstance(evaluations, list) or not 1 <= len(evaluations) <= MAX_EVALUATIONS \
                or not request.get("ResultToken"):
            return self._answer(400, {"__type": "ValidationException", "message": "Evaluations and ResultToken"})
        self.server.calls.append(len(evaluations))
        return self._answer(200, {"FailedEvaluations": []})

    def _answer(self, status: int, document: dict) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # quiet: the bench prints its own table
        pass


class ConfigEndpoint:
    """``with ConfigEndpoint() as endpoint:`` serves on 127.0.0.1 (a free port) until the block ends; ``url`` for
    the environment, ``calls`` the number of evaluations of each PutEvaluations received."""

    def __init__(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.calls = []
        self._thread = threading.Thread(target=self._server.serve_forever, name="config-endpoint", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def calls(self) -> list[int]:
        return self._server.calls

    def environment(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL_CONFIG_SERVICE": self.url, "AWS_ENDPOINT_URL": self.url}

    def __enter__(self) -> "ConfigEndpoint":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
