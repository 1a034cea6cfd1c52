"""Shared package of the trip planner functions: config, errors, logging, clients, Maps, planning."""
