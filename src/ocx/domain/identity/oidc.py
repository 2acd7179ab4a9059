"""OpenID Connect relying party: discovery, the authorization code flow with PKCE, the
device flow, and ID token validation (signature, issuer, audience, expiry, nonce).

The protocol runs through authlib's OAuth 2.0 client; ID tokens are checked with
joserfc (authlib's own JOSE successor). Logging in is synchronous by nature (a person
waits at the redirect), so these calls do not go through the operations journal.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ocx.config import OidcProviderSettings, Settings
from ocx.errors import DriverError, NotFound, Unauthenticated

ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
METADATA_TTL_S = 3600
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True)
class FederatedClaims:
    """Who an identity provider says signed in (from a validated token or assertion)."""

    provider: str
    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str
    affiliations: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class PendingLogin:
    """What a browser must bring back to the callback: kept in its signed session."""

    provider: str
    state: str
    nonce: str
    code_verifier: str

    def as_dict(self) -> dict[str, str]:
        """The fields, for the session cookie."""
        return {"p": self.provider, "s": self.state, "n": self.nonce, "v": self.code_verifier}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingLogin:
        """Read back :meth:`as_dict` (raises KeyError if a field is missing)."""
        return cls(str(data["p"]), str(data["s"]), str(data["n"]), str(data["v"]))


@dataclass(frozen=True)
class DeviceAuthorization:
    """A device-flow login in progress: the person opens ``verification_uri`` elsewhere."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


def claims_from(provider: str, token: dict[str, Any]) -> FederatedClaims:
    """The claims OCX uses from a validated ID token (email lower-cased, lists as tuples)."""

    def strings(value: Any) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value] if value else []
        return tuple(str(item) for item in items)

    return FederatedClaims(
        provider=provider, issuer=str(token["iss"]), subject=str(token["sub"]),
        email=str(token.get("email") or "").strip().lower(),
        email_verified=token.get("email_verified") is True, name=str(token.get("name") or ""),
        affiliations=strings(token.get("eduperson_scoped_affiliation")),
        groups=strings(token.get("groups")))


