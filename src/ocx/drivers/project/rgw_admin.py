"""A small client for the RADOS Gateway admin ops API, with AWS Signature V4 requests.

The admin ops API (``/admin/user``, ``/admin/bucket``, ``/admin/usage``...) is signed
like S3 itself, with the access key of an RGW user holding admin caps
(``users=*;buckets=*;usage=*;metadata=*``). Signing is done here (SigV4 is a few
HMACs), so OCX needs no AWS SDK at run time; requests go through ``httpx``.

Errors are translated once: connection trouble, timeouts and 5xx/429 answers are
:class:`DriverError` (retried by the journal), 403 (refused credentials or caps) is
permanent, and 404 is :class:`RgwNotFound` for the caller to decide.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ocx.errors import DriverError, PermanentDriverError

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class RgwNotFound(PermanentDriverError):
    """The user, subuser, key or bucket asked about does not exist."""


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _query(params: Mapping[str, str]) -> str:
    """The canonical (sorted, RFC 3986-encoded) query string; also the one sent."""
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                    for k, v in sorted(params.items()))


def sign_v4(method: str, url: str, params: Mapping[str, str], body: bytes, *,
            access_key: str, secret_key: str, region: str, now: datetime
            ) -> dict[str, str]:
    """The headers that sign one request with AWS Signature Version 4 (service ``s3``)."""
    parts = urlsplit(url)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    headers = {"host": parts.netloc, "x-amz-content-sha256": payload_hash,
               "x-amz-date": stamp}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, quote(parts.path or "/", safe="/-_.~"), _query(params),
                           *(f"{k}:{headers[k]}" for k in sorted(headers)), "",
                           signed, payload_hash])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    return headers


class RgwAdmin:
    """Signed calls to one radosgw's admin ops API (a connection per call)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, *, region: str,
                 verify_tls: bool = True, timeout_s: float = 30.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._access_key, self._secret_key, self._region = access_key, secret_key, region
        self._verify_tls, self._timeout_s = verify_tls, timeout_s

    def call(self, method: str, resource: str, params: Mapping[str, Any] | None = None,
             body: Mapping[str, Any] | None = None) -> Any:
        """``METHOD /admin/<resource>?params`` (JSON body if given); the parsed answer.

        Valueless sub-resources (``quota``, ``subuser``, ``key``) are passed as ``""``.

        Raises:
            RgwNotFound: 404.
            PermanentDriverError: the request was refused (4xx other than 404/429).
            DriverError: radosgw is unreachable, slow or failing (retried).
        """
        url = f"{self.endpoint}/admin/{resource}"
        query = {"format": "json", **{k: _text(v) for k, v in (params or {}).items()
                                      if v is not None}}
        content = json.dumps(body).encode() if body is not None else b""
        headers = sign_v4(method, url, query, content, access_key=self._access_key,
                          secret_key=self._secret_key, region=self._region,
                          now=datetime.now(UTC))
        try:
            # One connection per call: drivers live for one operation and are not closed.
            answer = httpx.request(method, f"{url}?{_query(query)}", headers=headers,
                                   content=content, verify=self._verify_tls,
                                   timeout=self._timeout_s)
        except httpx.HTTPError as exc:
            raise DriverError(f"radosgw at {self.endpoint} is unreachable: {exc}") from exc
        return _parsed(answer, f"{method} /admin/{resource}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _parsed(answer: httpx.Response, what: str) -> Any:
    if answer.is_success:
        return answer.json() if answer.content.strip() else None
    try:
        code = str(answer.json().get("Code", ""))
    except (ValueError, AttributeError):
        code = ""
    message = f"radosgw answered {answer.status_code} {code or answer.reason_phrase} to {what}"
    if answer.status_code == 404:
        raise RgwNotFound(message)
    if answer.status_code >= 500 or answer.status_code == 429:
        raise DriverError(message)
    raise PermanentDriverError(message)
