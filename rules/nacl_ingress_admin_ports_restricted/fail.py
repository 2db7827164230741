"""Fail step of the runbook: raise the failure the step Remediate reported.

The remediation function returns its failure with the outputs (a failed step would have none); this step runs only
when there is a failure, and fails the execution with it.
"""


def handler(events, context):
    raise RuntimeError(events["Failure"])
