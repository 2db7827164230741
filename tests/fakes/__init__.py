"""In-memory fakes of AWS APIs that moto does not implement (see DESIGN.md §4)."""
