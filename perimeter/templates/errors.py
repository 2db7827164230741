"""The one error template generation raises."""


class TemplateError(Exception):
    """A rule's metadata or runbook cannot be turned into templates; the message names the rule and what to fix."""
