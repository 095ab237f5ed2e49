"""Fixtures that start a real action server and Rasa server once per test session."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from bot.settings import PROJECT_ROOT, get_settings

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 300


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def trained_model() -> Path:
    """The current model, trained first when data or config changed."""
    out = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "train.sh")], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        pytest.fail(f"training failed:\n{out.stderr[-3000:]}")
    return PROJECT_ROOT / out.stdout.strip().splitlines()[-1]


@dataclass
class RasaStack:
    """A running Rasa server and action server, with helpers to talk to them."""

    url: str
    actions_url: str
    workdir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)
    api_token: str | None = None

    @property
    def api_params(self) -> dict[str, str]:
        """The query parameters of the Rasa HTTP API: its token when the server has one."""
        return {"token": self.api_token} if self.api_token else {}

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    def talk(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        """Send one message over the REST channel; the bot's replies."""
        body: dict = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = requests.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def texts(self, sender: str, text: str, metadata: dict | None = None) -> str:
        """The replies' texts joined by newlines, for assertions on what the citizen reads."""
        return "\n".join(m.get("text", "") for m in self.talk(sender, text, metadata))

    def tracker(self, sender: str) -> dict:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", params=self.api_params, timeout=30)
        response.raise_for_status()
        return response.json()

    def reset_demo_data(self) -> None:
        """Put the account database back to the demo data of DESIGN.md (nothing linked, no attempts)."""
        subprocess.run(
            [str(BIN / "python"), "-m", "bot", "backend", "seed", "--reset"],
            cwd=PROJECT_ROOT, env=self.env, check=True, capture_output=True,
        )

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("*.log")))


def _wait_until_up(stack: RasaStack) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for proc in stack.processes:
            if proc.poll() is not None:
                pytest.fail(f"a server stopped at start:\n{stack.logs()[-4000:]}")
        try:
            status = requests.get(f"{stack.url}/status", params=stack.api_params, timeout=2)
            health = requests.get(f"{stack.actions_url}/health", timeout=2)
            if status.ok and status.json().get("model_file") and health.ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"servers not up after {START_TIMEOUT_S} s:\n{stack.logs()[-4000:]}")


def start_stack(
    workdir: Path, model: Path, extra_env: dict[str, str] | None = None, rasa_args: list[str] | None = None,
    api_token: str | None = None, extra_endpoints: str = "",
) -> RasaStack:
    """Seed a fresh account database and start both servers on free ports.

    ``rasa_args``: more options of `rasa run`; ``api_token``: its `--auth-token`, used by the helpers;
    ``extra_endpoints``: YAML appended to endpoints.yml (a `lock_store:` block, say).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "BOT_VAR_DIR": str(workdir),
            "BOT_DATABASE_URL": f"sqlite:///{workdir / 'accounts.db'}",
            "BOT_TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
            "BOT_TOKEN_SECRET": get_settings().token_secret,
            "BOT_ENVIRONMENT": "development",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env or {})
    subprocess.run([str(BIN / "python"), "-m", "bot", "backend", "seed"], cwd=PROJECT_ROOT, env=env, check=True)
    endpoints = (PROJECT_ROOT / "endpoints.yml").read_text()
    endpoints = endpoints.replace("127.0.0.1:5055", f"127.0.0.1:{actions_port}")
    (workdir / "endpoints.yml").write_text(endpoints + extra_endpoints)
    stack = RasaStack(
        f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{actions_port}", workdir, env, api_token=api_token
    )
    rasa_args = list(rasa_args or []) + (["--auth-token", api_token] if api_token else [])
    actions_log = open(workdir / "actions.log", "w")  # noqa: SIM115 - closed with the process
    stack.processes.append(
        subprocess.Popen(
            [str(BIN / "rasa"), "run", "actions", "--port", str(actions_port), "--actions", "actions"],
            cwd=PROJECT_ROOT, env=env, stdout=actions_log, stderr=subprocess.STDOUT,
        )
    )
    rasa_log = open(workdir / "rasa.log", "w")  # noqa: SIM115 - closed with the process
    stack.processes.append(
        subprocess.Popen(
            [str(BIN / "rasa"), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(rasa_port), "-m", str(model),
             "--endpoints", str(workdir / "endpoints.yml"), "--credentials", str(PROJECT_ROOT / "credentials.yml"),
             *rasa_args],
            cwd=PROJECT_ROOT, env=env, stdout=rasa_log, stderr=subprocess.STDOUT,
        )
    )
    try:
        _wait_until_up(stack)
    except BaseException:
        stop_stack(stack)
        raise
    return stack


def stop_stack(stack: RasaStack) -> None:
    for proc in stack.processes:
        proc.terminate()
    for proc in stack.processes:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def rasa_model() -> Path:
    return trained_model()


@pytest.fixture(scope="session")
def rasa_server(rasa_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    """One real Rasa server + action server for the whole test session.

    CORS is open (`--cors "*"`) so that the widget's demo page, served on another port, can call it.
    """
    stack = start_stack(tmp_path_factory.mktemp("rasa"), rasa_model, rasa_args=["--cors", "*"])
    yield stack
    stop_stack(stack)
    shutil.rmtree(stack.workdir, ignore_errors=True)


PRODUCTION_API_TOKEN = "e2e-rasa-api-token"
PRODUCTION_IVR_TOKEN = "e2e-ivr-gateway-token"
PRODUCTION_ORIGIN = "https://www.ville.terrebonne.qc.ca"


@pytest.fixture(scope="session")
def production_server(rasa_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    """A stack configured as in production (docs/production.md): API token, IVR token, one CORS origin.

    Both servers log at DEBUG, the most verbose level, so that log redaction is tested on everything.
    """
    env = {
        "LOG_LEVEL": "DEBUG",
        "COLOREDLOGS_LOG_LEVEL": "DEBUG",
        "BOT_RASA_API_TOKEN": PRODUCTION_API_TOKEN,
        "BOT_IVR_TOKEN": PRODUCTION_IVR_TOKEN,
        "BOT_CORS_ORIGINS": PRODUCTION_ORIGIN,
        "BOT_ENVIRONMENT": "production",
    }
    stack = start_stack(
        tmp_path_factory.mktemp("rasa-production"), rasa_model, extra_env=env,
        rasa_args=["--cors", PRODUCTION_ORIGIN], api_token=PRODUCTION_API_TOKEN,
    )
    yield stack
    stop_stack(stack)
    shutil.rmtree(stack.workdir, ignore_errors=True)
