"""The runbook's last step: fail the execution with the failure that the step Remediate returned.

A failed aws:executeScript step has no outputs, so Remediate returns its failure along with them, and this
step, run only when there is one, raises it.
"""


def handler(events, context):
    raise RuntimeError(events["Failure"])
