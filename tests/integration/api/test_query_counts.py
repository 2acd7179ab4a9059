"""List endpoints cost a fixed number of queries, however many rows they return (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.support.world import World

API = "/api/v1"


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _cost(client: TestClient, engine: Engine, url: str, headers: dict[str, str]) -> int:
    with count_queries(engine) as statements:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return len(statements)


def test_list_costs_do_not_grow_with_rows(client: TestClient, world: World,
                                          engine: Engine) -> None:
    h = world["operator"].headers
    project = world.project_ids["a"]
    urls = [f"{API}/projects", f"{API}/projects/{project}/members", f"{API}/organizations",
            f"{API}/organizations/org-a/members", f"{API}/users", f"{API}/audit"]
    client.get(f"{API}/me", headers=h)  # the token's last-use stamp is written once a minute
    before = {url: _cost(client, engine, url, h) for url in urls}
    for i in range(12):
        client.post(f"{API}/organizations", json={"name": f"o{i}"}, headers=h)
        client.post(f"{API}/projects", json={"name": f"p{i}", "organization": f"o{i}"}, headers=h)
        client.post(f"{API}/users", json={"email": f"u{i}@example.org", "organization": "org-a"},
                    headers=h)
        client.post(f"{API}/projects/{project}/members",
                    json={"email": f"u{i}@example.org"}, headers=h)
    after = {url: _cost(client, engine, url, h) for url in urls}
    assert after == before
