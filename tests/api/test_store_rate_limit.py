"""The rate limit through the store: PostgreSQL's buckets hold across processes and servers (never
more granted in total than the limit), SQLite's hold inside one server's process."""

from __future__ import annotations

import time

import requests

from skills.store.postgres import PostgresStore
from skills.store.sqlite import SQLiteStore
from tests.fixtures.http_server import start_server
from tests.unit.test_store import results_of, start_children

PER_MINUTE = 12


def most_allowed(per_minute: int, started: float) -> int:
    """The limit plus what the bucket refilled while the test ran (one token every 60/per_minute s)."""
    return per_minute + int((time.monotonic() - started) * per_minute / 60)


def test_processes_taking_tokens_together_never_exceed_the_limit(state_db_url, tmp_path):
    go_file = str(tmp_path / "go")
    children = start_children("tokens", state_db_url, go_file, 5, "addr:10.0.0.1", str(PER_MINUTE), "10")
    started = time.monotonic()
    granted = sum(result["granted"] for result in results_of(children, go_file))
    assert PER_MINUTE <= granted <= most_allowed(PER_MINUTE, started)  # 50 asked: the limit, not more, not less


def test_a_refused_client_is_told_when_to_retry_and_others_are_not_affected(state_db_url, tmp_path):
    for store in (PostgresStore(state_db_url), SQLiteStore(str(tmp_path))):
        assert all(store.take_token("addr:a", 2) == 0.0 for _ in range(2))
        wait = store.take_token("addr:a", 2)
        assert 0 < wait <= 30  # one token every 30 s
        assert store.take_token("addr:b", 2) == 0.0
        assert store.take_token("addr:a", 0) == 0.0  # a limit of zero is off
        store.close()


def test_the_limit_holds_across_servers_sharing_postgresql(state_db_url, tmp_path):
    servers = []
    for n in range(2):
        (tmp_path / f"state-{n}").mkdir()
        servers.append(
            start_server(
                str(tmp_path / f"state-{n}"), ORCHESTRATOR_DATABASE_URL=state_db_url, ORCHESTRATOR_RATE_LIMIT="6"
            )
        )
    try:
        started = time.monotonic()
        codes = [requests.get(servers[n % 2].url + "/orchestrator/agents", timeout=30) for n in range(14)]
        accepted = sum(1 for reply in codes if reply.status_code == 200)
        refused = [reply for reply in codes if reply.status_code == 429]
    finally:
        for server in servers:
            server.stop()
    assert 6 <= accepted <= most_allowed(6, started)
    assert len(refused) == 14 - accepted and refused[0].headers["Retry-After"].isdigit()
    assert refused[0].json()["code"] == "rate_limited"
