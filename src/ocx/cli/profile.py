"""The saved login: which server and token the CLI uses, kept in a private config file.

``$OCX_CONFIG`` (default ``~/.config/ocx/config.json``) holds the URL and token that
``ocx login`` saved; ``OCX_URL``, ``OCX_TOKEN`` and ``OCX_TIMEOUT_S`` override it.
"""

from __future__ import annotations

import os
import stat
import tempfile
import uuid
from pathlib import Path

import typer
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from ocx.cli.output import fail
from ocx.config import ClientSettings

CONFIG_ENV = "OCX_CONFIG"
DEFAULT_CONFIG = "~/.config/ocx/config.json"


class SavedLogin(BaseModel):
    """What the config file holds."""

    model_config = ConfigDict(extra="ignore")

    url: str | None = None
    token: str | None = None
    # Set when `ocx login --email` created the token, so that `ocx logout` revokes it.
    token_id: uuid.UUID | None = None


def config_path() -> Path:
    """Where the login is saved: ``$OCX_CONFIG``, else ``~/.config/ocx/config.json``."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser()


def read_saved() -> SavedLogin:
    """The saved login; empty when there is none. Exits 2 if the file is unreadable."""
    path = config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SavedLogin()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", 2)
    try:
        saved = SavedLogin.model_validate_json(text)
    except ValidationError:
        fail(f"{path} is not a valid OCX config file", 2,
             hint="fix it, or delete it and run `ocx login`")
    if saved.token and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        typer.echo(f"warning: {path} holds a token and others may read it; "
                   f"run `chmod 600 {path}`", err=True)
    return saved


def write_saved(saved: SavedLogin) -> Path:
    """Save the login where only the current user can read it (mode 0600); return the path."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file with mode 0600; the rename makes the update atomic.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(saved.model_dump_json(indent=2, exclude_none=True) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def client_settings() -> ClientSettings:
    """URL, token and timeout: the environment's ``OCX_*`` first, then the saved login."""
    saved = read_saved()
    try:
        from_env = ClientSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "OCX_" + "_".join(str(part) for part in error["loc"]).upper()
        fail(f"invalid {name}: {error['msg']}", 2)
    update: dict[str, object] = {}
    if saved.url and "url" not in from_env.model_fields_set:
        update["url"] = saved.url
    if saved.token and "token" not in from_env.model_fields_set:
        update["token"] = SecretStr(saved.token)
    return from_env.model_copy(update=update)
