"""The widget's static server: the demo page, the widget's files, history from the tracker, demo tokens."""
from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest
import requests

from bot.backend.factory import get_backend
from bot.backend.setup import prepare_database
from bot.identity import WebIdentity, verify_token
from bot.session import issue_client_session, verify_client_session
from bot.widget.serve import (
    HISTORY_LIMIT,
    SESSION_HEADER,
    SESSION_ID,
    WidgetServer,
    make_server,
    start_in_thread,
    transcript,
)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def accounts_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('widget') / 'accounts.db'}"
    prepare_database(url)
    return url


def _serve(**options) -> Iterator[WidgetServer]:
    server = make_server(port=0, **options)
    start_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(accounts_url: str) -> Iterator[WidgetServer]:
    """Demo logins on; the Rasa server it points to is down (nothing listens on that port)."""
    yield from _serve(rasa_url=f"http://127.0.0.1:{_closed_port()}", demo_login=True, database_url=accounts_url)


@pytest.fixture
def production_like(accounts_url: str) -> Iterator[WidgetServer]:
    yield from _serve(rasa_url="http://127.0.0.1:5005", demo_login=False, database_url=accounts_url)


def _get(server: WidgetServer, path: str) -> requests.Response:
    return requests.get(server.url.rstrip("/") + path, timeout=5)


def test_the_demo_page_embeds_the_widget_with_one_script_tag(server):
    page = _get(server, "/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.text.count('<script src="/widget/assistant.js"') == 1
    assert "Se connecter en tant que Marie Tremblay (démo)" in page.text
    assert "Mode anonyme" in page.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/widget/assistant.js", "text/javascript"),
        ("/widget/assistant.css", "text/css"),
        ("/widget/vendor/socket.io.min.js", "text/javascript"),
        ("/widget/vendor/socket.io-client.LICENSE", "text/plain"),
        ("/demo/demo.js", "text/javascript"),
    ],
)
def test_the_widget_files_are_served(server, path, content_type):
    response = _get(server, path)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/widget/../serve.py", "/widget/%2e%2e/serve.py", "/demo/../../settings.py", "/serve.py", "/widget/"]
)
def test_nothing_outside_the_widget_folders_is_served(server, path):
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=5)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 404
    assert b"import" not in response.read()
    connection.close()


def test_the_demo_page_is_told_where_rasa_is(server):
    config = _get(server, "/demo/config.js").text
    assert f'"serverUrl": "{server.rasa_url}"' in config
    assert '"demoLogin": true' in config


def test_a_demo_token_logs_in_as_marie_tremblay(server, accounts_url):
    response = _get(server, "/demo-token?as=marie")
    assert response.status_code == 200
    marie = get_backend(accounts_url).account_status("marie.tremblay@example.com").account_id
    assert verify_token(response.json()["token"]) == WebIdentity(marie)


def test_no_demo_token_for_anyone_else(server):
    response = _get(server, "/demo-token?as=jean.gagnon@example.com")
    assert response.status_code == 404
    assert "token" not in response.json()


def test_no_demo_token_without_demo_logins(production_like):
    assert _get(production_like, "/demo-token?as=marie").status_code == 404
    assert '"demoLogin": false' in _get(production_like, "/demo/config.js").text


def test_history_of_a_malformed_session_id_is_not_asked_to_rasa(server):
    for session_id in ["abc", "../status", "0" * 33, "Z" * 32]:
        assert _get(server, f"/history/{session_id}").status_code == 404


def test_history_says_unavailable_when_rasa_is_down(server):
    key = issue_client_session("a" * 32)
    response = requests.get(server.url + "history/" + "a" * 32, headers={SESSION_HEADER: key}, timeout=5)
    assert response.status_code == 502
    assert response.json() == {"error": "Historique indisponible."}


def test_transcript_is_what_the_citizen_saw():
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "user", "text": "Bonjour", "metadata": {"token": "[jeton]"}},
        {"event": "bot", "text": "Bonjour! Comment puis-je vous aider?",
         "data": {"buttons": [{"title": "Créer un compte", "payload": "/ask_create_account"}]}},
        {"event": "slot", "name": "requested_slot", "value": None},
        {"event": "user", "text": "/ask_create_account", "metadata": {"button_title": "Créer un compte"}},
        {"event": "bot", "text": "Pour créer votre compte :", "data": {}},
    ]
    assert transcript(events) == [
        {"from": "user", "text": "Bonjour"},
        {"from": "bot", "text": "Bonjour! Comment puis-je vous aider?",
         "buttons": [{"title": "Créer un compte", "payload": "/ask_create_account"}]},
        {"from": "user", "text": "Créer un compte"},
        {"from": "bot", "text": "Pour créer votre compte :", "buttons": []},
    ]


def test_transcript_keeps_the_latest_messages():
    events = [{"event": "user", "text": f"message {n}"} for n in range(HISTORY_LIMIT + 20)]
    messages = transcript(events)
    assert len(messages) == HISTORY_LIMIT
    assert messages[-1]["text"] == f"message {HISTORY_LIMIT + 19}"


