"""The rate limit behind a reverse proxy: X-Forwarded-For names the client only from a trusted proxy."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from skills.errors import BadInput
from skills.server.proxies import TrustedProxies
from tests.fixtures.http_server import start_server
from tests.fixtures.scripts import clean_env, run_script


def test_the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy():
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    # the client sent "6.6.6.6" itself; nginx appended 203.0.113.7; an inner proxy 10.1.2.3
    assert proxies.client_address("127.0.0.1", ["6.6.6.6, 203.0.113.7", "10.1.2.3"]) == "203.0.113.7"


def test_forwarded_for_from_an_untrusted_peer_is_ignored():
    proxies = TrustedProxies(["127.0.0.1"])
    assert proxies.client_address("192.0.2.10", ["203.0.113.7"]) == "192.0.2.10"
    assert TrustedProxies([]).client_address("127.0.0.1", ["203.0.113.7"]) == "127.0.0.1"


def test_a_dual_stack_peer_and_bracketed_hops_are_understood():
    proxies = TrustedProxies(["127.0.0.1", "::1"])
    assert proxies.client_address("::ffff:127.0.0.1", ["[2001:db8::5]:5555"]) == "2001:db8::5"
    assert proxies.client_address("::1", ["198.51.100.4:80"]) == "198.51.100.4"


def test_when_every_hop_is_a_trusted_proxy_the_first_one_is_the_client():
    assert TrustedProxies(["127.0.0.0/8"]).client_address("127.0.0.1", ["127.0.0.5, 127.0.0.1"]) == "127.0.0.5"


def test_a_setting_that_is_not_an_address_is_refused_naming_it():
    with pytest.raises(BadInput) as caught:
        TrustedProxies(["127.0.0.1", "nginx.local"])
    assert caught.value.field == "ORCHESTRATOR_TRUSTED_PROXIES"
    assert "nginx.local" in caught.value.message


def test_the_server_refuses_to_start_with_a_bad_trusted_proxies_setting(state_dir):
    env = clean_env(state_dir, ORCHESTRATOR_TRUSTED_PROXIES="not-an-address")
    run = run_script("orchestrator_server", "--port", "0", env=env, timeout=30)
    assert run.returncode == 2
    assert json.loads(run.stdout.splitlines()[0])["field"] == "ORCHESTRATOR_TRUSTED_PROXIES"


def _status(url: str, forwarded_for: str) -> int:
    request = urllib.request.Request(url + "/orchestrator/agents", headers={"X-Forwarded-For": forwarded_for})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize(
    ("trusted", "second_client_gets"),
    [("127.0.0.1", 200), ("", 429)],  # trusted: two buckets; not trusted: the header is ignored, one bucket
)
def test_clients_behind_a_trusted_proxy_get_their_own_rate_limit(state_dir, trusted, second_client_gets):
    server = start_server(state_dir, ORCHESTRATOR_RATE_LIMIT="1", ORCHESTRATOR_TRUSTED_PROXIES=trusted)
    try:
        assert _status(server.url, "203.0.113.7") == 200
        assert _status(server.url, "203.0.113.7") == 429  # the same client, its one request a minute spent
        assert _status(server.url, "203.0.113.8") == second_client_gets
    finally:
        server.stop()
