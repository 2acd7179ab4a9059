"""openstacksdk and keystoneauth exceptions, turned into OCX driver errors.

Which is which was read from ``openstack/exceptions.py`` and
``keystoneauth1/exceptions/``: keystoneauth raises its own exceptions for transport
problems and for failed authentication; openstacksdk raises ``HttpException``
subclasses for error answers of the services. Messages name the endpoint, never a
secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from keystoneauth1 import exceptions as ksa
from openstack import exceptions as sdk

from ocx.errors import DriverError, PermanentDriverError

# Answers that may pass: the service is overloaded, restarting or rate-limiting.
_RETRIED_STATUSES = frozenset({408, 429})


@contextmanager
def translated(endpoint: str, action: str) -> Iterator[None]:
    """Raise openstacksdk/keystoneauth failures of ``action`` as (Permanent)DriverError."""
    try:
        yield
    except (DriverError, PermanentDriverError):
        raise
    except ksa.SSLError as exc:
        raise PermanentDriverError(f"OpenStack at {endpoint}: TLS verification failed while "
                                   f"trying to {action} ({exc})") from exc
    except ksa.ConnectionError as exc:
        raise DriverError(f"OpenStack at {endpoint} is unreachable (could not {action}): "
                          f"{exc}") from exc
    except (ksa.Unauthorized, ksa.AuthorizationFailure) as exc:
        raise PermanentDriverError(f"OpenStack at {endpoint} refused OCX's admin credentials "
                                   f"(could not {action}); check the provider settings") from exc
    except (ksa.EndpointNotFound, sdk.EndpointNotFound) as exc:
        raise PermanentDriverError(f"OpenStack at {endpoint} has no endpoint for this in its "
                                   f"catalog (could not {action}): {exc}") from exc
    except ksa.HttpError as exc:
        raise _from_status(exc.http_status, endpoint, action, str(exc)) from exc
    except sdk.HttpException as exc:
        raise _from_status(exc.status_code, endpoint, str(exc.url or action), str(exc)) from exc
    except (ksa.ClientException, sdk.SDKException) as exc:
        raise DriverError(f"OpenStack at {endpoint}: could not {action}: {exc}") from exc


def _from_status(status: int | None, endpoint: str, where: str, detail: str) -> DriverError:
    """5xx, 408 and 429 may pass; any other error answer will not."""
    message = f"OpenStack at {endpoint} answered {status} ({where}): {detail}"
    if status is None or status >= 500 or status in _RETRIED_STATUSES:
        return DriverError(message)
    return PermanentDriverError(message)
