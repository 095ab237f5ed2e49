"""The production configuration: API behind a token, CORS for the city's origin only, action server on localhost."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import requests


def test_the_http_api_needs_the_token(production_server):
    tracker_url = f"{production_server.url}/conversations/someone/tracker"
    assert requests.get(tracker_url, timeout=10).status_code == 401
    assert requests.get(tracker_url, params={"token": "forged"}, timeout=10).status_code == 401
    assert requests.get(f"{production_server.url}/status", timeout=10).status_code == 401
    assert requests.get(tracker_url, params=production_server.api_params, timeout=10).ok


def test_the_chat_itself_needs_no_api_token(production_server):
    assert production_server.texts("prod-chat", "Bonjour")


def test_cors_allows_the_configured_origin_only(production_server):
    origin = production_server.env["BOT_CORS_ORIGINS"]
    url = f"{production_server.url}/webhooks/rest/webhook"

    def preflight(origin: str) -> requests.Response:
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST",
                   "Access-Control-Request-Headers": "content-type"}
        return requests.options(url, headers=headers, timeout=10)

    assert preflight(origin).headers.get("Access-Control-Allow-Origin") == origin
    assert "Access-Control-Allow-Origin" not in preflight("https://evil.example.com").headers


def listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP port listens on, from the kernel's socket tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_the_action_server_listens_on_localhost_only(production_server):
    port = urlsplit(production_server.actions_url).port
    addresses = listening_addresses(port)
    assert addresses, "the action server listens"
    assert addresses <= {"0100007F", "00000000000000000000000001000000"}, addresses


def test_operators_endpoints_need_no_token_and_say_nothing_personal(production_server):
    sender = "prod-ops-marie-tremblay"
    production_server.texts(sender, "je suis née le 12 mars 1985, carte 123456, combien je dois?")
    ready = requests.get(f"{production_server.url}/ready", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    for url in (production_server.url, production_server.actions_url):
        text = requests.get(f"{url}/metrics", timeout=10).text
        assert "assistant_" in text
        names_and_labels = "\n".join(line.rsplit(" ", 1)[0] for line in text.lower().splitlines())
        for personal in (sender, "marie", "1985", "123456"):
            assert personal not in names_and_labels
