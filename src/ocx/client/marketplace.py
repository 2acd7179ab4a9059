"""Client calls for the marketplace and allocations (mixed into ``OcxClient``)."""

from __future__ import annotations

from typing import Any

from pydantic import RootModel

from ocx.client.models import Page
from ocx.client.transport import Transport as _Transport
from ocx.client.transport import clean as _clean
from ocx.domain.allocations.schemas import AllocationPublic, ChangePublic, CredentialsPublic
from ocx.domain.marketplace.schemas import OfferingPublic, PlanPublic, ProviderPublic
from ocx.domain.operations.schemas import OperationPublic


class _Plans(RootModel[list[PlanPublic]]):
    """A bare JSON list of plans."""


class _Changes(RootModel[list[ChangePublic]]):
    """A bare JSON list of change requests."""




class MarketplaceCalls:
    """Providers, offerings, plans and allocations."""

    def create_provider(self: _Transport, name: str, *, organization: str,
                        display_name: str | None = None) -> ProviderPublic:
        """Let an organization sell on the exchange (operators)."""
        body = _clean(name=name, organization=organization, display_name=display_name)
        return self._read(ProviderPublic, "POST", "providers", body)

    def list_providers(self: _Transport, *, cursor: str | None = None,
                       limit: int | None = None) -> Page[ProviderPublic]:
        """One page of providers."""
        return self._page(Page[ProviderPublic], "providers", cursor, limit)

    def get_provider(self: _Transport, provider: str) -> ProviderPublic:
        """One provider."""
        return self._read(ProviderPublic, "GET", f"providers/{provider}")

    def create_offering(self: _Transport, body: dict[str, Any]) -> OfferingPublic:
        """List an offering (``body`` as in POST /offerings)."""
        return self._read(OfferingPublic, "POST", "offerings", body)

    def list_offerings(self: _Transport, *, provider: str | None = None,
                       kind: str | None = None, cursor: str | None = None,
                       limit: int | None = None) -> Page[OfferingPublic]:
        """One page of the offerings open to the caller."""
        return self._page(Page[OfferingPublic], "offerings", cursor, limit, provider=provider,
                          kind=kind)

    def get_offering(self: _Transport, offering: str) -> OfferingPublic:
        """One offering."""
        return self._read(OfferingPublic, "GET", f"offerings/{offering}")

    def update_offering(self: _Transport, offering: str, body: dict[str, Any]
                        ) -> OfferingPublic:
        """Change an offering (``body`` as in PATCH /offerings/{offering})."""
        return self._read(OfferingPublic, "PATCH", f"offerings/{offering}", body)

    def create_plan(self: _Transport, offering: str, body: dict[str, Any]) -> PlanPublic:
        """Add a plan with rates to an offering."""
        return self._read(PlanPublic, "POST", f"offerings/{offering}/plans", body)

    def list_plans(self: _Transport, offering: str) -> list[PlanPublic]:
        """An offering's plans."""
        return self._read(_Plans, "GET", f"offerings/{offering}/plans").root

    def request_allocation(self: _Transport, body: dict[str, Any]) -> AllocationPublic:
        """Ask for an allocation (``body`` as in POST /allocations)."""
        return self._read(AllocationPublic, "POST", "allocations", body)

    def list_allocations(self: _Transport, *, project: str | None = None,
                         offering: str | None = None, state: str | None = None,
                         cursor: str | None = None, limit: int | None = None
                         ) -> Page[AllocationPublic]:
        """One page of allocations the caller may see."""
        return self._page(Page[AllocationPublic], "allocations", cursor, limit,
                          project=project, offering=offering, state=state)

    def get_allocation(self: _Transport, allocation: str) -> AllocationPublic:
        """One allocation."""
        return self._read(AllocationPublic, "GET", f"allocations/{allocation}")

    def allocation_action(self: _Transport, allocation: str, verb: str,
                          body: dict[str, Any] | None = None) -> AllocationPublic:
        """``approve``, ``deny``, ``disable``, ``enable`` or ``release`` an allocation."""
        return self._read(AllocationPublic, "POST", f"allocations/{allocation}/{verb}",
                          body if verb != "release" else None)

    def request_change(self: _Transport, allocation: str,
                       body: dict[str, Any]) -> ChangePublic:
        """Ask for a new quota or a renewal."""
        return self._read(ChangePublic, "POST", f"allocations/{allocation}/changes", body)

    def list_changes(self: _Transport, allocation: str) -> list[ChangePublic]:
        """An allocation's change requests, oldest first."""
        return self._read(_Changes, "GET", f"allocations/{allocation}/changes").root

    def decide_change(self: _Transport, allocation: str, change: str, verb: str,
                      reason: str = "") -> ChangePublic:
        """``approve`` or ``deny`` a change request."""
        return self._read(ChangePublic, "POST",
                          f"allocations/{allocation}/changes/{change}/{verb}",
                          {"reason": reason})

    def allocation_operation(self: _Transport, allocation: str, verb: str) -> OperationPublic:
        """Start ``credentials`` issuance or a ``drift`` check; the operation."""
        return self._read(OperationPublic, "POST", f"allocations/{allocation}/{verb}")

    def collect_credentials(self: _Transport, allocation: str,
                            operation: str) -> CredentialsPublic:
        """Collect credentials made for the caller (once)."""
        return self._read(CredentialsPublic, "POST",
                          f"allocations/{allocation}/credentials/{operation}")
