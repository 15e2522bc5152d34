"""The gatekeeping pieces on their own: CORS answers, the token bucket, the loopback check."""

from __future__ import annotations

import pytest

from skills.errors import OrchestratorError
from skills.gateway.guards import Cors, InFlight, RateLimiter, check_api_key, is_loopback
from skills.store.sqlite import SQLiteStore


def test_a_wildcard_origin_is_never_combined_with_credentials():
    headers = Cors(["*"]).headers("https://anywhere.example")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers


def test_a_listed_origin_is_echoed_with_credentials_and_vary():
    headers = Cors(["https://app.example"]).headers("https://app.example")
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert headers["Vary"] == "Origin"


def test_without_allowed_origins_there_are_no_cors_headers_at_all():
    assert Cors([]).headers("https://app.example") == {}
    assert Cors([]).preflight("https://app.example", ["POST", "OPTIONS"]) == {}


def test_the_bucket_refuses_past_the_limit_then_refills(monkeypatch, tmp_path):
    clock = [1000.0]
    monkeypatch.setattr("skills.store.buckets.time.monotonic", lambda: clock[0])
    store = SQLiteStore(str(tmp_path))  # its buckets are in this process's memory
    limiter = RateLimiter(60, lambda: store)  # one a second
    for _ in range(60):
        limiter.check("addr:1")
    with pytest.raises(OrchestratorError) as refused:
        limiter.check("addr:1")
    assert refused.value.http_status == 429 and refused.value.headers["Retry-After"] == "1"
    limiter.check("addr:2")  # another client has its own bucket
    clock[0] += 1.0
    limiter.check("addr:1")


def test_a_rate_limit_of_zero_is_off():
    limiter = RateLimiter(0, lambda: pytest.fail("a limit of zero must not even ask the store"))
    for _ in range(1000):
        limiter.check("addr:1")


def test_clients_are_told_apart_by_a_hash_of_their_key_never_the_key():
    key = RateLimiter.client_key({"Authorization": "Bearer top-secret"}, "127.0.0.1")
    assert key.startswith("key:") and "top-secret" not in key
    assert RateLimiter.client_key({}, "127.0.0.9") == "addr:127.0.0.9"


def test_api_key_check_accepts_only_the_exact_bearer_key():
    check_api_key(None, {})  # no key configured: open
    check_api_key("k3y", {"Authorization": "Bearer k3y"})
    for header in ({}, {"Authorization": "Bearer k3"}, {"Authorization": "Basic k3y"}, {"Authorization": "k3y"}):
        with pytest.raises(OrchestratorError) as refused:
            check_api_key("k3y", header)
        assert refused.value.http_status == 401 and refused.value.field == "Authorization"


def test_loopback_addresses():
    assert all(is_loopback(host) for host in ("127.0.0.1", "127.1.2.3", "localhost", "::1"))
    assert not any(is_loopback(host) for host in ("0.0.0.0", "::", "192.168.1.5", "example.com"))


def test_in_flight_cap_refuses_then_frees():
    cap = InFlight(1)
    cap.enter()
    with pytest.raises(OrchestratorError) as refused:
        cap.enter()
    assert refused.value.http_status == 503
    cap.leave()
    cap.enter()
