"""Trade-event generator: a seeded market simulator plus sinks (landing directory, Event Hubs)."""
