"""The HTTP API: validates input, delegates to domain services, maps errors once."""
