"""A small SAML 2.0 identity provider for OCX's sso tests, on pysaml2's ``Server``.

    python idp.py PORT WORKDIR SP_METADATA

WORKDIR holds ``key.pem`` and ``cert.pem`` (self-signed); the IdP writes its own
metadata to ``WORKDIR/idp-metadata.xml`` before it serves. ``GET /sso`` takes a
redirect-binding AuthnRequest and shows a login form; ``POST /login`` answers with a
POST-binding response, signed (response and assertion) unless the form says
``sign=no`` (so tests can show that OCX refuses unsigned responses).
"""

from __future__ import annotations

import html
import sys
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AUTHN_PASSWORD, NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT
from saml2.server import Server

ACCOUNTS = {
    "alice": ("alice-password", {
        "eduPersonPrincipalName": ["alice@a.example.org"], "mail": ["alice@a.example.org"],
        "displayName": ["Alice Anders"],
        "eduPersonScopedAffiliation": ["faculty@a.example.org", "member@a.example.org"]}),
    "bob": ("bob-password", {
        "eduPersonPrincipalName": ["bob@b.example.org"], "mail": ["bob@b.example.org"],
        "displayName": ["Bob Berg"], "eduPersonScopedAffiliation": ["student@b.example.org"]}),
}


def build(port: int, workdir: Path, sp_metadata: str) -> Server:
    base = f"http://127.0.0.1:{port}"
    config = IdPConfig()
    config.load({
        "entityid": f"{base}/idp", "xmlsec_binary": "/usr/bin/xmlsec1",
        "key_file": str(workdir / "key.pem"), "cert_file": str(workdir / "cert.pem"),
        "metadata": {"local": [sp_metadata]},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)]},
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI,
                                   "attribute_restrictions": None}}}}})
    (workdir / "idp-metadata.xml").write_bytes(create_metadata_string(None, config=config))
    return Server(config=config)


def login_form(query: dict[str, list[str]]) -> bytes:
    fields = "".join(f'<input type="hidden" name="{name}" value="{html.escape(values[0])}">'
                     for name, values in query.items() if name in ("SAMLRequest", "RelayState"))
    return (f'<html><body><form method="post" action="/login">{fields}'
            '<input name="login"><input name="password" type="password">'
            '<input name="sign" value="yes"><button>Sign in</button></form></body></html>'
            ).encode()


def respond(server: Server, form: dict[str, list[str]]) -> tuple[str, bytes]:
    login, password = form.get("login", [""])[0], form.get("password", [""])[0]
    account = ACCOUNTS.get(login)
    if account is None or account[0] != password:
        return "401 Unauthorized", b"wrong login or password"
    request = server.parse_authn_request(form["SAMLRequest"][0], BINDING_HTTP_REDIRECT).message
    sign = form.get("sign", ["yes"])[0] == "yes"
    response = server.create_authn_response(
        account[1], in_response_to=request.id,
        destination=request.assertion_consumer_service_url, sp_entity_id=request.issuer.text,
        name_id_policy=request.name_id_policy, userid=login,
        authn={"class_ref": AUTHN_PASSWORD, "authn_auth": server.config.entityid},
        sign_response=sign, sign_assertion=sign)
    args = server.apply_binding(BINDING_HTTP_POST, str(response),
                                request.assertion_consumer_service_url,
                                form.get("RelayState", [""])[0], response=True)
    return "200 OK", str(args["data"]).encode()


def application(server: Server):  # type: ignore[no-untyped-def]
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        path = environ["PATH_INFO"]
        if path == "/sso":
            status, body = "200 OK", login_form(parse_qs(environ.get("QUERY_STRING", "")))
        elif path == "/login" and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            status, body = respond(server, parse_qs(environ["wsgi.input"].read(length).decode()))
        elif path == "/health":
            status, body = "200 OK", b"ok"
        else:
            status, body = "404 Not Found", b"not found"
        start_response(status, [("Content-Type", "text/html; charset=utf-8")])
        return [body]
    return app


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    port = int(sys.argv[1])
    idp = build(port, Path(sys.argv[2]), sys.argv[3])
    make_server("127.0.0.1", port, application(idp), handler_class=QuietHandler).serve_forever()
