"""Static server of the chat widget and its demo page; `python -m bot.widget.serve --port 8080`.

Routes: `/` the demo page (a city page with the widget), `/widget/...` the widget's files (what a
city's own web server would host), `/history/{session id}` the conversation's messages read from
Rasa's tracker with the API token (which the browser never sees), `/demo/...` the demo page's files,
`/demo/config.js` the Rasa server's address for the demo page, and `/demo-token?as=marie` a signed
portal token for a demo account (only with `--demo-login`: it logs anyone in as Marie Tremblay, so
never in production).

Client sessions (bot/session.py): `POST /session` `{}` starts a conversation: it answers a new
`sessionId` and the signed client session key created with it, which the widget sends with every
message and which binds an identification to this browser; `POST /session` `{"sessionId", "key"}`
renews the key of a conversation, and only with its current key (knowing an id is not enough); `/history/{session id}` answers only with that key (header `X-Assistant-Session`);
`POST /session/end` `{"sessionId": ..., "key": ...}` ends the conversation on the Rasa server (a
`restart` event: the identification and every slot are gone) for "Recommencer" and "Terminer la session".

"Est-ce que cela vous a aidé?" (bot/feedback.py), with the same key: `POST /feedback/prompt`
`{"sessionId", "key"}` answers `{"ask": true, "topic": ...}` when the widget should put the question
under the latest answer (and records that it was put), else `{"ask": false}`; `POST /feedback`
`{"sessionId", "key", "topic", "helpful": "oui"|"non"}` or `{..., "reason": ...}` records the answer or
the reason as events of the conversation, through Rasa's API (stored redacted like every event).

The help desk's review inbox (`bot/analytics/review.py`), only when `BOT_STAFF_TOKEN` is set (else
404): `/review` the page; `GET /review/api/groups` the groups to review and the intents to choose
from; `POST /review/api/decide` `{"key", "decision": "intent"|"new_answer", "intent"?}`. Both API
routes need the staff token as `Authorization: Bearer <token>` (else 403); the tracker store is read
at `BOT_TRACKER_STORE_URL`, the decisions kept in `BOT_VAR_DIR/review.json`.
"""
from __future__ import annotations

import argparse
import hmac
import json
import logging
import mimetypes
import re
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from bot.analytics import review
from bot.analytics.store import TrackerStoreError, iter_sessions
from bot.backend.api import BackendUnavailable
from bot.channels.responses import project_responses, response_text
from bot.feedback import FeedbackReason, Helpful, feedback_events, is_topic, topic_to_ask
from bot.identity import make_demo_token
from bot.session import issue_client_session, verify_client_session
from bot.settings import PROJECT_ROOT, get_settings

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent
ROOTS = {"widget": WIDGET_DIR / "static", "demo": WIDGET_DIR / "demo", "review": WIDGET_DIR / "review"}
DEMO_ACCOUNTS = {"marie": "marie.tremblay@example.com"}
SESSION_ID = re.compile(r"[0-9a-f]{32}")
HISTORY_LIMIT = 100
SESSION_HEADER = "X-Assistant-Session"
MAX_BODY_BYTES = 2048
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".LICENSE": "text/plain; charset=utf-8"}


