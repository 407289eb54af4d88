"""Storage: the schema, the batching writer, migrations and the read models."""
