"""AWS Lambda entry point: rdklib's Evaluator around the pure rule (see perimeter.rule)."""
from perimeter.rule import lambda_handler_for
from rules.netfw_policy_rule_group_associated import rule

lambda_handler = lambda_handler_for(rule)
