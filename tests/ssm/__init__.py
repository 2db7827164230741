"""Test tools for SSM Automation documents: a validator and an in-process step runner (moto has neither)."""
