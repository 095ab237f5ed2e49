"""`make bench`: speed and memory of the assistant on this machine, printed as JSON (a benchmark, not a test).

Starts an action server and a Rasa server on free ports with a fresh SQLite tracker store and
account database, then measures: server start time, /model/parse latency, REST round trips of a
FAQ turn and of a turn whose custom action reads the account database at 1, 8 and 32 concurrent
conversations, the same turns paced at 40 messages a second over 8 conversations, messages per
second, resident memory of each process, the model's size and training time, the issue's targets
met or not; then the same with one Rasa instance of two Sanic workers (Redis lock store).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bot.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent
FAQ_TURN = "Comment créer un compte?"  # one answer of the guide, no custom action
ACTION_TURN = "Est-ce que j'ai un solde à payer?"  # reads the account database
PARSE_TEXT = "Comment créer un compte sur le portail des inscriptions?"
API_TOKEN = "bench-api-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    """One action server and one or more Rasa servers, started from this checkout."""

    workdir: Path
    env: dict[str, str]
    actions_url: str = ""
    rasa_urls: list[str] = field(default_factory=list)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start_actions(self, workers: int = 1) -> None:
        port = free_port()
        env = {**self.env, "ACTION_SERVER_SANIC_WORKERS": str(workers)}
        log = open(self.workdir / "actions.log", "w")  # noqa: SIM115 - closed with the process
        self.processes["actions"] = subprocess.Popen(
            [str(BIN / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.actions_url = f"http://127.0.0.1:{port}"

    def start_rasa(self, name: str, model: Path, endpoints_extra: str = "") -> str:
        port = free_port()
        endpoints = (PROJECT_ROOT / "endpoints.yml").read_text().replace("127.0.0.1:5055", self.actions_url[7:])
        endpoints_file = self.workdir / f"endpoints-{name}.yml"
        endpoints_file.write_text(endpoints + endpoints_extra)
        log = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", API_TOKEN, "-i", "127.0.0.1",
             "-p", str(port), "-m", str(model), "--endpoints", str(endpoints_file),
             "--credentials", str(PROJECT_ROOT / "credentials.yml")],
            cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        self.rasa_urls.append(url)
        return url

    def wait_until_up(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        pending = [*self.rasa_urls, self.actions_url]
        while pending:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} stopped at start; see {self.workdir}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not up after {timeout} s: {pending}")
            url = pending[0]
            path = "/health" if url == self.actions_url else "/status"
            try:
                if requests.get(url + path, params={"token": API_TOKEN}, timeout=2).ok:
                    pending.pop(0)
                    continue
            except requests.RequestException:
                pass
            time.sleep(0.25)

    def stop(self, name: str | None = None) -> None:
        for key in [name] if name else list(self.processes):
            process = self.processes.pop(key)
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def rss_mb(self, name: str) -> float:
        """Resident memory of a process and its children, in MB."""
        return round(_tree_rss_kb(self.processes[name].pid) / 1024, 1)


def _tree_rss_kb(pid: int) -> int:
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(_tree_rss_kb(int(child)) for child in children)


def make_stack(workdir: Path, env_overrides: dict[str, str] | None = None) -> Stack:
    """A stack environment with a freshly seeded account database (SQLite in ``workdir`` by default)."""
    env = dict(os.environ)
    env.update({
        "BOT_VAR_DIR": str(workdir),
        "BOT_DATABASE_URL": f"sqlite:///{workdir / 'accounts.db'}",
        "BOT_TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
        "BOT_RASA_API_TOKEN": API_TOKEN,
        "PYTHONUNBUFFERED": "1",
        **(env_overrides or {}),
    })
    subprocess.run([str(BIN / "python"), "-m", "bot", "backend", "seed"], cwd=PROJECT_ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return Stack(workdir, env)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "n": len(ordered),
            "mean": round(statistics.fmean(ordered), 1)}


def timed(call: Callable[[], requests.Response]) -> float:
    start = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - start) * 1000
    response.raise_for_status()
    return elapsed


def round_trips(url: str, text: str, metadata: dict, conversations: int, turns: int) -> tuple[list[float], float]:
    """``conversations`` senders in parallel, ``turns`` messages each; the latencies and the wall time."""
    samples: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(conversations)
    run_id = f"{time.monotonic_ns():x}"

    def converse(number: int) -> None:
        session = requests.Session()
        sender = f"bench-{run_id}-{number}"
        barrier.wait()
        for _ in range(turns):
            body = {"sender": sender, "message": text, "metadata": metadata}
            elapsed = timed(lambda b=body: session.post(f"{url}/webhooks/rest/webhook", json=b, timeout=120))
            with lock:
                samples.append(elapsed)

    threads = [threading.Thread(target=converse, args=(n,)) for n in range(conversations)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - start


def training_seconds(model: Path) -> int | None:
    """How long `scripts/train.sh` took to train ``model`` (None when it was trained otherwise)."""
    record = model.with_name(model.name.removesuffix(".tar.gz") + ".train-seconds")
    try:
        return int(record.read_text().strip())
    except (OSError, ValueError):
        return None


def paced_round_trips(url: str, text: str, metadata: dict, conversations: int, rate: float,
                      seconds: float) -> tuple[list[float], float]:
    """``conversations`` senders sharing ``rate`` messages per second, each waiting for its reply."""
    samples: list[float] = []
    lock = threading.Lock()
    interval = conversations / rate
    run_id = f"{time.monotonic_ns():x}"
    start = time.perf_counter() + 0.2

    def converse(number: int) -> None:
        session = requests.Session()
        sender = f"paced-{run_id}-{number}"
        due = start + number / rate
        while due < start + seconds:
            time.sleep(max(0.0, due - time.perf_counter()))
            body = {"sender": sender, "message": text, "metadata": metadata}
            elapsed = timed(lambda b=body: session.post(f"{url}/webhooks/rest/webhook", json=b, timeout=120))
            with lock:
                samples.append(elapsed)
            due += interval

    threads = [threading.Thread(target=converse, args=(n,)) for n in range(conversations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - start


def redis_reachable(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


TWO_WORKER_ENDPOINTS = """
lock_store:
  type: redis
  url: 127.0.0.1
  port: 6379
  db: 5
  key_prefix: bench
