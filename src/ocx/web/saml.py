"""SAML 2.0 sign-in in the browser: OCX's SP metadata, the AuthnRequest and the ACS.

The IdP posts its response from its own site, and a SameSite=Lax session cookie is not
sent on such a cross-site POST; the pending request therefore lives in its own signed,
short-lived cookie, SameSite=None (and so Secure) whenever cookies are Secure.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ocx.api.deps import SessionDep
from ocx.domain.identity import federation
from ocx.domain.identity.saml import SamlProviders
from ocx.errors import OcxError
from ocx.logging import request_id_var
from ocx.web.deps import BrowserDep, WebDep
from ocx.web.pages import WebContext
from ocx.web.sessions import BrowserSession, signed_in

router = APIRouter(include_in_schema=False)
PENDING_COOKIE = "ocx_saml"
PENDING_TTL_S = 600
MAX_RESPONSE = 200_000
MAX_BASE_URLS = 8


def get_saml(request: Request) -> SamlProviders:
    """The service provider for this server's base URL (built once per base URL)."""
    base = str(request.base_url).rstrip("/")
    cache: dict[str, SamlProviders] = request.app.state.__dict__.setdefault("saml_sps", {})
    if base not in cache:
        if len(cache) >= MAX_BASE_URLS:  # the Host header is the client's: bound the cache
            cache.clear()
        cache[base] = SamlProviders(request.app.state.runtime.settings, base)
    return cache[base]


SamlDep = Annotated[SamlProviders, Depends(get_saml)]


def _serializer(web: WebContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(web.settings.secret_key.get_secret_value(), "ocx.web.saml.v1")


@router.get("/auth/saml/metadata")
def sp_metadata(saml: SamlDep) -> Response:
    """OCX's SAML service provider metadata (give it to the IdP or the federation)."""
    return Response(saml.metadata(), media_type="application/samlmetadata+xml")


@router.get("/auth/saml/{name}/login")
def saml_login(name: str, request: Request, web: WebDep, browser: BrowserDep,
               saml: SamlDep) -> Response:
    """Send the browser to SAML identity provider ``name`` with a new AuthnRequest."""
    try:
        started = saml.start(name, relay_state=secrets.token_urlsafe(16))
    except OcxError as exc:
        return web.sign_in_failed(request, browser, exc.status, exc.message)
    response = web.redirect_away(browser, started.url)
    pending = _serializer(web).dumps({"p": name, "r": started.request_id})
    response.set_cookie(PENDING_COOKIE, pending, max_age=PENDING_TTL_S, httponly=True,
                        path="/auth/saml/", secure=web.settings.cookie_secure,
                        samesite="none" if web.settings.cookie_secure else "lax")
    return response


def _pending(request: Request, web: WebContext, name: str) -> str | None:
    raw = request.cookies.get(PENDING_COOKIE, "")
    try:
        data: dict[str, Any] = _serializer(web).loads(raw, max_age=PENDING_TTL_S)
    except BadSignature:
        return None
    return str(data.get("r")) if data.get("p") == name and data.get("r") else None


@router.post("/auth/saml/{name}/acs")
def saml_acs(name: str, request: Request, web: WebDep, browser: BrowserDep, db: SessionDep,
             saml: SamlDep, SAMLResponse: Annotated[str, Form(max_length=MAX_RESPONSE)] = "",
             ) -> Response:
    """Check the IdP's signed response to this browser's request; sign the user in."""
    request_id = _pending(request, web, name)
    if request_id is None or not SAMLResponse:
        response = web.sign_in_failed(request, browser, 400, "Sign-in failed: this response "
                                      "answers no sign-in started here, or was already used.")
    else:
        response = _finish(request, web, browser, db, saml, name, SAMLResponse, request_id)
    response.delete_cookie(PENDING_COOKIE, path="/auth/saml/")  # one response per request
    return response


def _finish(request: Request, web: WebContext, browser: BrowserSession, db: SessionDep,
            saml: SamlProviders, name: str, saml_response: str, request_id: str) -> Response:
    try:
        claims = saml.finish(name, saml_response, request_id)
        with db.begin_nested():
            federation.consume(db, f"saml:{name}:{request_id}", timedelta(seconds=PENDING_TTL_S))
            user = federation.sign_in(db, saml.provider(name), claims, request_id_var.get())
    except OcxError as exc:
        return web.sign_in_failed(request, browser, exc.status, exc.message)
    session = signed_in(str(user.id), user.password_hash, user.session_version)
    label = saml.provider(name).display_name or name
    session.flash("success", f"Signed in as {user.email} with {label}.")
    return web.redirect(session, "/")
