"""The services: planning, trips, enrichment and operations, which orchestrate the domain."""
