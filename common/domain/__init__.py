"""The domain: the AI planners, the itinerary engine and the Maps layer; pure, handed their clients."""
