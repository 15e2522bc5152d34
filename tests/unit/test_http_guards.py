"""The gatekeeping pieces on their own: CORS answers, the token bucket, the loopback check, Host and Origin."""

from __future__ import annotations

import pytest

from skills.errors import OrchestratorError
from skills.gateway.guards import Cors, InFlight, RateLimiter, Sites, check_api_key, host_name, is_loopback
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


def test_a_verified_key_is_told_apart_by_its_hash_and_address_never_the_key():
    key = RateLimiter.client_key("top-secret", {"Authorization": "Bearer top-secret"}, "127.0.0.1")
    assert key.startswith("key:") and key.endswith("@127.0.0.1") and "top-secret" not in key
    other = RateLimiter.client_key("top-secret", {"Authorization": "Bearer top-secret"}, "127.0.0.2")
    assert other != key  # one shared key is not one shared bucket
    assert RateLimiter.client_key("top-secret", {}, "127.0.0.9") == "addr:127.0.0.9"


@pytest.mark.parametrize("expected", [None, "top-secret"])
def test_a_bearer_that_is_not_the_key_takes_from_its_address_bucket(expected):
    for made_up in ("Bearer guess-1", "Bearer guess-2", "Bearer top-secre", "Basic top-secret"):
        assert RateLimiter.client_key(expected, {"Authorization": made_up}, "10.0.0.7") == "addr:10.0.0.7"


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


@pytest.mark.parametrize(
    "host, name",
    [
        ("127.0.0.1:8001", "127.0.0.1"),
        ("[::1]:8001", "::1"),
        ("LocalHost", "localhost"),
        ("api.example.com.", "api.example.com"),
    ],
)
def test_host_name_drops_port_case_and_trailing_dot(host, name):
    assert host_name(host) == name


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8001", "localhost:8001", "app.localhost", "[::1]:8001", "10.1.2.3", "API.example.com:443"]
)
def test_loopback_names_addresses_and_configured_names_are_allowed_hosts(host):
    Sites(["api.example.com"], []).check(host, None)


@pytest.mark.parametrize(
    "host", ["rebind.evil.example", "rebind.evil.example:8001", "localhost.evil.example", "api.example.com.evil"]
)
def test_any_other_host_name_is_421_naming_the_setting(host):
    with pytest.raises(OrchestratorError) as refused:
        Sites(["api.example.com"], []).check(host, None)
    assert refused.value.http_status == 421 and refused.value.code == "host_not_allowed"
    assert refused.value.field == "Host" and "ORCHESTRATOR_ALLOWED_HOSTS" in refused.value.message


def test_a_star_allows_any_host_but_origins_are_still_checked():
    sites = Sites(["*"], [])
    sites.check("rebind.evil.example", None)
    with pytest.raises(OrchestratorError) as refused:
        sites.check("rebind.evil.example", "http://other.example")
    assert refused.value.http_status == 403 and refused.value.code == "origin_not_allowed"


@pytest.mark.parametrize(
    "origin, allowed",
    [
        ("http://127.0.0.1:8001", True),  # the server's own page
        ("https://app.example", True),  # listed
        ("https://app.example/", True),
        ("http://127.0.0.1:9999", False),  # another port is another origin
        ("https://evil.example", False),
        ("null", False),
        ("http://[::1", False),  # unparsable
    ],
)
def test_an_origin_must_be_listed_or_the_servers_own(origin, allowed):
    assert Sites([], ["https://app.example"]).origin_allowed(origin, "127.0.0.1:8001") is allowed
