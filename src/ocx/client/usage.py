"""Client calls for usage (mixed into ``OcxClient``)."""

from __future__ import annotations

from datetime import datetime

from ocx.client.transport import Transport as _Transport
from ocx.domain.metering.schemas import UsageReport


class UsageCalls:
    """A project's usage."""

    def project_usage(self: _Transport, project: str, start: datetime,
                      end: datetime) -> UsageReport:
        """``GET /usage``: a project's usage in [start, end)."""
        return self._read(UsageReport, "GET", "/usage", params={
            "project": project, "from": start.isoformat(), "to": end.isoformat()})