class OidcProvider:
    """One configured identity provider: its metadata and keys (cached) and the flows."""

    def __init__(self, config: OidcProviderSettings, timeout_s: float, skew_s: int) -> None:
        self.config = config
        self._timeout_s = timeout_s
        self._skew_s = skew_s
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0

    @property
    def name(self) -> str:
        """The provider's name, as it appears in URLs."""
        return self.config.name

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self._timeout_s)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DriverError(f"identity provider {self.name} is unreachable: {exc}") from exc
        return data

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour).

        Raises:
            DriverError: the provider cannot be reached or answers nonsense.
        """
        if self._metadata is None or time.monotonic() - self._fetched_at > METADATA_TTL_S:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            metadata = self._get_json(url)
            if metadata.get("issuer") != self.config.issuer:
                raise DriverError(f"identity provider {self.name} names another issuer")
            self._metadata, self._keys = metadata, None
            self._fetched_at = time.monotonic()
        return self._metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            jwks = self._get_json(self.metadata()["jwks_uri"])
            self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        return self._keys

    def _client(self, redirect_uri: str | None = None) -> OAuth2Client:
        return OAuth2Client(client_id=self.config.client_id,
                            client_secret=self.config.client_secret.get_secret_value(),
                            scope=self.config.scopes, redirect_uri=redirect_uri,
                            code_challenge_method="S256", timeout=self._timeout_s)

    def start(self, redirect_uri: str) -> tuple[str, PendingLogin]:
        """The URL to send the browser to, and what to keep until it comes back."""
        pending = PendingLogin(self.name, secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                               secrets.token_urlsafe(48))
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.metadata()["authorization_endpoint"], state=pending.state,
                nonce=pending.nonce, code_verifier=pending.code_verifier)
        return str(url), pending

    def finish(self, redirect_uri: str, pending: PendingLogin, code: str) -> FederatedClaims:
        """Redeem the authorization code and validate the ID token it brings.

        Raises:
            Unauthenticated: the provider refuses the code, or the ID token is invalid.
            DriverError: the provider cannot be reached.
        """
        with self._client(redirect_uri) as client:
            try:
                token = client.fetch_token(self.metadata()["token_endpoint"], code=code,
                                           code_verifier=pending.code_verifier)
            except httpx.HTTPError as exc:
                raise DriverError(f"identity provider {self.name} is unreachable") from exc
            except Exception as exc:  # authlib raises OAuthError subclasses for refusals
                raise Unauthenticated(f"{self.name} refused the sign-in: {exc}") from exc
        return self.validate_id_token(str(token.get("id_token", "")), pending.nonce)

    def validate_id_token(self, id_token: str, nonce: str | None,
                          now: int | None = None) -> FederatedClaims:
        """The claims of a signed ID token meant for OCX, checked against ``nonce``.

        Raises:
            Unauthenticated: bad signature, issuer, audience, time or nonce.
        """
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), algorithms=ALGORITHMS)
            except JoseError:  # the provider may have rotated its keys: fetch them once
                decoded = jwt.decode(id_token, self._key_set(refresh=True), algorithms=ALGORITHMS)
            options: dict[str, Any] = {
                "iss": {"essential": True, "value": self.config.issuer},
                "aud": {"essential": True, "value": self.config.client_id},
                "sub": {"essential": True}, "exp": {"essential": True},
                "iat": {"essential": True}}
            if nonce is not None:
                options["nonce"] = {"essential": True, "value": nonce}
            jwt.JWTClaimsRegistry(now=now, leeway=self._skew_s, **options).validate(
                decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Unauthenticated(f"the ID token from {self.name} is not valid: {exc}") from exc
        claims = decoded.claims
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise Unauthenticated(f"the ID token from {self.name} is for another party")
        return claims_from(self.name, claims)

    def start_device(self) -> DeviceAuthorization:
        """Begin a device-flow login (the CLI's ``ocx login --sso``).

        Raises:
            NotFound: the provider offers no device flow.
            DriverError: the provider cannot be reached or refuses.
        """
        endpoint = self.metadata().get("device_authorization_endpoint")
        if not endpoint:
            raise NotFound(f"identity provider {self.name} offers no device login")
        data = self._post_form(str(endpoint), {"scope": self.config.scopes})
        try:
            return DeviceAuthorization(
                device_code=str(data["device_code"]), user_code=str(data["user_code"]),
                verification_uri=str(data["verification_uri"]),
                verification_uri_complete=data.get("verification_uri_complete"),
                expires_in=int(data["expires_in"]), interval=int(data.get("interval", 5)))
        except (KeyError, TypeError, ValueError) as exc:
            raise DriverError(f"{self.name} answered the device request oddly") from exc

    def poll_device(self, device_code: str) -> FederatedClaims | None:
        """The claims once the person has approved the device login; None while pending.

        Raises:
            Unauthenticated: the login was refused, expired, or the ID token is invalid.
            DriverError: the provider cannot be reached.
        """
        data = self._post_form(self.metadata()["token_endpoint"],
                               {"grant_type": DEVICE_GRANT, "device_code": device_code},
                               accept_errors=True)
        error = data.get("error")
        if error in ("authorization_pending", "slow_down"):
            return None
        if error or "id_token" not in data:
            raise Unauthenticated(f"{self.name} refused the device login: {error or 'no token'}")
        # The device flow carries no nonce: the device code itself binds the login.
        return self.validate_id_token(str(data["id_token"]), nonce=None)

    def _post_form(self, url: str, form: dict[str, str],
                   accept_errors: bool = False) -> dict[str, Any]:
        auth = (self.config.client_id, self.config.client_secret.get_secret_value())
        try:
            response = httpx.post(url, data=form, auth=auth, timeout=self._timeout_s)
            data: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DriverError(f"identity provider {self.name} is unreachable: {exc}") from exc
        if response.is_error and not (accept_errors and "error" in data):
            raise DriverError(f"{self.name} answered {response.status_code}")
        return data


class OidcProviders:
    """Every identity provider configured in the settings, by name."""

    def __init__(self, settings: Settings) -> None:
        self._providers = {
            config.name: OidcProvider(config, settings.sso_http_timeout_s,
                                      settings.sso_clock_skew_s)
            for config in settings.oidc_providers}

    def get(self, name: str) -> OidcProvider:
        """The provider named ``name``. Raises NotFound."""
        try:
            return self._providers[name]
        except KeyError:
            raise NotFound(f"no identity provider named {name}") from None

    def all(self) -> list[OidcProvider]:
        """Every provider, in configuration order."""
        return list(self._providers.values())

