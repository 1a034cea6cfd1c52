"""The HTTP layer of the trips API: routes, request parsing and error mapping over the trips services."""
