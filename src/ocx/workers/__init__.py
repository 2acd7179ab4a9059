"""Workers: run journalled operations and periodic tasks (reconcilers, expiry, sweeps)."""
