"""socket.io: a second browser that knows a conversation id cannot listen to it (bot/channels/web.py).

A real Sanic server with the project's socket.io channel, and real socket.io clients over polling.
"""
from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import pytest
import socketio
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.web import GuardedSocketIOInput
from bot.session import CLIENT_SESSION_KEY, issue_client_session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def echo(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, f"réponse à {message.text}")


class Browser:
    """One socket.io client, with the replies it heard."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.heard: list[str] = []
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.client.on("bot_uttered", lambda data: self.heard.append(data.get("text") or ""))
        self.client.on("session_confirm", self.confirmed.put_nowait)

    async def join(self, url: str, session_id: str, key: str | None) -> None:
        await self.client.connect(url, transports=["polling"], wait_timeout=10)
        request: dict[str, Any] = {"session_id": session_id}
        if key is not None:
            request[CLIENT_SESSION_KEY] = key
        await self.client.emit("session_request", request)
        assert await asyncio.wait_for(self.confirmed.get(), 10) == session_id

    async def say(self, session_id: str, text: str, key: str | None) -> None:
        metadata = {CLIENT_SESSION_KEY: key} if key else {}
        await self.client.emit("user_uttered", {"session_id": session_id, "message": text, "metadata": metadata})


@pytest.mark.asyncio
async def test_a_second_browser_with_the_id_but_not_the_key_hears_nothing_of_the_conversation():
    channel = GuardedSocketIOInput(user_message_evt="user_uttered", bot_message_evt="bot_uttered",
                                   session_persistence=True)
    app = Sanic(f"sio_rooms_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(echo))
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.after_start()
    url = f"http://127.0.0.1:{port}"
    session_id = uuid.uuid4().hex
    key = issue_client_session(session_id)
    legitimate, second_tab, intruder, forger = Browser(), Browser(), Browser(), Browser()
    try:
        await legitimate.join(url, session_id, key)
        await second_tab.join(url, session_id, key)  # the same browser's other tab: same key
        await intruder.join(url, session_id, None)
        await forger.join(url, session_id, issue_client_session(uuid.uuid4().hex))  # a key of another id
        await legitimate.say(session_id, "mon solde", key)
        await asyncio.sleep(1.0)
        assert legitimate.heard == ["réponse à mon solde"]
        assert second_tab.heard == ["réponse à mon solde"], "the key holder's tabs hear the conversation live"
        assert intruder.heard == [] and forger.heard == [], "the id alone hears nothing"
        # The intruder's own message is answered to it alone, not to the conversation's room.
        await intruder.say(session_id, "allo", None)
        await asyncio.sleep(1.0)
        assert intruder.heard == ["réponse à allo"]
        assert legitimate.heard == ["réponse à mon solde"]
    finally:
        for browser in (legitimate, second_tab, intruder, forger):
            await browser.client.eio.disconnect(abort=True)  # no wait for the next long poll
        await server.before_stop()
        server.close()
        await server.wait_closed()
