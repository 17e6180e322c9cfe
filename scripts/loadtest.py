#!/usr/bin/env python3
"""Bookline under a mixed multi-tenant load, over loopback: `make bench` and `make soak`.

bench: starts the release server on a fresh SQLite file (PostgreSQL with BENCH_DATABASE_URL),
signs up the tenants, lifts their request budgets through an admin, seeds leads, calls and
messages, then measures, in this order and in the same run:
  bare      GET /livez alone (no credential, no database): the yardstick
  me        GET /api/me alone, with the tenants' API keys (the authenticated request path)
  mixed     every class at once, one wrk each, rotating over every tenant's API key: reads,
            analytics, writes, signed webhooks and CSV imports (the last two paced), while
            Python holds an event stream (SSE) open per tenant and counts what arrives
and reports requests/s, p50/p95/p99 per class, errors, the server's RSS and open files, and
the ratios to the bare route; the result goes to bench/results/<UTC time>-<engine>.json.
Exit 1 when more than BENCH_MAX_ERROR_RATE of the requests fail (any non-2xx/3xx answer, a
socket error or timeout, an event stream that broke, skipped or fell behind), when the server
dies, or when it does not stop within 60 s of SIGTERM. Warnings (not failures): a slow stop, and
event-stream places still held right after their client closed them.

soak: the same server and seeding; measures the mixed capacity (or reads it from the latest
bench result), then runs the mix at SOAK_LOAD of it for SOAK_SECONDS, paced by wrk's delay(),
sampling RSS (/proc/PID/status VmRSS) and open file descriptors (/proc/PID/fd) every
SOAK_SAMPLE_SECONDS. Exit 1 on any error, or when RSS or open files grew from the first minute
to the last by more than the printed threshold. Its result goes to ...-<engine>-soak.json.

Run through scripts/loadtest/run (which builds the release binary); the environment variables are
listed there.
"""
import base64
import concurrent.futures
import datetime
import glob
import hashlib
import hmac
import http.client
import json
import os
import platform
import resource
import secrets
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA_DIR = os.path.join(ROOT, "scripts", "loadtest")
HOST = "127.0.0.1"
# Sign-ups are limited per address (tiers.yaml: 20 an hour): each batch of sign-ups comes from
# its own loopback address (127.0.0.2, .3, ...; Linux routes all of 127/8 to lo).
SIGNUPS_PER_ADDRESS = 15
# Both webhook routes share a per-address budget of 6000 a minute (TwilioWebhookRoutes.ipPolicy).
WEBHOOK_BUDGET_PER_SECOND = 100.0
PASSWORD = "loadtest-password-123"


def env_int(name, default):
    return int(os.environ.get(name) or default)


def env_float(name, default):
    return float(os.environ.get(name) or default)


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# A small keep-alive JSON client (one connection per thread).

class Client:
    def __init__(self, port, source=None):
        self.port, self.source, self.connection = port, source, None

    def request(self, method, path, body=None, token=None, headers=None, expect=(200, 201, 202, 204)):
        data = body
        all_headers = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
            all_headers.setdefault("Content-Type", "application/json")
        if isinstance(data, str):
            data = data.encode()
        if token:
            all_headers["Authorization"] = "Bearer " + token
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    HOST, self.port, timeout=60, source_address=(self.source, 0) if self.source else None)
            try:
                self.connection.request(method, path, body=data, headers=all_headers)
                response = self.connection.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        if expect and response.status not in expect:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:500]!r}")
        if response.headers.get("Content-Type", "").startswith(("application/json", "application/problem+json")) and raw:
            return response.status, json.loads(raw)
        return response.status, raw

    def json(self, method, path, body=None, token=None, **kwargs):
        return self.request(method, path, body=body, token=token, **kwargs)[1]

    def close(self):
        if self.connection:
            self.connection.close()


_local = threading.local()


def client(port):
    if getattr(_local, "client", None) is None or _local.client.port != port:
        _local.client = Client(port)
    return _local.client


# ---------------------------------------------------------------------------------------------
# The server process and what /proc says about it.

