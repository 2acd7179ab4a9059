"""A typed client of the OCX API, used by the ``ocx`` CLI and by tests."""

from ocx.client.errors import ApiError, ClientError, ServerUnreachable, UnexpectedResponse
from ocx.client.http import USER_AGENT, OcxClient, all_items, server_url
from ocx.client.models import AuditEvent, Health, Page

__all__ = [
    "USER_AGENT",
    "ApiError",
    "AuditEvent",
    "ClientError",
    "Health",
    "OcxClient",
    "Page",
    "ServerUnreachable",
    "UnexpectedResponse",
    "all_items",
    "server_url",
]