class WidgetServer(ThreadingHTTPServer):
    """An HTTP server that knows the Rasa server's address and whether demo logins are on."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], rasa_url: str, api_token: str | None, demo_login: bool,
        database_url: str | None,
    ):
        super().__init__(address, WidgetHandler)
        self.rasa_url = rasa_url.rstrip("/")
        self.api_token = api_token
        self.demo_login = demo_login
        self.database_url = database_url

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"


class WidgetHandler(BaseHTTPRequestHandler):
    """GET only: static files under the two roots, the demo's config and its demo tokens."""

    server: WidgetServer
    server_version = "TerrebonneWidget"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        url = urlsplit(self.path)
        if url.path == "/":
            self._send_file(ROOTS["demo"] / "index.html")
        elif url.path == "/demo/config.js":
            config = {"serverUrl": self.server.rasa_url, "demoLogin": self.server.demo_login}
            body = f"window.TerrebonneDemo = {json.dumps(config)};\n".encode()
            self._send(HTTPStatus.OK, body, CONTENT_TYPES[".js"])
        elif url.path == "/demo-token":
            self._demo_token(parse_qs(url.query).get("as", [""])[0])
        elif url.path.startswith("/history/"):
            self._history(url.path.removeprefix("/history/"))
        elif url.path.startswith("/review") and not get_settings().staff_token:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found"})
        elif url.path in ("/review", "/review/"):
            self._send_file(ROOTS["review"] / "index.html")
        elif url.path == "/review/api/groups":
            self._review_groups()
        else:
            self._static(url.path)

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        path = urlsplit(self.path).path
        body = self._json_body()
        if path == "/review/api/decide":
            self._review_decide(body if isinstance(body, dict) else {})
            return
        session_id = body.get("sessionId") if isinstance(body, dict) else None
        key = body.get("key") if isinstance(body, dict) else None
        if path not in ("/session", "/session/end", "/feedback", "/feedback/prompt"):
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found"})
        elif path == "/session" and isinstance(body, dict) and session_id is None:
            # A new conversation: its id is chosen here and bound to the key created with it.
            session_id = uuid.uuid4().hex
            self._send_json(HTTPStatus.OK, {"sessionId": session_id, "key": issue_client_session(session_id)})
        elif not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "bad_session_id"})
        elif verify_client_session(key, session_id) is None:
            # Renewing a key or ending a conversation takes the conversation's current key: knowing
            # its id (a shared computer's storage, a screenshot, a log) is not enough.
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "bad_session_key"})
        elif path == "/session":
            self._send_json(HTTPStatus.OK, {"sessionId": session_id, "key": issue_client_session(session_id)})
        elif path == "/feedback/prompt":
            self._feedback_prompt(session_id)
        elif path == "/feedback":
            self._feedback(session_id, body if isinstance(body, dict) else {})
        else:
            self._end_session(session_id)

    def _is_staff(self) -> bool:
        """Whether the request carries the staff token (never when no token is configured)."""
        token = get_settings().staff_token
        header = self.headers.get("Authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else ""
        return bool(token) and hmac.compare_digest(given.encode(), token.encode())

    def _review_state(self) -> tuple[list, dict]:
        """The groups of the tracker store and the decisions taken (raises `TrackerStoreError`)."""
        settings = get_settings()
        groups = review.group(review.candidates(iter_sessions(settings.tracker_store_url)))
        return groups, review.load_decisions(review.decisions_path(settings.var_dir))

    def _review_groups(self) -> None:
        if not self._is_staff():
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "bad_staff_token"})
            return
        try:
            groups, decisions = self._review_state()
        except TrackerStoreError:
            self._send_json(HTTPStatus.BAD_GATEWAY, {"error": "tracker_store_unavailable"})
            return
        self._send_json(HTTPStatus.OK, {
            "groups": [item.as_dict() for item in review.inbox(groups, decisions)],
            "decided": len(decisions),
            "intents": review.trainable_intents(PROJECT_ROOT / "domain.yml"),
        })

    def _review_decide(self, body: dict) -> None:
        if not get_settings().staff_token:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found"})
            return
        if not self._is_staff():
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "bad_staff_token"})
            return
        try:
            decision = review.Decision(body.get("decision"))
            groups, _ = self._review_state()
        except ValueError:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "bad_decision"})
            return
        except TrackerStoreError:
            self._send_json(HTTPStatus.BAD_GATEWAY, {"error": "tracker_store_unavailable"})
            return
        item = next((g for g in groups if g.key == body.get("key")), None)
        if item is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "unknown_group"})
            return
        intent = body.get("intent") if decision is review.Decision.INTENT else None
        try:
            review.decide(review.decisions_path(get_settings().var_dir), item, decision,
                          intent if isinstance(intent, str) else None,
                          review.trainable_intents(PROJECT_ROOT / "domain.yml"))
        except review.ReviewError:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "unknown_intent"})
            return
        self._send_json(HTTPStatus.OK, {"decided": item.key, "count": item.count})

    def _rasa_params(self) -> dict[str, str]:
        return {"token": self.server.api_token} if self.server.api_token else {}

    def _tracker_events(self, session_id: str) -> list[dict]:
        """The conversation's events, read from Rasa's API (raises `requests.RequestException`, `ValueError`)."""
        response = requests.get(
            f"{self.server.rasa_url}/conversations/{session_id}/tracker", params=self._rasa_params(), timeout=5
        )
        response.raise_for_status()
        return response.json().get("events") or []

    def _append_events(self, session_id: str, events: list[dict]) -> None:
        response = requests.post(
            f"{self.server.rasa_url}/conversations/{session_id}/tracker/events",
            params=self._rasa_params(), json=events, timeout=5,
        )
        response.raise_for_status()

    def _feedback_prompt(self, session_id: str) -> None:
        """Whether to ask "Est-ce que cela vous a aidé?" now; the question put is recorded."""
        try:
            topic = topic_to_ask(self._tracker_events(session_id))
            if topic is not None:
                self._append_events(session_id, feedback_events(asked=topic))
        except (requests.RequestException, ValueError):
            self._send_json(HTTPStatus.BAD_GATEWAY, {"error": "rasa_unavailable"})
            return
        self._send_json(HTTPStatus.OK, {"ask": True, "topic": topic, "texts": feedback_texts()} if topic
                        else {"ask": False})

    def _feedback(self, session_id: str, body: dict) -> None:
        """Record an answer ("oui"/"non") or the reason of a "non", for a topic the prompt named."""
        topic, helpful, reason = body.get("topic"), body.get("helpful"), body.get("reason")
        valid_helpful = helpful in {item.value for item in Helpful}
        valid_reason = reason in {item.value for item in FeedbackReason}
        if not is_topic(topic) or valid_helpful == valid_reason:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "bad_feedback"})
            return
        events = feedback_events(Helpful(helpful), str(topic)) if valid_helpful else feedback_events(
            reason=FeedbackReason(reason))
        try:
            self._append_events(session_id, events)
        except requests.RequestException:
            self._send_json(HTTPStatus.BAD_GATEWAY, {"error": "rasa_unavailable"})
            return
        self._send_json(HTTPStatus.OK, {"recorded": True})

    def _json_body(self) -> object:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY_BYTES:
            return None
        try:
            return json.loads(self.rfile.read(length))
        except ValueError:
            return None

    def _end_session(self, session_id: str) -> None:
        """Restart the conversation on the Rasa server: its identification and slots are gone for good."""
        try:
            self._append_events(session_id, [{"event": "restart"}])
        except requests.RequestException:
            self._send_json(HTTPStatus.BAD_GATEWAY, {"error": "rasa_unavailable"})
            return
        self._send_json(HTTPStatus.OK, {"ended": True})

    def _static(self, path: str) -> None:
        parts = path.strip("/").split("/", 1)
        root = ROOTS.get(parts[0])
        if root is None or len(parts) != 2:
            self._send(HTTPStatus.NOT_FOUND, b"Introuvable", "text/plain; charset=utf-8")
            return
        target = (root / parts[1]).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"Introuvable", "text/plain; charset=utf-8")
            return
        self._send_file(target)

    def _history(self, session_id: str) -> None:
        if not SESSION_ID.fullmatch(session_id):
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "Conversation introuvable."})
            return
        if verify_client_session(self.headers.get(SESSION_HEADER), session_id) is None:
            # Only the browser that holds the conversation's client session key reads its history.
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "bad_session_key"})
            return
        try:
            events = self._tracker_events(session_id)
        except (requests.RequestException, ValueError):
            self._send_json(HTTPStatus.BAD_GATEWAY, {"error": "Historique indisponible."})
            return
        self._send_json(HTTPStatus.OK, {"messages": transcript(events)})

    def _demo_token(self, who: str) -> None:
        email = DEMO_ACCOUNTS.get(who)
        if not self.server.demo_login or email is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "Connexion de démonstration indisponible."})
            return
        try:
            token = make_demo_token(email, database_url=self.server.database_url)
        except ValueError:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "Le compte de démonstration n'existe pas."})
            return
        except BackendUnavailable as error:
            self._send_json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(error)})
            return
        self._send_json(HTTPStatus.OK, {"token": token})

    def _send_file(self, path: Path) -> None:
        content_type = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._send(HTTPStatus.OK, path.read_bytes(), content_type)

    def _send_json(self, status: HTTPStatus, payload: dict) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        # The query string is left out: it is not personal here, but a habit worth keeping.
        logger.info("%s %s", self.command, urlsplit(self.path).path)


