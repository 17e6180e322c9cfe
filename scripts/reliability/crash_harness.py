"""Shared pieces of the reliability scripts: checks, the server process, the HTTP client, SQL."""
import base64
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("BOOKLINE_BIN") or os.path.join(ROOT, ".build", "debug", "bookline")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.started = time.time()

    def check(self, name, condition, detail=None):
        if condition:
            self.passed += 1
            print(f"  ok   {name}", flush=True)
        else:
            self.failed += 1
            self.failures.append(name)
            print(f"  FAIL {name}" + (f"\n         {detail}" if detail else ""), flush=True)
        return bool(condition)

    @staticmethod
    def note(text):
        print(f"  note {text}", flush=True)

    def section(self, text):
        print(f"-- {text} [{time.time() - self.started:.0f} s]", flush=True)


def http(base, method, path, body=None, key=None, headers=None, raw=None, content_type=None, timeout=60):
    """(status, headers, parsed body); status 0 and the error text when the connection fails."""
    all_headers = dict(headers or {})
    data = None
    if raw is not None:
        data = raw
        all_headers["Content-Type"] = content_type or "text/csv"
    elif body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    if key:
        all_headers["Authorization"] = "Bearer " + key
    request = urllib.request.Request(base + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, reply_headers, payload = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, reply_headers, payload = error.code, dict(error.headers), error.read()
    except (OSError, ValueError) as error:  # refused, reset, timed out, malformed answer
        return 0, {}, f"{type(error).__name__}: {error}"
    text = payload.decode("utf-8", "replace")
    try:
        return status, reply_headers, json.loads(text) if text else {}
    except ValueError:
        return status, reply_headers, text


class Server:
    """`bookline serve` in its own process group, so SIGKILL hits exactly it."""

    def __init__(self, name, env, port, work, preexec=None):
        self.name = name
        self.env = env
        self.port = port
        self.work = work
        self.base = f"http://127.0.0.1:{port}"
        self.proc = None
        self.preexec = preexec
        self.starts = 0

    def start(self, timeout=45):
        self.starts += 1
        log = os.path.join(self.work, f"{self.name}.{self.starts}.log")
        self.log = log
        out = open(log, "wb")
        self.proc = subprocess.Popen([BIN, "serve"], env=self.env, cwd=self.work, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=self.preexec)
        out.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} at start; see {log}:\n" + tail(log))
            status, _, _ = http(self.base, "GET", "/livez", timeout=2)
            if status == 200:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s; see {log}:\n" + tail(log))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None

    def stop(self, timeout=30):
        """SIGTERM (graceful); returns the exit status, or None if it had to be killed."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None
        self.proc = None
        return status


def tail(path, lines=30):
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")
    except OSError:
        return ""


def master_key():
    return base64.b64encode(os.urandom(32)).decode()


class Storage:
    """The database the server under test uses: a SQLite file, or a fresh PostgreSQL database
    created for this run from BOOKLINE_TEST_DATABASE_URL (dropped afterwards)."""

    def __init__(self, work):
        self.admin_url = os.environ.get("BOOKLINE_TEST_DATABASE_URL") or None
        self.sqlite_path = None
        self.url = None
        self.dbname = None
        if self.admin_url:
            if not shutil.which("psql"):
                raise RuntimeError("BOOKLINE_TEST_DATABASE_URL is set but psql is not installed")
            self.dbname = f"bookline_crash_{os.getpid()}_{int(time.time())}"
            self._psql(self.admin_url, f'CREATE DATABASE "{self.dbname}"')
            parts = urllib.parse.urlsplit(self.admin_url)
            self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.dbname))
        else:
            self.sqlite_path = os.path.join(work, "data", "bookline.sqlite")

    @property
    def engine(self):
        return "postgres" if self.url else "sqlite"

    def env(self):
        return {"DATABASE_URL": self.url} if self.url else {"BOOKLINE_DB": self.sqlite_path}

    @staticmethod
    def _psql(url, sql):
        result = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return [line.split("\t") for line in result.stdout.splitlines() if line != ""]

    def query(self, sql):
        """Rows as lists of strings (SQLite values are str()-ed the same way)."""
        if self.url:
            return self._psql(self.url, sql)
        connection = sqlite3.connect(self.sqlite_path, timeout=30)
        try:
            cursor = connection.execute(sql)
            rows = [[("" if v is None else str(v)) for v in row] for row in cursor.fetchall()]
            connection.commit()
            return rows
        finally:
            connection.close()

    def scalar(self, sql):
        rows = self.query(sql)
        return rows[0][0] if rows and rows[0] else None

    def past(self):
        """A timestamp literal long in the past, in the engine's storage format."""
        return "TIMESTAMPTZ '2000-01-01 00:00:00+00'" if self.url else "0"

    def drop(self):
        if self.dbname:
            try:
                self._psql(self.admin_url, f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            except Exception as error:  # noqa: BLE001 - best effort at exit
                print(f"  note could not drop {self.dbname}: {error}", flush=True)


def quote(text):
    if not re.fullmatch(r"[A-Za-z0-9_.:+@-]*", text):
        raise ValueError(f"refusing to put {text!r} in SQL")
    return "'" + text + "'"
