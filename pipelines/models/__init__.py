"""SQL models and the published-table contract (schema.yml)."""