"""


def measure_instance(model: Path, turns: int, workers: int = 1, levels: tuple[int, ...] = (1, 8, 32)) -> dict:
    """Start an action server and one Rasa instance with ``workers`` Sanic workers; measure it."""
    from bot.identity import sign_token

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    overrides = {"SANIC_WORKERS": str(workers)}
    if workers > 1:  # Rasa runs several workers only with a Redis lock store; the slot vault is shared too
        overrides["BOT_SLOT_VAULT_URL"] = "redis://127.0.0.1:6379/5"
    stack = make_stack(workdir, overrides)
    try:
        start = time.perf_counter()
        stack.start_actions()
        url = stack.start_rasa("rasa", model, TWO_WORKER_ENDPOINTS if workers > 1 else "")
        stack.wait_until_up()
        result: dict = {"sanic_workers": workers, "server_start_s": round(time.perf_counter() - start, 1)}
        token = sign_token(1)
        for _ in range(2 * workers):
            for text in (FAQ_TURN, ACTION_TURN, PARSE_TEXT):
                requests.post(f"{url}/webhooks/rest/webhook", json={"sender": "warm-up", "message": text,
                                                                      "metadata": {"token": token}}, timeout=120)
        result["rss_mb_at_start"] = {"rasa": stack.rss_mb("rasa"), "actions": stack.rss_mb("actions")}
        parse = [timed(lambda: requests.post(f"{url}/model/parse", params={"token": API_TOKEN},
                                             json={"text": PARSE_TEXT}, timeout=60)) for _ in range(100)]
        result["model_parse_ms"] = percentiles(parse)
        result["rest_round_trip_ms"] = {}
        result["messages_per_second"] = {}
        for name, text in (("faq_turn", FAQ_TURN), ("custom_action_turn", ACTION_TURN)):
            result["rest_round_trip_ms"][name] = {}
            for conversations in levels:
                samples, wall = round_trips(url, text, {"token": token}, conversations, turns)
                result["rest_round_trip_ms"][name][str(conversations)] = percentiles(samples)
                result["messages_per_second"][f"{name}@{conversations}"] = round(len(samples) / wall, 1)
        # Citizens read between messages: 8 conversations sharing 40 messages a second (the target rate).
        result["paced_8_conversations_40_per_second_ms"] = {}
        for name, text in (("faq_turn", FAQ_TURN), ("custom_action_turn", ACTION_TURN)):
            samples, wall = paced_round_trips(url, text, {"token": token}, 8, 40.0, 5.0)
            result["paced_8_conversations_40_per_second_ms"][name] = {
                **percentiles(samples), "achieved_per_second": round(len(samples) / wall, 1)}
        result["rss_mb"] = {"rasa": stack.rss_mb("rasa"), "actions": stack.rss_mb("actions")}
        return result
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def targets(result: dict) -> dict:
    """The issue's targets against the figures measured with one worker."""
    trips = result["rest_round_trip_ms"]
    rates = result["messages_per_second"]
    checks = {
        "faq_turn_p95_at_8_ms": (trips["faq_turn"]["8"]["p95"], 100, "max"),
        "custom_action_turn_p95_at_8_ms": (trips["custom_action_turn"]["8"]["p95"], 150, "max"),
        "messages_per_second_per_instance": (max(rates.values()), 40, "min"),
        "rasa_rss_mb": (result["rss_mb"]["rasa"], 1500, "max"),
    }
    return {name: {"measured": value, "target": bound,
                   "met": value <= bound if kind == "max" else value >= bound}
            for name, (value, bound, kind) in checks.items()}


def run(model: Path, turns: int, two_workers: bool = True) -> dict:
    result = {
        "model": str(model),
        "model_size_mb": round(model.stat().st_size / 1e6, 1),
        "training_s": training_seconds(model),
        **measure_instance(model, turns),
    }
    result["targets"] = targets(result)
    if not two_workers:
        return result
    if redis_reachable():
        result["two_sanic_workers"] = measure_instance(model, turns, workers=2, levels=(8, 32))
    else:
        result["two_sanic_workers"] = {"skipped": "Redis is not reachable on 127.0.0.1:6379"}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the trained model (.tar.gz)")
    parser.add_argument("--turns", type=int, default=10, help="messages per conversation at each level")
    parser.add_argument("--one-worker-only", action="store_true",
                        help="skip the instance with two Sanic workers (Redis lock store)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.model, args.turns, two_workers=not args.one_worker_only), indent=2,
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
