"""Fail the execution with the failure the step Remediate returned (a failed script step has no outputs)."""


def handler(events, context):
    raise RuntimeError(events["Failure"])
