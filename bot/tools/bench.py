"""`make bench`: registration night on this machine: the capacity of the layout `make run` serves.

Starts what `make run` starts: one action server and one one-worker Rasa instance per core
behind HAProxy (scripts/haproxy.sh, sticky by conversation id), sharing a fresh SQLite tracker
store and account database, with the Redis lock store and slot vault. Then an open-loop load of
whole conversations (one asyncio process): virtual citizens arrive at random (Poisson) and each
runs a realistic script with seconds of thinking between turns: a greeting, two answers of the
guide, the card-expiry question with an identification by card digits and birth date (Marie of
the demo data) answered by custom actions, an out-of-scope question and a request for a person.
The arrival rate steps up until the p95 of a step passes 300 ms or an error appears; capacity is
the highest message rate a step held with p95 <= 300 ms and no error. Then the load holds at that
rate until the run has started at least --min-conversations conversations. Prints a table and
the figures as JSON: per step, latencies, errors, achieved rate, CPU of every process and of the
generator itself, resident memory.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from bot.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent
API_TOKEN = "bench-api-token"
P95_LIMIT_MS = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    """One action server, Rasa servers and optionally HAProxy in front of them, started from this checkout."""

    workdir: Path
    env: dict[str, str]
    actions_url: str = ""
    rasa_urls: list[str] = field(default_factory=list)
    proxy_url: str = ""
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

    def start_rasa(self, name: str, model: Path, endpoints_extra: str = "",
                   env_extra: dict[str, str] | None = None) -> str:
        port = free_port()
        endpoints = (PROJECT_ROOT / "endpoints.yml").read_text().replace("127.0.0.1:5055", self.actions_url[7:])
        endpoints_file = self.workdir / f"endpoints-{name}.yml"
        endpoints_file.write_text(endpoints + endpoints_extra)
        log = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", API_TOKEN, "-i", "127.0.0.1",
             "-p", str(port), "-m", str(model), "--endpoints", str(endpoints_file),
             "--credentials", str(PROJECT_ROOT / "credentials.yml")],
            cwd=PROJECT_ROOT, env={**self.env, **(env_extra or {})}, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        self.rasa_urls.append(url)
        return url

    def start_proxy(self) -> str:
        """HAProxy with the configuration of `make run` (scripts/haproxy.cfg) in front of the Rasa instances."""
        port = free_port()
        ports = [url.rsplit(":", 1)[1] for url in self.rasa_urls]
        log = open(self.workdir / "haproxy.log", "w")  # noqa: SIM115 - closed with the process
        self.processes["haproxy"] = subprocess.Popen(
            [str(PROJECT_ROOT / "scripts" / "haproxy.sh"), str(self.workdir / "haproxy.cfg"), str(port), *ports],
            cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.proxy_url = f"http://127.0.0.1:{port}"
        return self.proxy_url

    def wait_until_up(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        pending = [*self.rasa_urls, self.actions_url, *([self.proxy_url] if self.proxy_url else [])]
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
        return round(_tree_sum(self.processes[name].pid, _rss_kb) / 1024, 1)

    def pss_mb(self, name: str) -> float:
        """Proportional set size of a process and its children (shared pages split between sharers), in MB."""
        return round(_tree_sum(self.processes[name].pid, _pss_kb) / 1024, 1)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by each process and its children."""
        return {name: _tree_sum(process.pid, _cpu_seconds) for name, process in self.processes.items()}