def feedback_texts() -> dict[str, object]:
    """What the widget shows for "Est-ce que cela vous a aidé?": responses of domain.yml."""
    responses = project_responses()

    def say(name: str) -> str:
        return response_text(responses, name)

    return {
        "question": say("utter_feedback_question"), "yes": say("utter_feedback_yes"), "no": say("utter_feedback_no"),
        "why": say("utter_feedback_why"), "thanks": say("utter_feedback_thanks"),
        "reasons": [{"value": reason.value, "label": say(f"utter_feedback_reason_{reason.value}")}
                    for reason in FeedbackReason],
    }


def transcript(events: list[dict]) -> list[dict]:
    """What the citizen saw, from tracker events: user texts (a button's title, not its payload) and bot
    messages with their buttons; the last `HISTORY_LIMIT`."""
    messages: list[dict] = []
    for event in events:
        if event.get("event") == "user":
            metadata = event.get("metadata") or {}
            messages.append({"from": "user", "text": metadata.get("button_title") or event.get("text") or ""})
        elif event.get("event") == "bot":
            data = event.get("data") or {}
            buttons = data.get("buttons") or data.get("quick_replies") or []
            messages.append({
                "from": "bot",
                "text": event.get("text") or "",
                "buttons": [{"title": b.get("title", ""), "payload": b.get("payload", "")} for b in buttons],
            })
    return messages[-HISTORY_LIMIT:]


def make_server(
    host: str = "127.0.0.1", port: int = 8080, *, rasa_url: str = "http://127.0.0.1:5005",
    api_token: str | None = None, demo_login: bool = False, database_url: str | None = None,
) -> WidgetServer:
    """A server bound to host:port (0: a free port); call `serve_forever()` or `start_in_thread()`.

    ``api_token``: the Rasa HTTP API's `--auth-token`, for /history; ``database_url``: the account
    database of the demo tokens (default: settings).
    """
    return WidgetServer((host, port), rasa_url, api_token, demo_login, database_url)


def start_in_thread(server: WidgetServer) -> threading.Thread:
    """Serve in a daemon thread; stop with `server.shutdown()` then `server.server_close()`."""
    thread = threading.Thread(target=server.serve_forever, name="widget-server", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m bot.widget.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005", help="the Rasa server the widget talks to")
    parser.add_argument("--demo-login", action="store_true", help="serve /demo-token (demo machines only)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    server = make_server(
        args.host, args.port, rasa_url=args.rasa_url, api_token=get_settings().rasa_api_token,
        demo_login=args.demo_login,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 130
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
