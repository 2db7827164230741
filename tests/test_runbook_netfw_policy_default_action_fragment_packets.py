"""The netfw-policy-default-action-fragment-packets runbook, rendered, validated and run end to end against the Network Firewall fake,
by the cases it shares with its twin rule's runbook (tests/netfw_default_action_runbook_cases.py)."""
from __future__ import annotations

import pytest

from tests.netfw_default_action_runbook_cases import *  # noqa: F401,F403  the cases, collected here for this runbook
from tests.netfw_default_action_runbook_cases import CASES


@pytest.fixture(scope="module")
def case():
    return CASES["netfw_policy_default_action_fragment_packets"]
