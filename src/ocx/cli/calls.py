"""Running API calls from commands: open a client, map client errors to exit codes, print.

Exit codes: 0 success, 1 the API refused or could not be reached, 2 a usage or
configuration error (such as not being logged in).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar

import typer
from pydantic import BaseModel

from ocx.cli.output import OutputFormat, fail, show
from ocx.cli.profile import client_settings
from ocx.client import ApiError, ClientError, OcxClient, Page, all_items

M = TypeVar("M", bound=BaseModel)
PAGE_SIZE = 200
LOGIN_HINT = "run `ocx login`, or set OCX_URL and OCX_TOKEN"


def open_client(url: str, token: str | None, timeout_s: float) -> OcxClient:
    """A client over the network; unit tests replace this with one over a mock transport.

    Raises:
        ValueError: ``url`` is not an http(s) URL.
    """
    return OcxClient(url, token, timeout_s)


@contextmanager
def client_errors() -> Iterator[None]:
    """Turn client errors into ``error: <message>`` on stderr and exit code 1."""
    try:
        yield
    except ApiError as exc:
        fail(exc.message, 1, hint=LOGIN_HINT if exc.status == 401 else None)
    except ClientError as exc:
        fail(str(exc), 1)


@contextmanager
def connect(*, url: str | None = None, token: str | None = None,
            need_token: bool = True) -> Iterator[OcxClient]:
    """A client for the configured server (``url``/``token`` override it), errors mapped."""
    settings = client_settings()
    secret = token or (settings.token.get_secret_value() if settings.token else None)
    if need_token and not secret:
        fail("not logged in", 2, hint=LOGIN_HINT)
    try:
        client = open_client(url or settings.url, secret, settings.timeout_s)
    except ValueError as exc:
        fail(str(exc), 2, hint="set OCX_URL, or run `ocx login --url URL`")
    with client, client_errors():
        yield client


def collect(fetch: Callable[..., Page[M]], limit: int | None, **filters: Any) -> list[M]:
    """Up to ``limit`` items of a list (all when ``None``), following the pages."""
    size = min(limit or PAGE_SIZE, PAGE_SIZE)
    return list(islice(all_items(fetch, page_size=size, **filters), limit))


def call_api(call: Callable[[OcxClient], BaseModel | Sequence[BaseModel] | None],
             output: OutputFormat, columns: Sequence[str] = (), *,
             done: str | None = None) -> None:
    """Make one API call and print its result; ``done`` is printed for calls with no body."""
    with connect() as client:
        result = call(client)
    if result is not None:
        show(result, output, columns)
    elif done and output is OutputFormat.TABLE:
        typer.echo(done)
