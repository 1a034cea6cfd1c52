"""Enrichment of user-edited trips (the ``enrich_places`` trigger): resolve places, recompute legs and times of the
changed days, validate them and store the conflicts as warnings."""
