"""netfw-policy-default-action-full-packets: scenarios S1..S8, by the cases it shares with its twin rule (tests/netfw_default_action_cases.py)."""
from __future__ import annotations

import pytest

from netfw_default_action_cases import *  # noqa: F401,F403  the test_s<N>_ cases, collected here for this rule
from netfw_default_action_cases import use_rule


@pytest.fixture(autouse=True)
def rule(monkeypatch):
    return use_rule("netfw-policy-default-action-full-packets", monkeypatch)
