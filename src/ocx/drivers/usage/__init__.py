"""Usage collectors: what a provider's resources did, as events (``ocx.drivers.usage``)."""

from ocx.drivers.usage.base import UsageBatch, UsageCollector, UsageEvent

__all__ = ["UsageBatch", "UsageCollector", "UsageEvent"]
