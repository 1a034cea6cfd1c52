"""Trips: the planning contract, persistence, quotas and sessions."""