def _status_kb(pid: int, path: str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_kb(pid: int) -> float:
    return _status_kb(pid, "status", "VmRSS:")


def _pss_kb(pid: int) -> float:
    return _status_kb(pid, "smaps_rollup", "Pss:")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _tree_sum(pid: int, measure: Callable[[int], float]) -> float:
    """``measure`` of a process plus that of all its descendants."""
    total = measure(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(_tree_sum(int(child), measure) for child in children)


def machine_busy_seconds() -> tuple[float, float]:
    """CPU seconds all cores spent busy and in total since boot (/proc/stat), to see the whole machine's load."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def make_stack(workdir: Path, env_overrides: dict[str, str] | None = None) -> Stack:
    """A stack environment with a freshly seeded account database (SQLite in ``workdir`` by default)."""
    env = dict(os.environ)
    env.update({
        "BOT_VAR_DIR": str(workdir),
        "BOT_DATABASE_URL": f"sqlite:///{workdir / 'accounts.db'}",
        "BOT_TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
        "BOT_RASA_API_TOKEN": API_TOKEN,
        "BOT_ENVIRONMENT": "development",
        "PYTHONUNBUFFERED": "1",
        **(env_overrides or {}),
    })
    subprocess.run([str(BIN / "python"), "-m", "bot", "backend", "seed"], cwd=PROJECT_ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return Stack(workdir, env)


def redis_reachable(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def redis_lock_store(db: int, key_prefix: str) -> str:
    """The endpoints.yml block of a Redis lock store shared by several Rasa instances."""
    return f"\nlock_store:\n  type: bot.lock_store.RedisTicketLockStore\n  url: 127.0.0.1\n  port: 6379\n  db: {db}\n  key_prefix: {key_prefix}\n"


def training_seconds(model: Path) -> int | None:
    """How long `scripts/train.sh` took to train ``model`` (None when it was trained otherwise)."""
    record = model.with_name(model.name.removesuffix(".tar.gz") + ".train-seconds")
    try:
        return int(record.read_text().strip())
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------- the registration-night load


@dataclass(frozen=True)
class Turn:
    text: str
    expect: str = ""  # a phrase the reply must hold; empty: any non-empty reply


# One citizen on registration night (REST channel, as the widget's fallback): the demo data of
# DESIGN.md, Marie identified by her card digits and birth date, her card's expiry from the backend.
CITIZEN_SCRIPT: tuple[Turn, ...] = (
    Turn("Bonjour"),
    Turn("Comment créer un compte?"),
    Turn("Quelles sont les règles pour le mot de passe?"),
    Turn("quand expire ma carte accès terrebonne", "Voulez-vous vous identifier?"),
    Turn("oui", "six (6) derniers chiffres"),
    Turn("123 456"),
    Turn("12 mars 1985", "Marie : carte valide jusqu'au 31 mars 2027."),
    Turn("c'est quand la collecte des ordures dans ma rue"),
    Turn("je veux parler à un agent", "450 961-2001, poste 4000"),
)


@dataclass
class Sample:
    sent: float  # seconds since the load started
    ms: float
    error: str = ""


@dataclass
class LoadSettings:
    rates: list[float]  # messages per second of each step
    step_seconds: float
    think_seconds: tuple[float, float]
    min_conversations: int
    request_timeout: float = 10.0
    max_seconds: float = 900.0  # the whole load, steps and hold
    seed: int = 16
    profile_rounds: int = 5  # times the script is sent alone, before the load (turn_profile)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    if not samples_ms:
        return {"n": 0}
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": round(ordered[-1], 1),
            "mean": round(statistics.fmean(ordered), 1), "n": len(ordered)}


class RegistrationNight:
    """Open-loop arrivals of whole conversations against one URL, in steps of message rate."""

    def __init__(self, url: str, settings: LoadSettings, stack: Stack | None = None,
                 check_replies: bool = True) -> None:
        self.url = url.rstrip("/") + "/webhooks/rest/webhook"
        self.check_replies = check_replies  # off: a reply that lacks the expected phrase is counted, not an error
        self.mismatches = 0
        self.settings = settings
        self.stack = stack
        self.rng = random.Random(settings.seed)
        self.run_id = f"{time.time_ns():x}"[-8:]
        self.samples: list[Sample] = []
        self.started = 0
        self.completed = 0
        self.tasks: set[asyncio.Task] = set()
        self.t0 = 0.0

    def now(self) -> float:
        return time.perf_counter() - self.t0

    async def citizen(self, session, number: int) -> None:
        import aiohttp

        sender = f"night-{self.run_id}-{number:05d}"
        for index, turn in enumerate(CITIZEN_SCRIPT):
            if index:
                await asyncio.sleep(self.rng.uniform(*self.settings.think_seconds))
            sent = self.now()
            error = ""
            try:
                async with session.post(self.url, json={"sender": sender, "message": turn.text}) as reply:
                    body = await reply.read()
                    if reply.status != 200:
                        error = f"HTTP {reply.status}"
                    else:
                        texts = " ".join(message.get("text") or "" for message in json.loads(body))
                        if not texts.strip():
                            error = "no reply"
                        elif turn.expect and turn.expect not in texts:
                            if self.check_replies:
                                error = f"unexpected reply at turn {index + 1}"
                            else:
                                self.mismatches += 1
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                error = type(exc).__name__
            self.samples.append(Sample(sent, (self.now() - sent) * 1000, error))
            if error:
                return  # a citizen who gets an error gives up (and calls the city)
        self.completed += 1

    async def arrivals(self, session, messages_per_second: float, until: float) -> None:
        """Start conversations at random (Poisson) so that they send ``messages_per_second`` in steady state."""
        per_second = messages_per_second / len(CITIZEN_SCRIPT)
        while True:
            gap = self.rng.expovariate(per_second)
            if self.now() + gap >= until:
                await asyncio.sleep(max(0.0, until - self.now()))
                return
            await asyncio.sleep(gap)
            task = asyncio.create_task(self.citizen(session, self.started))
            self.started += 1
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def window(self, session, name: str, rate: float, seconds: float) -> dict:
        """Run arrivals at ``rate`` for ``seconds``; the figures of the messages sent in that window."""
        start, started_before = self.now(), self.started
        cpu_before = self.stack.cpu_seconds() if self.stack else {}
        own_before = time.process_time()
        busy_before, total_before = machine_busy_seconds()
        await self.arrivals(session, rate, start + seconds)
        end = self.now()
        wall = end - start
        cpu_after = self.stack.cpu_seconds() if self.stack else {}
        busy_after, total_after = machine_busy_seconds()
        inside = [s for s in self.samples if start <= s.sent < end]
        errors: dict[str, int] = {}
        for sample in inside:
            if sample.error:
                errors[sample.error] = errors.get(sample.error, 0) + 1
        cores = os.cpu_count() or 1
        cores_used: dict[str, float] = {
            **{key: round((cpu_after.get(key, 0) - value) / wall, 2) for key, value in cpu_before.items()},
            "generator": round((time.process_time() - own_before) / wall, 3),
        }
        machine_busy = round((busy_after - busy_before) / (total_after - total_before) * cores, 2)
        figures: dict[str, Any] = {
            "step": name,
            "target_per_s": rate,
            "achieved_per_s": round(len(inside) / wall, 1),
            "conversations_started": self.started - started_before,
            "latency_ms": percentiles([s.ms for s in inside if not s.error]),
            "errors": sum(errors.values()),
            "error_kinds": errors,
            "cpu_cores_used": cores_used,
            "machine_busy_cores": machine_busy,
            "others_busy_cores": 0.0,
            "seconds": round(wall, 1),
        }
        # What the rest of the machine used meanwhile (another program's work slows this one down).
        ours = sum(cores_used.values())
        figures["others_busy_cores"] = round(max(0.0, machine_busy - ours), 2)
        # CPU the servers spent per message (all processes but the generator), and the rate that
        # would keep every core of this machine busy with it: a ceiling, not a capacity.
        servers = ours - cores_used["generator"]
        if inside:
            figures["server_cpu_ms_per_message"] = round(servers * wall / len(inside) * 1000, 1)
            figures["ceiling_per_s_all_cores"] = round(cores / (servers * wall / len(inside)), 1) if servers else None
        if self.stack:
            figures["pss_mb_total"] = round(sum(self.stack.pss_mb(key) for key in self.stack.processes), 1)
        return figures

    @staticmethod
    def held(step: dict) -> bool:
        return step["errors"] == 0 and step["latency_ms"].get("p95", math.inf) <= P95_LIMIT_MS

    async def cancel_in_flight(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def run(self) -> dict:
        import aiohttp

        settings = self.settings
        timeout = aiohttp.ClientTimeout(total=settings.request_timeout)
        connector = aiohttp.TCPConnector(limit=0)
        steps: list[dict] = []
        hold: dict | None = None
        self.t0 = time.perf_counter()
        own_start, wall_start = time.process_time(), time.perf_counter()
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            for rate in settings.rates:
                if self.now() + settings.step_seconds > settings.max_seconds:
                    break
                step = await self.window(session, f"{rate:g}/s", rate, settings.step_seconds)
                steps.append(step)
                print(format_step(step), file=sys.stderr, flush=True)
                if not self.held(step):
                    break
            held_steps = [step for step in steps if self.held(step)]
            capacity = max(held_steps, key=lambda s: s["achieved_per_s"]) if held_steps else None
            broken = bool(steps) and not self.held(steps[-1])
            if broken:
                await self.cancel_in_flight()
                await asyncio.sleep(settings.think_seconds[1])  # the servers drain their queues
            if capacity and self.started < settings.min_conversations:
                # Hold the capacity's rate until the run has started enough conversations.
                rate = capacity["target_per_s"]
                missing = settings.min_conversations - self.started
                seconds = max(settings.step_seconds, missing * len(CITIZEN_SCRIPT) / rate + 1)
                seconds = min(seconds, max(settings.step_seconds, settings.max_seconds - self.now()))
                hold = await self.window(session, f"hold {rate:g}/s", rate, seconds)
                print(format_step(hold), file=sys.stderr, flush=True)
            # Let the conversations already started finish (bounded), then count them.
            if self.tasks:
                await asyncio.wait(list(self.tasks), timeout=len(CITIZEN_SCRIPT) * settings.think_seconds[1] + 30)
            await self.cancel_in_flight()
        wall = time.perf_counter() - wall_start
        all_errors = [s for s in self.samples if s.error]
        return {
            "script_turns": len(CITIZEN_SCRIPT),
            "think_seconds": list(settings.think_seconds),
            "p95_limit_ms": P95_LIMIT_MS,
            "steps": steps,
            "hold": hold,
            "capacity_per_s": capacity["achieved_per_s"] if capacity else 0.0,
            "capacity_step": capacity["step"] if capacity else None,
            "capacity_p95_ms": capacity["latency_ms"]["p95"] if capacity else None,
            "hold_met": self.held(hold) if hold else None,
            "stopped_by": ("p95 or error" if broken else "last step reached"),
            "conversations_started": self.started,
            "conversations_completed": self.completed,
            "messages": len(self.samples),
            "errors": len(all_errors),
            "replies_without_the_expected_phrase": self.mismatches if not self.check_replies else None,
            "seconds": round(wall, 1),
            "generator_cpu_share_of_one_core": round((time.process_time() - own_start) / wall, 3),
        }


def format_step(step: dict) -> str:
    latency = step["latency_ms"]
    cpu = " ".join(f"{k}={v:.2f}" for k, v in step["cpu_cores_used"].items())
    return (f"{step['step']:>14} {step['achieved_per_s']:>8.1f} {step['conversations_started']:>6} "
            f"{latency.get('p50', 0):>7.0f} {latency.get('p95', 0):>7.0f} {latency.get('p99', 0):>7.0f} "
            f"{step['errors']:>6}  {step['machine_busy_cores']:>5.2f} {step['others_busy_cores']:>6.2f}  {cpu}")


TABLE_HEADER = (f"{'step':>14} {'msg/s':>8} {'conv':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}  "
                f"{'busy':>5} {'others':>6}  cores used by each process")


# `--one-thread`: each Rasa instance keeps to one thread of TensorFlow (read by Rasa) and of the BLAS
# libraries instead of one per core. Measured on the busy shared machine (8 messages/s, one step):
# 44.3 ms of server CPU per message with it, 46.3 without, p95 worse with it: no clear gain, so
# `make run` leaves Rasa's default; to measure again on an idle machine.
# Rasa instances only: in the action server's environment these make `rasa run actions` load
# TensorFlow (584 MB resident instead of 136 MB).
ONE_THREAD_EACH = {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1",
                   "OMP_NUM_THREADS": "1"}


def start_machine(model: Path, workdir: Path, instances: int, action_workers: int, one_thread: bool = False) -> Stack:
    """What `make run` starts, on free ports: the action server, ``instances`` Rasa instances, HAProxy."""
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    overrides: dict[str, str] = {"SANIC_WORKERS": "1"}
    extra = ""
    if instances > 1:
        if not redis_reachable():
            raise SystemExit("Several Rasa instances need Redis on 127.0.0.1:6379 (lock store, slot vault).")
        overrides["BOT_SLOT_VAULT_URL"] = "redis://127.0.0.1:6379/5"
        extra = redis_lock_store(5, prefix)
    stack = make_stack(workdir, overrides)
    stack.start_actions(workers=action_workers)
    for number in range(1, instances + 1):
        stack.start_rasa(f"rasa{number}", model, extra, ONE_THREAD_EACH if instances > 1 and one_thread else None)
    stack.wait_until_up()
    stack.start_proxy()
    stack.wait_until_up()
    return stack


def warm_up(stack: Stack) -> None:
    """Each instance answers the script once (first calls load lazily)."""
    for url in stack.rasa_urls:
        for turn in CITIZEN_SCRIPT:
            requests.post(f"{url}/webhooks/rest/webhook", json={"sender": f"warm-{url[-5:]}", "message": turn.text},
                          timeout=120).raise_for_status()


# ----------------------------------------------------------------- stock Rasa, side by side

# A stock Rasa 3.6 set-up of the same domain and data: no pipeline and no policies given, so Rasa
# fills in its defaults (WhitespaceTokenizer, count vectors, DIETClassifier, ResponseSelector,
# FallbackClassifier; MemoizationPolicy, RulePolicy, UnexpecTEDIntentPolicy, TEDPolicy), Rasa's own
# SQLTrackerStore on SQLite, its own REST channel, one `rasa run`, none of the project's speed fixes.
STOCK_CONFIG = """recipe: default.v1
language: fr
assistant_id: stock-rasa-baseline
pipeline:
policies:
"""
STOCK_ENDPOINTS = """action_endpoint:
  url: "{actions_url}/webhook"
tracker_store:
  type: SQL
  dialect: sqlite
  db: {db}
"""
STOCK_CREDENTIALS = "rest:\n"


def stock_model() -> tuple[Path, int | None]:
    """The stock set-up's model, trained once per hash of its inputs and cached in models/; its training time.

    Trains under the lock of scripts/train.sh (var/train.lock): never two trainings at once here.
    """
    import fcntl
    import hashlib

    digest = hashlib.sha256(STOCK_CONFIG.encode())
    inputs = [PROJECT_ROOT / "requirements.lock", PROJECT_ROOT / "domain.yml",
              *sorted((PROJECT_ROOT / "data").rglob("*.yml"))]
    for path in inputs:
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    name = f"stock-{digest.hexdigest()[:16]}"
    model = PROJECT_ROOT / "models" / f"{name}.tar.gz"
    record = model.with_name(f"{name}.train-seconds")
    if not (model.exists() and record.exists()):
        (PROJECT_ROOT / "var").mkdir(exist_ok=True)
        with open(PROJECT_ROOT / "var" / "train.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (model.exists() and record.exists()):
                print(f"==> Training the stock Rasa set-up ({model.name}), once for these data", file=sys.stderr)
                with tempfile.TemporaryDirectory(prefix="stock-") as tmp:
                    config = Path(tmp) / "config.yml"
                    config.write_text(STOCK_CONFIG)
                    start = time.perf_counter()
                    with open(PROJECT_ROOT / "var" / "train-stock.log", "w") as log:
                        subprocess.run(
                            [str(BIN / "rasa"), "train", "--config", str(config), "--domain", "domain.yml",
                             "--data", "data", "--fixed-model-name", name, "--out", "models"],
                            cwd=PROJECT_ROOT, check=True, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
                    record.write_text(f"{round(time.perf_counter() - start)}\n")
    return model, training_seconds(model)


def start_stock(model: Path, workdir: Path) -> Stack:
    """One stock `rasa run` (and the project's action server, the same custom actions) on free ports."""
    stack = make_stack(workdir, {"SANIC_WORKERS": "1"})
    stack.start_actions(workers=1)
    port = free_port()
    (workdir / "stock-endpoints.yml").write_text(
        STOCK_ENDPOINTS.format(actions_url=stack.actions_url, db=workdir / "stock-tracker.db"))
    (workdir / "stock-credentials.yml").write_text(STOCK_CREDENTIALS)
    log = open(workdir / "stock.log", "w")  # noqa: SIM115 - closed with the process
    stack.processes["rasa"] = subprocess.Popen(
        [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", API_TOKEN, "-i", "127.0.0.1", "-p", str(port),
         "-m", str(model), "--endpoints", str(workdir / "stock-endpoints.yml"),
         "--credentials", str(workdir / "stock-credentials.yml")],
        cwd=workdir, env=stack.env, stdout=log, stderr=subprocess.STDOUT,
    )
    stack.rasa_urls.append(f"http://127.0.0.1:{port}")
    stack.wait_until_up()
    return stack


def turn_profile(url: str, rounds: int) -> dict:
    """One conversation at a time on one instance: the cost of a turn and the NLU's share of it.

    The NLU alone is /model/parse of the same texts. Its share bounds what Rasa's separate NLU
    server could gain: the dialogue side of every turn would still run in one process.
    """
    parse: list[float] = []
    turns: list[float] = []
    for number in range(rounds):
        for turn in CITIZEN_SCRIPT:
            start = time.perf_counter()
            requests.post(f"{url}/model/parse", params={"token": API_TOKEN}, json={"text": turn.text},
                          timeout=60).raise_for_status()
            parse.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            requests.post(f"{url}/webhooks/rest/webhook", json={"sender": f"profile-{number}", "message": turn.text},
                          timeout=60).raise_for_status()
            turns.append((time.perf_counter() - start) * 1000)
    parse_ms, turn_ms = statistics.median(parse), statistics.median(turns)
    return {"parse_ms": percentiles(parse), "turn_ms": percentiles(turns),
            "nlu_share_of_a_turn": round(parse_ms / turn_ms, 2),
            "single_process_messages_per_s": round(1000 / statistics.fmean(turns), 1)}


QUICK = LoadSettings(rates=[5, 10, 20, 30, 45, 60], step_seconds=12, think_seconds=(0.5, 2.0), min_conversations=0,
                     max_seconds=180, profile_rounds=1)
FULL = LoadSettings(rates=[10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100, 120, 140, 160], step_seconds=40,
                    think_seconds=(2.0, 8.0), min_conversations=1000, max_seconds=900)


STOCK_RATES: list[float] = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40]


def measure_stock(settings: LoadSettings) -> dict:
    """The same load against the stock set-up (its own lower steps, no hold): capacity, training, memory."""
    model, train_seconds = stock_model()
    workdir = Path(tempfile.mkdtemp(prefix="bench-stock-"))
    started = time.perf_counter()
    stack = start_stock(model, workdir)
    try:
        result: dict = {"model": str(model), "model_size_mb": round(model.stat().st_size / 1e6, 1),
                        "training_s": train_seconds, "start_s": round(time.perf_counter() - started, 1)}
        warm_up(stack)
        result["turn_profile"] = turn_profile(stack.rasa_urls[0], settings.profile_rounds)
        print("Stock Rasa, one `rasa run`:\n" + TABLE_HEADER, file=sys.stderr, flush=True)
        stock_settings = replace(settings, rates=STOCK_RATES, min_conversations=0)
        result.update(asyncio.run(RegistrationNight(stack.rasa_urls[0], stock_settings, stack,
                                                    check_replies=False).run()))
        result["rss_mb"] = {name: stack.rss_mb(name) for name in stack.processes}
        result["rss_mb_total"] = round(sum(result["rss_mb"].values()), 1)
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def compare(ours: dict, stock: dict) -> dict:
    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a and b else None

    # When the stock set-up misses even its first step, its capacity is under that step's rate: the ratio
    # is then at least ours over that rate.
    first = stock["steps"][0]["achieved_per_s"] if stock.get("steps") and not stock["capacity_per_s"] else None
    return {
        "capacity_ours_over_stock": ratio(ours["capacity_per_s"], stock["capacity_per_s"]),
        "capacity_ours_over_stock_at_least": ratio(ours["capacity_per_s"], first),
        "training_stock_over_ours": ratio(stock["training_s"], ours["training_s"]),
        "memory_stock_over_ours": ratio(stock["rss_mb_total"], ours["rss_mb_total"]),
        "memory_per_rasa_process_stock_over_ours": ratio(
            stock["rss_mb"]["rasa"], statistics.fmean(v for k, v in ours["rss_mb"].items() if k.startswith("rasa"))),
    }


def run(model: Path, settings: LoadSettings, instances: int, action_workers: int, one_thread: bool = False) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    started = time.perf_counter()
    stack = start_machine(model, workdir, instances, action_workers, one_thread)
    try:
        result: dict = {
            "model": str(model),
            "model_size_mb": round(model.stat().st_size / 1e6, 1),
            "training_s": training_seconds(model),
            "cores": os.cpu_count(),
            "rasa_instances": instances,
            "action_server_workers": action_workers,
            "one_thread_per_instance": instances > 1 and one_thread,
            "layout": "HAProxy (scripts/haproxy.cfg) -> one-worker Rasa instances, SQLite tracker store (WAL), "
                      + ("Redis lock store and slot vault" if instances > 1 else "in-process lock store"),
            "start_s": round(time.perf_counter() - started, 1),
        }
        warm_up(stack)
        result["rss_mb_at_start"] = {name: stack.rss_mb(name) for name in stack.processes}
        result["turn_profile"] = turn_profile(stack.rasa_urls[0], settings.profile_rounds)
        print(TABLE_HEADER, file=sys.stderr, flush=True)
        result.update(asyncio.run(RegistrationNight(stack.proxy_url, settings, stack).run()))
        result["rss_mb"] = {name: stack.rss_mb(name) for name in stack.processes}
        result["rss_mb_total"] = round(sum(result["rss_mb"].values()), 1)
        result["pss_mb"] = {name: stack.pss_mb(name) for name in stack.processes}
        result["pss_mb_total"] = round(sum(result["pss_mb"].values()), 1)
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result["targets"] = {
        "capacity_per_s": {"measured": result["capacity_per_s"], "target": 100,
                           "met": result["capacity_per_s"] >= 100},
        "resident_mb_total": {"measured": result["rss_mb_total"], "target": 2500,
                              "met": result["rss_mb_total"] <= 2500},
    }
    return result


def summary(result: dict) -> str:
    lines = ["", TABLE_HEADER]
    lines += [format_step(step) for step in result["steps"]]
    if result["hold"]:
        lines.append(format_step(result["hold"]))
    lines += [
        "",
        f"Capacity: {result['capacity_per_s']} messages/s with p95 <= {P95_LIMIT_MS:g} ms and no error "
        f"(step {result['capacity_step']}, p95 {result['capacity_p95_ms']} ms); "
        f"{result['rasa_instances']} Rasa instance(s) on {result['cores']} cores.",
        (f"Held again afterwards at that rate: {'yes' if result['hold_met'] else 'NO'}" if result["hold"]
         else "No hold needed (enough conversations started)."),
        f"Conversations: {result['conversations_started']} started, {result['conversations_completed']} completed; "
        f"{result['messages']} messages, {result['errors']} errors, {result['seconds']} s.",
        f"Load generator: {result['generator_cpu_share_of_one_core'] * 100:.1f}% of one core.",
        *([f"Server CPU per message at the capacity step: {cap_step['server_cpu_ms_per_message']} ms, so all "
           f"{result['cores']} cores would be busy at {cap_step['ceiling_per_s_all_cores']} messages/s (a ceiling)."]
          if (cap_step := next((x for x in result["steps"] if x["step"] == result["capacity_step"]), None))
          and "server_cpu_ms_per_message" in cap_step else []),
        *([f"WARNING: other programs kept up to {others:.2f} cores busy during the steps: these figures understate "
           "the capacity of an idle machine."] if (others := max(
               (s["others_busy_cores"] for s in result["steps"]), default=0.0)) > 0.25 else []),
        f"One turn alone: p50 {result['turn_profile']['turn_ms']['p50']} ms, of which NLU (/model/parse) "
        f"p50 {result['turn_profile']['parse_ms']['p50']} ms ({result['turn_profile']['nlu_share_of_a_turn']:.0%}).",
        f"Resident memory: {result['rss_mb_total']} MB in total (RSS; PSS {result['pss_mb_total']} MB): "
        + ", ".join(f"{k} {v}" for k, v in result["rss_mb"].items()),
    ]
    stock = result.get("stock")
    if stock and "error" in stock:
        lines += ["", f"Stock Rasa: not measured ({stock['error']})."]
    elif stock:
        lines += ["", "Stock Rasa 3.6 (default pipeline and policies, SQLTrackerStore, one `rasa run`):"]
        lines += [format_step(step) for step in stock["steps"]]
        ratios = result["ours_vs_stock"]
        lines += [
            f"Stock capacity: {stock['capacity_per_s']} messages/s (p95 {stock['capacity_p95_ms']} ms); "
            + (f"ours / stock = {ratios['capacity_ours_over_stock']}x (target >= 12x)."
             if ratios["capacity_ours_over_stock"] is not None else
             f"the stock set-up missed even its first step ({stock['steps'][0]['achieved_per_s']} messages/s), so its "
             f"capacity is under that: ours / stock > {ratios['capacity_ours_over_stock_at_least']}x (target >= 12x)."),
            f"Training: stock {stock['training_s']} s, ours {result['training_s']} s "
            f"(stock / ours = {ratios['training_stock_over_ours']}x). "
            f"Memory: stock {stock['rss_mb_total']} MB in total, ours {result['rss_mb_total']} MB; "
            f"per Rasa process stock / ours = {ratios['memory_per_rasa_process_stock_over_ours']}x.",
            f"Stock replies without the expected phrase (not counted as errors): "
            f"{stock['replies_without_the_expected_phrase']}.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the trained model (.tar.gz)")
    parser.add_argument("--quick", action="store_true",
                        help="short steps and think times (about 2 minutes): for development, not for figures")
    parser.add_argument("--instances", type=int,
                        help="one-worker Rasa instances behind HAProxy (default: one per core, as make run; "
                             "1 without Redis)")
    parser.add_argument("--action-workers", type=int, default=1, help="Sanic workers of the action server")
    parser.add_argument("--rates", type=lambda text: [float(v) for v in text.split(",")],
                        help="messages per second of each step, comma-separated")
    parser.add_argument("--step-seconds", type=float)
    parser.add_argument("--min-conversations", type=int)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--one-thread", action=argparse.BooleanOptionalAction, default=False,
                        help="one TensorFlow/BLAS thread per Rasa instance when there are several (an experiment: "
                             "not shown to help yet, so make run does not do it)")
    parser.add_argument("--stock", action=argparse.BooleanOptionalAction, default=None,
                        help="also measure a stock Rasa set-up of the same data (default: on, off with --quick)")
    args = parser.parse_args(argv)

    def interrupted(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # the servers are stopped on the way out

    signal.signal(signal.SIGTERM, interrupted)
    settings = replace(QUICK if args.quick else FULL)
    if args.rates:
        settings.rates = args.rates
    if args.step_seconds:
        settings.step_seconds = args.step_seconds
    if args.min_conversations is not None:
        settings.min_conversations = args.min_conversations
    instances = args.instances or ((os.cpu_count() or 1) if redis_reachable() else 1)
    result = run(args.model, settings, instances, args.action_workers, args.one_thread)
    print(summary(result), file=sys.stderr, flush=True)  # our figures, whatever happens to the stock run
    if args.stock if args.stock is not None else not args.quick:
        try:
            result["stock"] = measure_stock(settings)
        except (OSError, RuntimeError, TimeoutError, subprocess.CalledProcessError, requests.RequestException) as error:
            result["stock"] = {"error": f"{type(error).__name__}: {error}"}
        else:
            result["ours_vs_stock"] = compare(result, result["stock"])
            ratios = result["ours_vs_stock"]
            result["targets"]["capacity_over_stock"] = {
                "measured": ratios["capacity_ours_over_stock"], "at_least": ratios["capacity_ours_over_stock_at_least"],
                "target": 12,
                "met": (ratios["capacity_ours_over_stock"] or ratios["capacity_ours_over_stock_at_least"] or 0) >= 12}
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
