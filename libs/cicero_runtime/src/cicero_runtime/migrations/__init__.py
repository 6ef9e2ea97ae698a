"""SQL migrations of the runtime's own tables (event store, relay checkpoints, inbox)."""
