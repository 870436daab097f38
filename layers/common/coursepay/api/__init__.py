"""HTTP adapter: API Gateway HTTP API (payload 2.0) resolver, caller identity, request parsing and the
single mapping from domain errors to HTTP statuses."""