def _post(server: WidgetServer, path: str, body: object) -> requests.Response:
    return requests.post(server.url.rstrip("/") + path, json=body, timeout=5)


def test_a_new_conversation_gets_its_id_and_key_from_the_server(server):
    first, second = _post(server, "/session", {}).json(), _post(server, "/session", {}).json()
    assert SESSION_ID.fullmatch(first["sessionId"]) and first["sessionId"] != second["sessionId"]
    assert verify_client_session(first["key"], first["sessionId"])
    assert verify_client_session(first["key"], second["sessionId"]) is None
    for bad in ({"sessionId": "../x"}, ["b" * 32]):
        assert _post(server, "/session", bad).status_code in (400, 403)


def test_a_second_client_knowing_only_the_id_gets_no_key_for_it(server):
    legitimate = _post(server, "/session", {}).json()
    session_id = legitimate["sessionId"]
    # A second browser that read the id (a library's public computer) asks for a key, or to end it.
    assert _post(server, "/session", {"sessionId": session_id}).status_code == 403
    assert _post(server, "/session", {"sessionId": session_id, "key": issue_client_session("e" * 32)}).status_code == 403
    assert _post(server, "/session/end", {"sessionId": session_id}).status_code == 403
    # The legitimate client renews its key with the one it holds.
    renewed = _post(server, "/session", {"sessionId": session_id, "key": legitimate["key"]})
    assert renewed.status_code == 200 and renewed.json()["key"] != legitimate["key"]
    assert verify_client_session(renewed.json()["key"], session_id)


def test_the_history_needs_the_conversations_key(server):
    session_id = "d" * 32
    assert _get(server, f"/history/{session_id}").status_code == 403
    other_key = issue_client_session("e" * 32)
    response = requests.get(server.url + f"history/{session_id}", headers={SESSION_HEADER: other_key}, timeout=5)
    assert response.status_code == 403


def test_ending_a_session_needs_its_key_and_says_when_rasa_is_down(server):
    session_id = "f" * 32
    assert _post(server, "/session/end", {"sessionId": session_id, "key": "nope"}).status_code == 403
    key = issue_client_session(session_id)
    response = _post(server, "/session/end", {"sessionId": session_id, "key": key})
    assert response.status_code == 502  # nothing listens where Rasa should be


def test_feedback_needs_the_conversations_key_and_known_values(server):
    session_id = "a1" * 16
    key = issue_client_session(session_id)
    assert _post(server, "/feedback/prompt", {"sessionId": session_id, "key": "nope"}).status_code == 403
    assert _post(server, "/feedback", {"sessionId": session_id, "key": issue_client_session("b" * 32),
                                       "topic": "ask_hours", "helpful": "oui"}).status_code == 403
    for bad in ({"topic": "ask_hours", "helpful": "peut-être"}, {"topic": "ask_hours"},
                {"topic": "Soleil2024!", "helpful": "oui"}, {"topic": "ask_hours", "reason": "trop long"},
                {"topic": "ask_hours", "helpful": "non", "reason": "unclear"}):
        response = _post(server, "/feedback", {"sessionId": session_id, "key": key, **bad})
        assert response.status_code == 400, bad
    good = _post(server, "/feedback", {"sessionId": session_id, "key": key, "topic": "ask_hours", "helpful": "non"})
    assert good.status_code == 502  # valid, but nothing listens where Rasa should be
    assert _post(server, "/feedback/prompt", {"sessionId": session_id, "key": key}).status_code == 502


def test_the_feedback_words_are_the_domains_responses():
    from bot.widget.serve import feedback_texts

    texts = feedback_texts()
    assert texts["question"] == "Est-ce que cela vous a aidé?"
    assert [reason["label"] for reason in texts["reasons"]] == [
        "Pas la bonne réponse", "Pas clair", "Je dois quand même appeler"]


def test_the_review_inbox_is_off_without_a_staff_token_and_closed_without_it(server, monkeypatch):
    from bot.settings import get_settings

    monkeypatch.delenv("BOT_STAFF_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        assert _get(server, "/review").status_code == 404
        assert _get(server, "/review/review.js").status_code == 404
        assert _post(server, "/review/api/decide", {"key": "x", "decision": "new_answer"}).status_code == 404
        monkeypatch.setenv("BOT_STAFF_TOKEN", "le-jeton")
        get_settings.cache_clear()
        assert _get(server, "/review").status_code == 200
        assert _get(server, "/review/api/groups").status_code == 403
        wrong = requests.get(server.url + "review/api/groups", headers={"Authorization": "Bearer autre"}, timeout=5)
        assert wrong.status_code == 403
        assert _post(server, "/review/api/decide", {"key": "x", "decision": "new_answer"}).status_code == 403
    finally:
        get_settings.cache_clear()
