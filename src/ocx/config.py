"""The one typed settings object, read from ``OCX_*`` environment variables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "ocx-development-secret-key-change-me"


class Environment(StrEnum):
    """Where OCX runs; only development accepts the built-in secret key."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _default_database_url() -> str:
    return f"sqlite:///{Path('var') / 'ocx.db'}"


def _default_task_broker_url() -> str:
    return f"sqlite:///{Path('var') / 'tasks.db'}"


class OidcProviderSettings(BaseModel):
    """One institution's OpenID Connect identity provider (an entry of OCX_OIDC_PROVIDERS)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="used in URLs")
    display_name: str = ""
    issuer: str = Field(description="the issuer URL; discovery is ISSUER/.well-known/...")
    client_id: str
    client_secret: SecretStr
    scopes: str = "openid email profile"
    # Where new users go: every user of this IdP, or by the domain of their email.
    organization: str | None = None
    email_domains: dict[str, str] = Field(default_factory=dict,
                                          description="email domain -> organization name")


class SamlProviderSettings(BaseModel):
    """One institution's SAML 2.0 identity provider (an entry of OCX_SAML_PROVIDERS)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="used in URLs")
    display_name: str = ""
    metadata_file: Path = Field(description="the IdP's metadata XML (e.g. from InCommon)")
    entity_id: str = Field(description="the IdP's entityID within that metadata")
    organization: str | None = None
    email_domains: dict[str, str] = Field(default_factory=dict,
                                          description="email domain -> organization name")


class Settings(BaseSettings):
    """Server-side settings. Build one with ``Settings()``; nothing reads them at import."""

    model_config = SettingsConfigDict(env_prefix="OCX_", env_file=None, extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = Field(default_factory=_default_database_url)
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    # Huey storage: sqlite:///path (embedded, no server), redis://host:port/db, memory://
    task_broker_url: str = Field(default_factory=_default_task_broker_url)
    workers: int = Field(default=2, ge=0, le=64, description="worker threads in `ocx serve`")
    operation_lease_s: float = Field(default=60.0, gt=0)
    operation_max_attempts: int = Field(default=8, ge=1)
    operation_backoff_s: float = Field(default=2.0, gt=0)
    operation_backoff_max_s: float = Field(default=300.0, gt=0)
    sweep_interval_s: int = Field(default=5, ge=1, le=60)
    reconcile_interval_s: int = Field(
        default=300, ge=10, description="how often allocations are compared with providers")
    worker_shutdown_timeout_s: float = Field(
        default=30.0, gt=0, description="how long a stopping worker waits for running operations")
    token_default_ttl_days: int = Field(default=90, ge=1, le=3650)
    token_max_ttl_days: int = Field(default=365, ge=1, le=3650,
                                    description="longest lifetime a user may ask for a token")
    log_level: str = "INFO"
    log_json: bool = False
    # Driver configuration for the notifier interface (see docs/architecture.md, Drivers).
    fake_drivers: bool | None = Field(
        default=None, description="allow fake drivers (default: everywhere but production)")
    notifier_driver: str = "fake"
    notifier_settings: dict[str, object] = Field(default_factory=dict)
    # Image backends (docs/images.md): the one new uploads go to, each one's settings by
    # name ({"qcow2": {"directory": "var/images"}, "rbd": {"pool": "rbd", ...}}), and
    # where uploads are staged while their checksum is checked (shared with the workers).
    image_backend: str = "qcow2"
    image_backend_settings: dict[str, dict[str, object]] = Field(default_factory=dict)
    image_staging_dir: Path = Field(default_factory=lambda: Path("var") / "uploads")
    image_max_upload_bytes: int = Field(default=64 * 2**30, ge=1)
    # Diskless boot (docs/images.md, "Provision a node"): the exporter that serves nodes'
    # clones over NBD ({"state_dir": "var/exports", "bind": ..., "advertise": ...}), and the
    # folder of kernel + initrd that OCX serves to every node at /boot/files/.
    export_driver: str = "nbd"
    export_settings: dict[str, object] = Field(default_factory=dict)
    boot_files_dir: Path = Field(default_factory=lambda: Path("var") / "boot")
    boot_kernel_args: str = Field(default="console=ttyS0", max_length=500)
    # Web UI session cookie: Secure unless serving plain http (development, tests).
    cookie_secure: bool = True
    web_session_ttl_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Single sign-on (docs/sso.md): institutional identity providers, a JSON list.
    oidc_providers: list[OidcProviderSettings] = Field(default_factory=list)
    sso_http_timeout_s: float = Field(default=10.0, gt=0)
    sso_clock_skew_s: int = Field(default=60, ge=0, le=600)
    saml_providers: list[SamlProviderSettings] = Field(default_factory=list)
    saml_sp_cert_file: Path | None = Field(default=None, description="the SP's certificate (PEM)")
    saml_sp_key_file: Path | None = Field(default=None, description="the SP's private key (PEM)")
    xmlsec_binary: str = "/usr/bin/xmlsec1"
    # Onboarding: the terms of use in force (empty: none); users accept each new version.
    terms_version: str = Field(default="", max_length=64)
    terms_url: str = Field(default="", description="where the terms of use are published")
    # The URL people reach OCX at (https://ocx.example.org): sign-in redirect URIs and
    # invitation links are built from it, never from the request's Host header.
    public_url: str = Field(default="", pattern=r"^(https?://[^/?#\s]+(/[^?#\s]*)?)?$",
                            description="required in production")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        insecure = self.secret_key.get_secret_value() in ("", DEV_SECRET_KEY)
        if insecure and self.environment is not Environment.DEVELOPMENT:
            raise ValueError(
                "OCX_SECRET_KEY is unset or left at the development default; "
                f"set a random secret to run with OCX_ENVIRONMENT={self.environment.value}"
            )
        if len(self.secret_key.get_secret_value()) < 16:
            raise ValueError("OCX_SECRET_KEY must be at least 16 characters long")
        if not self.public_url and self.environment is Environment.PRODUCTION:
            raise ValueError("set OCX_PUBLIC_URL (https://your-ocx-host) to run in production")
        return self

    @property
    def allow_fake_drivers(self) -> bool:
        """Whether drivers named ``fake`` may be used."""
        if self.fake_drivers is not None:
            return self.fake_drivers
        return self.environment is not Environment.PRODUCTION

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite default."""
        return self.database_url.startswith("sqlite")


class ClientSettings(BaseSettings):
    """What the CLI needs to reach an OCX server."""

    model_config = SettingsConfigDict(env_prefix="OCX_", env_file=None, extra="ignore")

    url: str = "http://127.0.0.1:8080"
    token: SecretStr | None = None
    timeout_s: float = 30.0


def describe_validation_error(exc: ValidationError) -> str:
    """A one-line, human-readable summary of a pydantic error, without the input values.

    Input values are left out on purpose: they may be secrets (passwords, webhook URLs).
    """
    parts = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "settings"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