class Server:
    def __init__(self, binary, work, engine_url):
        self.binary, self.work = binary, work
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.env = dict(os.environ)
        for name in ("DATABASE_URL", "BOOKLINE_DB"):
            self.env.pop(name, None)
        self.env.update({
            "BOOKLINE_HOME": os.environ.get("BOOKLINE_HOME") or ROOT,
            "BOOKLINE_HOST": HOST,
            "BOOKLINE_PORT": str(self.port),
            "BOOKLINE_PUBLIC_URL": self.url,
            "BOOKLINE_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            # Verifies the Twilio webhooks; without an account SID and sender, SMS stay simulated.
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL") or "info",  # access log on, as in production
        })
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID", "SMTP_URL",
                     "EMAIL_FROM", "SLACK_WEBHOOK_URL", "ADMIN_EMAIL", "VOICE_AI_API_KEY"):
            self.env.pop(name, None)
        if engine_url:
            self.env["DATABASE_URL"] = engine_url
        else:
            self.env["BOOKLINE_DB"] = os.path.join(work, "bench.sqlite")
        self.twilio_token = self.env["TWILIO_AUTH_TOKEN"]
        self.process = None

    def start(self):
        self.out = open(os.path.join(self.work, "server.out.log"), "wb")
        self.err = open(os.path.join(self.work, "server.err.log"), "wb")
        self.process = subprocess.Popen([self.binary, "serve"], env=self.env, cwd=self.work, stdout=self.out,
                                        stderr=self.err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as probe:
                    probe.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if probe.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not answer /livez within 120 s:\n" + self.log_tail())

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def cli(self, *args, stdin=""):
        return subprocess.run([self.binary, *args], env=self.env, cwd=self.work, input=stdin, text=True,
                              capture_output=True, check=True).stdout

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def threads(self):
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines=40):
        try:
            with open(os.path.join(self.work, "server.err.log"), "rb") as err:
                return b"".join(err.readlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""

    def log_problems(self):
        """Log lines at error or critical level, and critical alerts, with a few examples."""
        count, examples = 0, []
        try:
            with open(os.path.join(self.work, "server.err.log"), "rb") as err:
                for raw in err:
                    line = raw.decode(errors="replace").rstrip()
                    parts = line.split(" ", 2)
                    if (len(parts) > 1 and parts[1] in ("error", "critical")) or "[CRITICAL ALERT]" in line:
                        count += 1
                        if len(examples) < 5:
                            examples.append(line[:400])
        except OSError:
            pass
        return {"count": count, "examples": examples}

    def stop(self):
        """SIGTERM (drain and stop), as a supervisor would; returns seconds to exit, or None when it
        had to be killed after 60 s."""
        stopped = None
        if self.process and self.process.poll() is None:
            started = time.monotonic()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
                stopped = round(time.monotonic() - started, 1)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for handle in (getattr(self, "out", None), getattr(self, "err", None)):
            if handle:
                handle.close()
        return stopped


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Sampler(threading.Thread):
    """Samples the server's RSS, open file descriptors and threads every `interval` seconds."""

    def __init__(self, server, interval):
        super().__init__(daemon=True)
        self.server, self.interval = server, interval
        self.samples, self.phase, self.died, self.starts = [], "start", False, {}
        self.stopping = threading.Event()
        self.started = time.monotonic()

    def sample(self):
        try:
            self.samples.append({"t": round(time.monotonic() - self.started, 2), "phase": self.phase,
                                 "rss_mb": round(self.server.rss_kb() / 1024, 1), "fds": self.server.fds(),
                                 "threads": self.server.threads()})
        except (OSError, ValueError):
            self.died = True

    def run(self):
        while not self.stopping.wait(self.interval):
            self.sample()

    def stop(self):
        self.stopping.set()
        self.join()

    def of(self, phase):
        return [sample for sample in self.samples if sample["phase"] == phase]


# ---------------------------------------------------------------------------------------------
# Event streams: one SSE connection per tenant, read by one thread with a selector.

class EventStreams:
    def __init__(self, port, tenants, count):
        self.port = port
        self.tenants = [tenants[index % len(tenants)] for index in range(count)]
        self.streams = []
        self.errors = []
        self.events = self.heartbeats = self.gaps = 0
        self.stopping = threading.Event()
        self.selector = selectors.DefaultSelector()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def newest(self, api, tenant):
        after = tenant["seq"]
        while True:
            page = api.json("GET", f"/api/events?limit=500&after={after}", token=tenant["key"])
            if not page["items"]:
                return after
            after = page["nextAfter"]

    def open(self):
        api = Client(self.port)
        for tenant in self.tenants:
            # Nothing runs while the streams open, so the stream starts right after this one.
            baseline = self.newest(api, tenant)
            sock = socket.create_connection((HOST, self.port), timeout=15)
            sock.sendall((f"GET /api/events/stream HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                          f"Authorization: Bearer {tenant['key']}\r\nAccept: text/event-stream\r\n\r\n").encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    raise RuntimeError("an event stream closed before its headers")
                head += chunk
            head, rest = head.split(b"\r\n\r\n", 1)
            status_line = head.split(b"\r\n", 1)[0].decode()
            if " 200 " not in status_line + " ":
                self.errors.append(f"stream for {tenant['id']}: {status_line}")
                sock.close()
                continue
            chunked = b"transfer-encoding: chunked" in head.lower()
            stream = {"tenant": tenant, "sock": sock, "chunked": chunked, "raw": b"", "text": b"", "last": baseline,
                      "first": None, "events": 0, "closed": False}
            sock.setblocking(False)
            self.streams.append(stream)
            self.feed(stream, rest)
            self.selector.register(sock, selectors.EVENT_READ, stream)
        api.close()
        self.thread.start()
        return self

    def feed(self, stream, data):
        """Undo chunked framing, then read SSE lines: `id: N` must follow the last id by one."""
        if stream["chunked"]:
            stream["raw"] += data
            while True:
                raw = stream["raw"]
                end = raw.find(b"\r\n")
                if end < 0:
                    break
                size = int(raw[:end].split(b";")[0] or b"0", 16)
                if size == 0:
                    stream["raw"] = b""
                    break
                if len(raw) < end + 2 + size + 2:
                    break
                stream["text"] += raw[end + 2:end + 2 + size]
                stream["raw"] = raw[end + 2 + size + 2:]
        else:
            stream["text"] += data
        *lines, stream["text"] = stream["text"].split(b"\n")
        for line in lines:
            if line.startswith(b"id: "):
                seq = int(line[4:])
                if seq != stream["last"] + 1:
                    self.gaps += 1
                    if self.gaps <= 10:
                        self.errors.append(f"stream for {stream['tenant']['id']}: id {seq} after {stream['last']}")
                if stream["first"] is None:
                    stream["first"] = seq
                stream["last"] = seq
            elif line.startswith(b"event: "):
                stream["events"] += 1
                self.events += 1
            elif line.startswith(b": heartbeat"):
                self.heartbeats += 1

    def run(self):
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                stream = key.data
                try:
                    data = stream["sock"].recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as error:
                    data, stream["error"] = b"", str(error)
                if not data:
                    if not self.stopping.is_set():
                        self.errors.append(f"stream for {stream['tenant']['id']} closed by the server "
                                           f"after {stream['events']} events {stream.get('error', '')}".rstrip())
                    stream["closed"] = True
                    self.selector.unregister(stream["sock"])
                    continue
                self.feed(stream, data)

    def caught_up(self, port, wait=10.0):
        """After the load: every open stream must reach its tenant's newest event."""
        api = Client(port)
        deadline = time.monotonic() + wait
        behind = []
        for stream in self.streams:
            if stream["closed"]:
                continue
            while True:
                newest = api.json("GET", "/api/events?limit=1&after=" + str(stream["last"]),
                                  token=stream["tenant"]["key"])
                # Events the stream has not shown yet (seen ones are excluded by `after`).
                if not newest["items"]:
                    break
                if time.monotonic() > deadline:
                    behind.append(stream["tenant"]["id"])
                    break
                time.sleep(0.2)
        api.close()
        for tenant in behind:
            self.errors.append(f"stream for {tenant} did not show every event within {wait:.0f} s of the load ending")
        return behind

    def stop(self):
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()
        for stream in self.streams:
            try:
                stream["sock"].close()
            except OSError:
                pass

    def report(self, seconds):
        return {"streams": len(self.streams), "events": self.events, "events_per_second": round(self.events / seconds, 1),
                "heartbeats": self.heartbeats, "gaps": self.gaps,
                "closed_early": sum(1 for stream in self.streams if stream["closed"]),
                "errors": len(self.errors) - min(self.gaps, 10) + self.gaps, "error_examples": self.errors[:10]}


# ---------------------------------------------------------------------------------------------
# Seeding.

def phone(kind, tenant_index, serial):
    """+447 numbers (Ofcom mobile ranges 071-075, 078) kept apart from wrk's (+4471-+4474 with
    a per-process prefix): 075 tenant(3) serial(5) for seeded leads, 078 ... for callers."""
    return f"+447{kind}{tenant_index:03d}{serial:05d}"


class Seed:
    def __init__(self, server, count, leads_per_tenant, run_id):
        self.server, self.count, self.leads_per_tenant, self.run_id = server, count, leads_per_tenant, run_id
        self.tenants = []
        self.webhooks = []
        self.pools = 0

    def run(self):
        started = time.monotonic()
        email = self.admin_email = f"loadtest-admin-{self.run_id}@bookline.test"
        self.server.cli("admin", "create", "--email", email, "--role", "admin", stdin=PASSWORD + "\n")
        self.admin = Client(self.server.port).json("POST", "/api/auth/login", {"email": email, "password": PASSWORD})["accessToken"]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            self.tenants = list(pool.map(self.sign_up, range(self.count)))
            list(pool.map(self.prepare, range(self.count)))
        self.webhooks = self.signed_webhooks()
        self.seconds = time.monotonic() - started
        return self

    def sign_up(self, index):
        source = f"127.0.0.{2 + index // SIGNUPS_PER_ADDRESS}"
        api = Client(self.server.port, source=source)
        body = {"businessName": f"Load Test {index:03d}", "email": f"owner-{self.run_id}-{index}@bookline.test",
                "phone": "07400 100123", "industry": "generic", "password": PASSWORD}
        signup = api.json("POST", "/api/clients/onboard", body, headers={"Idempotency-Key": f"loadtest-{self.run_id}-{index}"})
        api.close()
        return {"index": index, "id": signup["tenantId"], "key": signup["apiKey"]}

    def prepare(self, index):
        tenant = self.tenants[index]
        api, key = client(self.server.port), tenant["key"]
        # The tier's budget (free: 60 a minute) would make this a benchmark of 429s.
        api.json("PATCH", f"/api/admin/tenants/{tenant['id']}", {"rateLimitPerMinute": 1000000}, token=self.admin)
        tenant["voice_secret"] = secrets.token_hex(16)
        api.json("PUT", "/api/settings/calls", {"webhookSecret": tenant["voice_secret"], "currency": "GBP",
                                                "averageDealValue": 12000}, token=key)
        rows = ["name,phone,email,tags"] + [f"Seed {index}-{serial},{phone(5, index, serial)},seed{index}-{serial}@example.com,seed"
                                            for serial in range(self.leads_per_tenant)]
        imported = api.json("POST", "/api/leads/import", "\r\n".join(rows) + "\r\n", token=key, headers={"Content-Type": "text/csv"})
        assert imported["counts"]["imported"] == self.leads_per_tenant, imported["counts"]
        leads = api.json("GET", "/api/leads?limit=100&tag=seed", token=key)["items"]
        tenant["leads"] = [lead["id"] for lead in leads]
        now = datetime.datetime.now(datetime.timezone.utc)
        outcomes = ["booked", "interested", "callback", "not_interested", "no_answer", "voicemail", "busy", "completed"]
        for serial in range(10):
            started = (now - datetime.timedelta(days=serial * 3 % 28, hours=1 + serial)).strftime("%Y-%m-%dT%H:%M:%SZ")
            api.json("POST", "/api/calls", {"phone": phone(8, index, serial), "startedAt": started, "durationSeconds": 30 + serial * 7,
                                            "outcome": outcomes[serial % len(outcomes)],
                                            "cost": {"amount": 20 + serial, "currency": "GBP"},
                                            "externalId": f"seed-{index}-{serial}"}, token=key)
        tenant["messages"] = [api.json("POST", "/api/messages", {"to": phone(5, index, serial), "body": f"Load test message {serial}"},
                                       token=key)["id"] for serial in range(2)]
        tenant["seq"] = api.json("GET", "/api/events?limit=500", token=key)["nextAfter"]

    def signed_webhooks(self):
        """Twilio status callbacks for each tenant's messages (sent, then delivered: replays
        change nothing) and voice end-of-call reports from numbers that are not leads."""
        hooks = []
        for tenant in self.tenants:
            for message in tenant["messages"]:
                for status in ("sent", "delivered"):
                    path = f"/webhooks/twilio/{tenant['id']}/status?message={message}"
                    params = {"AccountSid": "AC" + "1" * 32, "MessageSid": "SM" + message.replace("-", ""),
                              "MessageStatus": status, "To": "+447400100123"}
                    signed = self.server.url + path + "".join(name + params[name] for name in sorted(params))
                    signature = base64.b64encode(hmac.new(self.server.twilio_token.encode(), signed.encode(), hashlib.sha1).digest()).decode()
                    hooks.append({"path": path, "body": urllib.parse.urlencode(params),
                                  "headers": {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}})
            for serial in range(2):
                body = json.dumps({"message": {
                    "type": "end-of-call-report", "endedReason": "customer-ended-call",
                    "call": {"id": f"loadtest-{tenant['index']}-{serial}", "customer": {"number": phone(8, tenant["index"], 500 + serial)}},
                    "startedAt": (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "durationSeconds": 61, "cost": 0.12, "analysis": {"structuredData": {"outcome": "callback"}}}}, separators=(",", ":"))
                signature = hmac.new(tenant["voice_secret"].encode(), body.encode(), hashlib.sha256).hexdigest()
                hooks.append({"path": f"/webhooks/voice/{tenant['id']}", "body": body,
                              "headers": {"Content-Type": "application/json", "X-Vapi-Signature": signature}})
        # Interleave tenants so consecutive requests hit different tenants.
        per_tenant = len(hooks) // len(self.tenants)
        return [hooks[t * per_tenant + k] for k in range(per_tenant) for t in range(len(self.tenants))]

    def status_pool(self, per_tenant=10):
        """Fresh leads (status `new`) for one run's status moves: a pool is never reused, so a
        move is never refused because an earlier run left the lead elsewhere."""
        self.pools += 1
        tag = f"pool{self.pools}"

        def make(tenant):
            api = client(self.server.port)
            rows = ["name,phone,tags"] + [f"Pool {tag}-{k},{phone(5, tenant['index'], 50000 + self.pools * 1000 + k)},{tag}"
                                          for k in range(per_tenant)]
            api.json("POST", "/api/leads/import", "\r\n".join(rows) + "\r\n", token=tenant["key"], headers={"Content-Type": "text/csv"})
            items = api.json("GET", f"/api/leads?limit=100&tag={tag}", token=tenant["key"])["items"]
            return [{"t": tenant["index"] + 1, "id": lead["id"]} for lead in items]

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            per = list(pool.map(make, self.tenants))
        # Round-robin over tenants.
        return [per[t][k] for k in range(per_tenant) for t in range(len(per)) if k < len(per[t])]


# ---------------------------------------------------------------------------------------------
# wrk.

def lua(value):
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}" for b in value.encode()) + '"'
    if isinstance(value, dict):
        return "{" + ",".join(f"[{lua(key)}]={lua(item)}" for key, item in value.items()) + "}"
    return "{" + ",".join(lua(item) for item in value) + "}"


def write_config(work, name, seed, pool):
    today = datetime.datetime.now(datetime.timezone.utc).date()
    config = {
        "tenants": [{"id": t["id"], "key": t["key"], "leads": t["leads"], "seq": t["seq"]} for t in seed.tenants],
        "status_pool": pool,
        "webhooks": seed.webhooks,
        "analytics_query": f"from={today - datetime.timedelta(days=29)}&to={today}",
        "import_rows": env_int("BENCH_IMPORT_ROWS", 20),
    }
    path = os.path.join(work, f"{name}.lua")
    with open(path, "w") as out:
        out.write("return " + lua(config) + "\n")
    return path


class Wrk:
    prefixes = iter(range(100, 500))

    def __init__(self, work, url, cls, config, connections, seconds, rate=0.0):
        self.cls, self.connections, self.rate = cls, connections, rate
        threads = min(env_int("WRK_THREADS", 1), connections)
        env = dict(os.environ, LOADTEST_CONFIG=config, LOADTEST_CLASS=cls, LOADTEST_RATE=str(rate),
                   LOADTEST_THREADS=str(threads), LOADTEST_PREFIX=str(next(Wrk.prefixes)),
                   LUA_PATH=os.path.join(LUA_DIR, "?.lua") + ";;")
        self.output = os.path.join(work, f"wrk-{cls}-{time.monotonic_ns()}.txt")
        self.handle = open(self.output, "wb")
        self.process = subprocess.Popen(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", os.environ.get("WRK_TIMEOUT") or "10s",
             "-s", os.path.join(LUA_DIR, f"{cls}.lua"), url], env=env, cwd=work, stdout=self.handle, stderr=subprocess.STDOUT)

    def wait(self):
        self.process.wait()
        self.handle.close()
        with open(self.output, "rb") as out:
            text = out.read().decode(errors="replace")
        for line in text.splitlines():
            if line.startswith("LOADTEST "):
                report = json.loads(line[len("LOADTEST "):])
                break
        else:
            raise RuntimeError(f"wrk ({self.cls}) printed no report:\n{text[-2000:]}")
        statuses = report["statuses"] if isinstance(report["statuses"], dict) else {}
        bad = {code: count for code, count in statuses.items() if not 200 <= int(code) < 400}
        socket_errors = sum(report["socket_errors"].values())
        return {
            "connections": self.connections, "rate_target": round(self.rate, 2) if self.rate else None,
            "requests": report["requests"], "seconds": round(report["seconds"], 2), "rps": round(report["rps"], 1),
            "latency_ms": {k: round(v, 2) for k, v in report["latency_ms"].items()},
            "statuses": statuses, "non_2xx_3xx": bad, "socket_errors": report["socket_errors"],
            "errors": sum(bad.values()) + socket_errors,
            "failure_examples": [{"status": int(line.split(" ", 1)[0]), "body": line.split(" ", 1)[1] if " " in line else ""}
                                 for line in (report["failures"] if isinstance(report["failures"], list) else [])],
        }

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------
# Phases.

# Connections per class in the mix. The paced classes have spare ones, so their pace holds
# while writes wait on each other.
MIX = {"reads": 12, "analytics": 4, "writes": 8, "webhooks": 4, "imports": 3}


def mix_connections():
    mix = dict(MIX)
    for part in filter(None, (os.environ.get("BENCH_MIX") or "").split(",")):
        name, count = part.split("=")
        if name not in mix:
            raise SystemExit(f"BENCH_MIX: unknown class {name!r} (known: {', '.join(mix)})")
        mix[name] = int(count)
    return {name: count for name, count in mix.items() if count > 0}


class Run:
    def __init__(self, mode):
        self.mode = mode
        self.binary = os.environ.get("BOOKLINE_BIN") or os.path.join(ROOT, ".build", "release", "bookline")
        self.engine_url = os.environ.get("BENCH_DATABASE_URL") or None
        self.engine = "postgres" if self.engine_url else "sqlite"
        self.work = tempfile.mkdtemp(prefix=f"bookline-loadtest-{mode}.")
        self.run_id = secrets.token_hex(4)
        self.server = Server(self.binary, self.work, self.engine_url)
        self.running = []
        self.result = {"kind": mode, "started_at": utc_now(), "engine": self.engine}

    # One phase: some wrk classes at once, optionally with event streams open.
    def phase(self, name, classes, seconds, streams=0, pool=None):
        config = write_config(self.work, name, self.seed, pool or [])
        self.sampler.phase = name
        listening = EventStreams(self.server.port, self.seed.tenants, streams).open() if streams else None
        cpu_server, cpu_load, started = self.server.cpu_seconds(), children_cpu(), time.monotonic()
        self.sampler.starts[name] = started - self.sampler.started
        self.running = [Wrk(self.work, self.server.url, cls, config, connections, seconds, rate)
                        for cls, (connections, rate) in classes.items()]
        reports = {wrk.cls: wrk.wait() for wrk in self.running}
        self.running = []
        elapsed = time.monotonic() - started
        self.sampler.phase = name + ":after"  # the load has stopped: not part of the phase's figures
        if not self.server.alive():
            raise RuntimeError(f"the server died during {name}:\n{self.server.log_tail()}")
        phase = {"seconds": round(elapsed, 1), "classes": reports,
                 "server_cpu_cores": round((self.server.cpu_seconds() - cpu_server) / elapsed, 2),
                 "load_generator_cpu_cores": round((children_cpu() - cpu_load) / elapsed, 2)}
        if listening:
            listening.caught_up(self.server.port)
            listening.stop()
            phase["sse"] = listening.report(elapsed)
        samples = self.sampler.of(name)
        if samples:
            phase["rss_mb"] = {"start": samples[0]["rss_mb"], "peak": max(s["rss_mb"] for s in samples), "end": samples[-1]["rss_mb"]}
            phase["fds"] = {"start": samples[0]["fds"], "peak": max(s["fds"] for s in samples), "end": samples[-1]["fds"]}
        phase["total_rps"] = round(sum(r["rps"] for r in reports.values()), 1)
        return phase

    def mixed_classes(self, rates=None):
        classes = {}
        for cls, connections in mix_connections().items():
            if rates is not None:
                rate = rates[cls]
            elif cls == "webhooks":
                rate = env_float("BENCH_WEBHOOK_RPS", 8)
            elif cls == "imports":
                rate = env_float("BENCH_IMPORT_RPS", 4)
            else:
                rate = 0.0
            if cls == "webhooks" and rate > WEBHOOK_BUDGET_PER_SECOND * 0.95:
                raise SystemExit(f"webhooks at {rate}/s would pass the per-address budget of 6000 a minute")
            classes[cls] = (connections, rate)
        return classes

    def setup(self):
        if self.mode == "soak" and env_int("SOAK_SECONDS", 600) < 3 * env_float("SOAK_SAMPLE_SECONDS", 10):
            raise SystemExit("SOAK_SECONDS must be at least 3 x SOAK_SAMPLE_SECONDS")
        if env_int("BENCH_SEED_LEADS", 100) < 1:
            raise SystemExit("BENCH_SEED_LEADS must be at least 1")
        if not os.access(self.binary, os.X_OK):
            raise SystemExit(f"no server binary at {self.binary} (set BOOKLINE_BIN or build with "
                             "swift build -c release --product bookline)")
        self.result["machine"] = machine(self.binary)
        log(f"loadtest: {self.mode} on {self.engine}, {self.result['machine']['cpus']} CPUs "
            f"({self.result['machine']['cpu_model']}), load average {self.result['machine']['load_average']}, work dir {self.work}")
        self.server.start()
        self.sampler = Sampler(self.server, env_float("SOAK_SAMPLE_SECONDS", 10) if self.mode == "soak" else 1.0)
        self.sampler.sample()
        self.sampler.start()
        tenants = env_int("BENCH_TENANTS", 50)
        if not 1 <= tenants <= 999:
            raise SystemExit("BENCH_TENANTS must be 1 to 999")
        streams = env_int("BENCH_SSE_STREAMS", tenants)
        if streams > tenants * 5:
            raise SystemExit("BENCH_SSE_STREAMS: at most 5 per tenant (the free tier's maxEventStreams)")
        self.streams = streams
        self.sampler.phase = "seed"
        self.seed = Seed(self.server, tenants, env_int("BENCH_SEED_LEADS", 100), self.run_id).run()
        self.result["seed"] = {"tenants": tenants, "leads_per_tenant": self.seed.leads_per_tenant, "calls_per_tenant": 10,
                               "messages_per_tenant": 2, "webhook_requests": len(self.seed.webhooks),
                               "seconds": round(self.seed.seconds, 1), "rss_mb_after": round(self.server.rss_kb() / 1024, 1)}
        log(f"loadtest: seeded {tenants} tenants in {self.seed.seconds:.1f} s")

    def bench(self):
        base_seconds = env_int("BENCH_BASE_SECONDS", 15)
        mixed_seconds = env_int("BENCH_MIXED_SECONDS", 60)
        connections = env_int("BENCH_CONNECTIONS", 32)
        self.result["config"] = {"base_seconds": base_seconds, "mixed_seconds": mixed_seconds, "base_connections": connections,
                                 "mix_connections": mix_connections(), "wrk_threads": env_int("WRK_THREADS", 1),
                                 "sse_streams": self.streams, "import_rows": env_int("BENCH_IMPORT_ROWS", 20),
                                 "log_level": self.server.env["LOG_LEVEL"]}
        phases = self.result["phases"] = {}
        log(f"loadtest: bare GET /livez, {base_seconds} s, {connections} connections")
        phases["bare"] = self.phase("bare", {"bare": (connections, 0)}, base_seconds)
        log(f"loadtest: GET /api/me, {base_seconds} s, {connections} connections")
        phases["me"] = self.phase("me", {"me": (connections, 0)}, base_seconds)
        log(f"loadtest: mixed, {mixed_seconds} s, {self.streams} event streams open")
        phases["mixed"] = self.phase("mixed", self.mixed_classes(), mixed_seconds, streams=self.streams,
                                     pool=self.seed.status_pool())
        bare = phases["bare"]["classes"]["bare"]["rps"]
        self.result["ratios"] = {
            "me_over_bare_rps": round(phases["me"]["classes"]["me"]["rps"] / bare, 3),
            "mixed_over_bare_rps": round(phases["mixed"]["total_rps"] / bare, 3),
            "me_p50_over_bare_p50": round(phases["me"]["classes"]["me"]["latency_ms"]["p50"]
                                          / max(phases["bare"]["classes"]["bare"]["latency_ms"]["p50"], 0.001), 2),
        }

    def soak(self):
        seconds = env_int("SOAK_SECONDS", 600)
        load = env_float("SOAK_LOAD", 0.5)
        capacity_source = os.environ.get("SOAK_CAPACITY") or "measure"
        phases = self.result["phases"] = {}
        if capacity_source == "measure":
            capacity_seconds = env_int("SOAK_CAPACITY_SECONDS", 20)
            log(f"loadtest: measuring capacity, mixed, {capacity_seconds} s")
            phases["capacity"] = self.phase("capacity", self.mixed_classes(), capacity_seconds, streams=self.streams,
                                            pool=self.seed.status_pool())
            capacity = {cls: report["rps"] for cls, report in phases["capacity"]["classes"].items()}
        elif capacity_source == "latest":
            capacity, path = latest_capacity(self.engine)
            log(f"loadtest: capacity from {path}")
            self.result["capacity_from"] = os.path.relpath(path, ROOT)
        else:
            raise SystemExit("SOAK_CAPACITY must be measure or latest")
        rates = {cls: round(capacity.get(cls, 0) * load, 2) for cls in mix_connections()}
        if any(rate <= 0 for rate in rates.values()):
            raise SystemExit(f"no capacity measured for some class: {capacity}")
        threshold = {"rss_growth_mb": env_float("SOAK_RSS_GROWTH_MB", 16), "rss_growth_percent": env_float("SOAK_RSS_GROWTH_PERCENT", 20),
                     "fd_growth": env_int("SOAK_FD_GROWTH", 16)}
        self.result["config"] = {"seconds": seconds, "load": load, "capacity_rps": capacity, "target_rps": rates,
                                 "target_total_rps": round(sum(rates.values()), 1), "mix_connections": mix_connections(),
                                 "wrk_threads": env_int("WRK_THREADS", 1), "sse_streams": self.streams,
                                 "sample_seconds": self.sampler.interval, "threshold": threshold,
                                 "log_level": self.server.env["LOG_LEVEL"]}
        if capacity_source == "latest":
            # Caches fill in the first seconds: keep that out of the soak's first minute.
            warmup = env_int("SOAK_WARMUP_SECONDS", 15)
            log(f"loadtest: warming up, {warmup} s at the soak's pace")
            phases["warmup"] = self.phase("warmup", self.mixed_classes(rates), warmup, pool=self.seed.status_pool())
        log(f"loadtest: soak, {seconds} s at {load:.0%} of capacity ({sum(rates.values()):.0f} req/s: "
            + ", ".join(f"{cls} {rate:g}" for cls, rate in rates.items()) + ")")
        phases["soak"] = self.phase("soak", self.mixed_classes(rates), seconds, streams=self.streams, pool=self.seed.status_pool())
        # Only samples taken under the soak's load (streams and wrk connected).
        self.result["growth"] = growth(self.sampler.of("soak"), self.sampler.starts["soak"], seconds, threshold)

    def stream_slots(self):
        """Right after the last phase closed its event streams: can the first tenant open its tier's
        five again at once? A stream the client closed should free its place then, not at its
        next heartbeat (BOOKLINE_EVENT_HEARTBEAT_SECONDS); an EventSource reconnecting at the cap
        is refused (429) until then."""
        tenant, probes = self.seed.tenants[0], []
        for _ in range(5):
            sock = socket.create_connection((HOST, self.server.port), timeout=10)
            sock.sendall((f"GET /api/events/stream HTTP/1.1\r\nHost: {HOST}\r\n"
                          f"Authorization: Bearer {tenant['key']}\r\n\r\n").encode())
            probes.append((sock, sock.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")))
        for sock, _ in probes:
            sock.close()
        refused = [line for _, line in probes if " 200 " not in line + " "]
        return {"closed_streams_of_tenant": sum(1 for i in range(self.streams) if i % len(self.seed.tenants) == 0),
                "reopened": len(probes) - len(refused), "refused": len(refused), "refused_status": refused[:1], "ok": not refused}

    def finish(self):
        if self.streams:
            self.result["stream_slot_check"] = self.stream_slots()
        self.sampler.stop()
        self.result["finished_at"] = utc_now()
        self.result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        self.result["samples"] = self.sampler.samples
        self.result["server_log_problems"] = self.server.log_problems()
        try:
            api = Client(self.server.port)  # a fresh token: the first may have expired (15 minutes)
            admin = api.json("POST", "/api/auth/login", {"email": self.seed.admin_email, "password": PASSWORD})["accessToken"]
            self.result["error_stats"] = api.json("GET", "/api/error-stats", token=admin)
        except Exception as error:  # reported, not fatal
            self.result["error_stats"] = {"unavailable": str(error)}
        requests = errors = 0
        for phase in self.result["phases"].values():
            for report in phase["classes"].values():
                requests += report["requests"]
                errors += report["errors"]
            errors += phase.get("sse", {}).get("errors", 0)
        limit = 0.0 if self.mode == "soak" else env_float("BENCH_MAX_ERROR_RATE", 0.001)
        self.result["errors"] = {"requests": requests, "errors": errors, "rate": errors / requests if requests else 0.0,
                                 "limit": limit}
        ok = self.result["errors"]["rate"] <= limit if self.mode == "bench" else errors == 0
        if self.mode == "soak":
            ok = ok and self.result["growth"]["ok"]
        self.result["ok"] = ok

    def save(self):
        folder = os.environ.get("BENCH_RESULTS_DIR") or os.path.join(ROOT, "bench", "results")
        os.makedirs(folder, exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = os.path.join(folder, f"{stamp}-{self.engine}{'-soak' if self.mode == 'soak' else ''}.json")
        with open(path, "w") as out:
            json.dump(self.result, out, indent=2, sort_keys=False)
            out.write("\n")
        return path

    def cleanup(self):
        for wrk in self.running:
            wrk.kill()
        self.server.stop()
        if os.environ.get("BENCH_KEEP_WORK"):
            log(f"loadtest: work dir kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def growth(samples, start, seconds, threshold):
    """RSS and open files in the soak's first minute against its last (a third of the soak each
    when it is shorter than three minutes). Unbounded growth: the last window's mean RSS above
    the first's by more than max(rss_growth_mb, rss_growth_percent of it), or the most open
    files by more than fd_growth."""
    window = min(60.0, seconds / 3)
    first = [s for s in samples if s["t"] - start <= window] or samples[:1]
    last = [s for s in samples if s["t"] - start >= seconds - window] or samples[-1:]
    rss_first, rss_last = statistics.mean(s["rss_mb"] for s in first), statistics.mean(s["rss_mb"] for s in last)
    fd_first, fd_last = max(s["fds"] for s in first), max(s["fds"] for s in last)
    allowed = max(threshold["rss_growth_mb"], rss_first * threshold["rss_growth_percent"] / 100)
    minutes = [(s["t"] - start) / 60 for s in samples]
    slope = None
    if len(samples) > 2 and max(minutes) > 0:
        mean_t, mean_r = statistics.mean(minutes), statistics.mean(s["rss_mb"] for s in samples)
        covariance = sum((t - mean_t) * (s["rss_mb"] - mean_r) for t, s in zip(minutes, samples))
        slope = covariance / sum((t - mean_t) ** 2 for t in minutes)
    result = {
        "window_seconds": window, "samples": len(samples),
        "rss_mb": {"first_window_mean": round(rss_first, 1), "last_window_mean": round(rss_last, 1),
                   "growth": round(rss_last - rss_first, 1), "allowed": round(allowed, 1),
                   "min": min(s["rss_mb"] for s in samples), "max": max(s["rss_mb"] for s in samples),
                   "slope_mb_per_minute": round(slope, 2) if slope is not None else None},
        "fds": {"first_window_max": fd_first, "last_window_max": fd_last, "growth": fd_last - fd_first,
                "allowed": threshold["fd_growth"], "min": min(s["fds"] for s in samples), "max": max(s["fds"] for s in samples)},
    }
    result["ok"] = rss_last - rss_first <= allowed and fd_last - fd_first <= threshold["fd_growth"]
    return result


def latest_capacity(engine):
    paths = sorted(p for p in glob.glob(os.path.join(os.environ.get("BENCH_RESULTS_DIR") or os.path.join(ROOT, "bench", "results"),
                                                   f"*-{engine}.json")))
    if not paths:
        raise SystemExit(f"SOAK_CAPACITY=latest: no bench result for {engine} in bench/results (run make bench)")
    with open(paths[-1]) as data:
        result = json.load(data)
    return {cls: report["rps"] for cls, report in result["phases"]["mixed"]["classes"].items()}, paths[-1]


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def first_line(command):
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=60)
        return (output.stdout or output.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


def machine(binary):
    info = {"cpus": len(os.sched_getaffinity(0)), "cpu_model": None, "mem_total_mb": None, "kernel": platform.release(),
            "os": None, "swift": first_line(["swift", "--version"]), "wrk": first_line(["wrk", "-v"]),
            "python": platform.python_version(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                info["mem_total_mb"] = int(line.split()[1]) // 1024
    try:
        with open("/etc/os-release") as release:
            info["os"] = dict(line.rstrip().split("=", 1) for line in release if "=" in line).get("PRETTY_NAME", "").strip('"')
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "Sources", "Package.swift", "migrations", "tenants"],
                           capture_output=True, text=True).stdout.strip()
    stat = os.stat(binary)
    info["git_commit"] = commit or None
    info["git_dirty_sources"] = bool(dirty)
    info["binary"] = {"path": binary, "bytes": stat.st_size,
                      "modified": datetime.datetime.fromtimestamp(stat.st_mtime, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "version": first_line([binary, "version"])}
    return info


# ---------------------------------------------------------------------------------------------
# Output.

def table(result):
    rows = []
    for phase_name, phase in result["phases"].items():
        for cls, report in phase["classes"].items():
            name = {"bare": "bare GET /livez", "me": "GET /api/me"}.get(cls, cls if phase_name in ("mixed",) else f"{phase_name}: {cls}")
            rows.append((name, report))
        if len(phase["classes"]) > 1:
            rows.append((f"{phase_name} total", {"rps": phase["total_rps"], "latency_ms": None,
                                                 "errors": sum(r["errors"] for r in phase["classes"].values()),
                                                 "requests": sum(r["requests"] for r in phase["classes"].values()),
                                                 "connections": sum(r["connections"] for r in phase["classes"].values())}))
    lines = [f"{'class':<22} {'conns':>5} {'pace/s':>7} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>6}"]
    for name, report in rows:
        latency = report["latency_ms"]
        cells = [f"{latency[p]:8.2f}" for p in ("p50", "p95", "p99")] if latency else [f"{'':>8}"] * 3
        pace = f"{report['rate_target']:g}" if report.get("rate_target") else "-"
        lines.append(f"{name:<22} {report['connections']:>5} {pace:>7} {report['rps']:>9.1f} {' '.join(cells)} "
                     f"{report['requests']:>9} {report['errors']:>6}")
    return "\n".join(lines)


def summary(result, path):
    print()
    print(f"Bookline {result['kind']}: {result['engine']}, {result['machine']['cpus']} CPUs ({result['machine']['cpu_model']}), "
          f"wrk {result['config']['wrk_threads']} thread(s) per class on the same machine, loopback")
    print(table(result))
    for name, phase in result["phases"].items():
        parts = [f"server {phase['server_cpu_cores']} cores, load generator {phase['load_generator_cpu_cores']} cores"]
        if "rss_mb" in phase:
            parts.append(f"RSS {phase['rss_mb']['start']} -> peak {phase['rss_mb']['peak']} MB, open fds {phase['fds']['start']} -> "
                         f"{phase['fds']['end']}")
        print(f"{name}: " + "; ".join(parts))
        if "sse" in phase:
            sse = phase["sse"]
            print(f"{name}: {sse['streams']} event streams, {sse['events']} events received ({sse['events_per_second']}/s), "
                  f"{sse['heartbeats']} heartbeats, {sse['gaps']} gaps, {sse['closed_early']} closed early")
    if "ratios" in result:
        ratios = result["ratios"]
        print(f"ratio to bare GET /livez: GET /api/me {ratios['me_over_bare_rps']:.1%} of its req/s (p50 x{ratios['me_p50_over_bare_p50']}), "
              f"mixed total {ratios['mixed_over_bare_rps']:.1%}")
    if "growth" in result:
        g = result["growth"]
        print(f"soak growth, first {g['window_seconds']:.0f} s vs last {g['window_seconds']:.0f} s: "
              f"RSS {g['rss_mb']['first_window_mean']} -> {g['rss_mb']['last_window_mean']} MB ({g['rss_mb']['growth']:+} MB, "
              f"allowed {g['rss_mb']['allowed']} MB; slope {g['rss_mb']['slope_mb_per_minute']} MB/min), "
              f"open fds {g['fds']['first_window_max']} -> {g['fds']['last_window_max']} ({g['fds']['growth']:+}, allowed {g['fds']['allowed']})")
    errors = result["errors"]
    print(f"errors: {errors['errors']} of {errors['requests']} requests ({errors['rate']:.3%}; limit {errors['limit']:.1%})")
    for name, phase in result["phases"].items():
        for cls, report in phase["classes"].items():
            if report["errors"]:
                print(f"  {name}/{cls}: statuses {report['non_2xx_3xx']}, socket errors {report['socket_errors']}")
                for example in report["failure_examples"][:3]:
                    print(f"    {example['status']}: {example['body'][:200]}")
        for example in phase.get("sse", {}).get("error_examples", []):
            print(f"  {name}/sse: {example}")
    slots = result.get("stream_slot_check")
    if slots and not slots["ok"]:
        print(f"warning: {slots['refused']} of 5 event streams refused ({slots['refused_status'][0]}) right after this tenant's "
              f"client closed {slots['closed_streams_of_tenant']}: a closed stream keeps its place until its next heartbeat")
    shutdown = result["shutdown"]
    print(f"{'warning: ' if shutdown['killed'] or shutdown['seconds'] > 5 else ''}server stop on SIGTERM: "
          f"{'killed after 60 s' if shutdown['killed'] else str(shutdown['seconds']) + ' s'}")
    problems = result["server_log_problems"]
    if problems["count"]:
        print(f"server log: {problems['count']} error/critical lines, e.g.")
        for line in problems["examples"][:3]:
            print(f"  {line}")
    print(f"result: {os.path.relpath(path, ROOT)}: {'ok' if result['ok'] else 'FAILED'}")


def markdown(path):
    """The README's table for one bench result (the newest when no path is given)."""
    with open(path) as data:
        result = json.load(data)
    phases, machine_info = result["phases"], result["machine"]
    print(f"{result['engine']}, {machine_info['cpus']} CPUs ({machine_info['cpu_model']}), load generator on the same machine, "
          f"{result['started_at'][:10]}, commit {(machine_info['git_commit'] or '')[:7]} ({os.path.basename(path)})")
    print()
    print("| Class | Connections | Requests/s | p50 ms | p95 ms | p99 ms | Errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    names = {"bare": "`GET /livez` alone (bare)", "me": "`GET /api/me` alone", "reads": "reads (mixed)",
             "analytics": "analytics summary (mixed)", "writes": "writes (mixed)", "webhooks": "webhooks (mixed, paced)",
             "imports": "CSV imports (mixed, paced)"}
    for phase in phases.values():
        for cls, report in phase["classes"].items():
            latency = report["latency_ms"]
            print(f"| {names.get(cls, cls)} | {report['connections']} | {report['rps']:,.0f} | {latency['p50']:.1f} | "
                  f"{latency['p95']:.1f} | {latency['p99']:.1f} | {report['errors']} |")
    mixed = phases.get("mixed")
    if mixed:
        errors = sum(r["errors"] for r in mixed["classes"].values())
        print(f"| mixed total | {sum(r['connections'] for r in mixed['classes'].values())} | {mixed['total_rps']:,.0f} | | | | {errors} |")
        print()
        sse = mixed.get("sse", {})
        print(f"During the mix: {sse.get('streams', 0)} event streams received {sse.get('events', 0):,} events "
              f"({sse.get('gaps', 0)} gaps); server RSS {mixed['rss_mb']['start']} -> {mixed['rss_mb']['peak']} MB peak; "
              f"`GET /api/me` reached {result['ratios']['me_over_bare_rps']:.0%} of the bare route's requests/s, "
              f"the mix {result['ratios']['mixed_over_bare_rps']:.0%}; errors {result['errors']['errors']} of "
              f"{result['errors']['requests']:,} requests.")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "table":
        folder = os.environ.get("BENCH_RESULTS_DIR") or os.path.join(ROOT, "bench", "results")
        paths = sys.argv[2:] or sorted(p for p in glob.glob(os.path.join(folder, "*.json")) if not p.endswith("-soak.json"))[-1:]
        if not paths:
            raise SystemExit("no bench result yet (make bench)")
        markdown(paths[0])
        return
    if len(sys.argv) != 2 or sys.argv[1] not in ("bench", "soak"):
        raise SystemExit("usage: scripts/loadtest.py bench|soak|table [result.json]")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    run = Run(sys.argv[1])
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run.setup()
        run.bench() if run.mode == "bench" else run.soak()
        run.finish()
        stopped = run.server.stop()
        run.result["shutdown"] = {"seconds": stopped, "killed": stopped is None}
        if stopped is None:
            run.result["ok"] = False
        run.result["wall_seconds"] = round(time.monotonic() - started, 1)
        path = run.save()
        summary(run.result, path)
    except Exception:
        tail = run.server.log_tail() if run.server.process else ""
        if tail:
            log("loadtest: failed; the server's last log lines:\n" + tail)
        raise
    finally:
        run.cleanup()
    print(f"wall time {time.monotonic() - started:.0f} s")
    sys.exit(0 if run.result["ok"] else 1)


if __name__ == "__main__":
    main()
