"""Shared fixtures: real-shaped items and events from tests/fixtures, and an offline AWS environment."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def load_fixture(relative: str):
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch, tmp_path):
    """No test may reach AWS or read a developer's credentials."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def fixture_item():
    """A fresh copy of a fixture item, e.g. ``fixture_item("sg-open-range.notification")``."""
    return lambda name: copy.deepcopy(load_fixture(f"items/{name}.json"))


@pytest.fixture
def fixture_event():
    return lambda name: copy.deepcopy(load_fixture(f"events/{name}.json"))


def change_event(item: dict, rule_name: str, **fields) -> dict:
    """A ConfigurationItemChangeNotification event around ``item``, shaped as Config sends it."""
    template = load_fixture("events/change-open-range.json")
    invoking = json.loads(template["invokingEvent"])
    invoking["configurationItem"] = item
    return {**template, "invokingEvent": json.dumps(invoking), "configRuleName": rule_name, **fields}
