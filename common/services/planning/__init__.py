"""Planning a trip: admit, resolve, choose (model), schedule (engine), validate, describe, store; re-plan a day."""
