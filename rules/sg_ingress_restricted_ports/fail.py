"""The runbook's last step, as in rules/sg_ingress_port_range_restricted/fail.py: raise Remediate's failure."""


def handler(events, context):
    raise RuntimeError(events["Failure"])
