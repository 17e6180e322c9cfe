"""Stand-ins for Bookline's providers, run in the test process (stdlib only), with scripted faults.

FakeTwilio   the Messages REST API: counts every POST per message marker, answers 201 with an
             SM sid like Twilio, or a scripted fault (500, 429, garbage 200, hang, 400 + error
             code), and calls the message's StatusCallback back (signed like Twilio) as Twilio does.
FakeSMTP     a minimal SMTP server: keeps every accepted mail; scripted 451 answers per recipient.
FakeSlack    an incoming webhook: keeps every post; scripted 500 / 429 answers.
"""
import base64
import collections
import email.utils
import hashlib
import hmac
import json
import re
import secrets
import socket
import socketserver
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = re.compile(r"\[(m-[A-Za-z0-9_-]+)\]")


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that hung up (a killed server) is expected here


def twilio_signature(token, url, params):
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1 of the URL and the sorted POST parameters."""
    data = url + "".join(k + v for k, v in sorted(params.items()))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class FakeTwilio:
    def __init__(self, account_sid, auth_token, delay=0.0):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.delay = delay                      # seconds per accepted POST (slows the outbox down)
        self.lock = threading.Lock()
        self.posts = collections.Counter()      # marker -> POSTs received
        self.created = collections.defaultdict(list)  # marker -> sids answered with 201
        self.messages = []                      # what GET Messages.json lists: every created message
        self.lookups = 0
        self.faults = {}                        # marker -> list of actions for its next POSTs
        self.callbacks_sent = collections.Counter()   # marker -> callbacks the server accepted
        self.callback_failures = 0
        self.callback_refusals = collections.Counter()  # HTTP status -> callbacks the server refused
        self.callback_delay = 1.0
        self.callback_retry_seconds = 75.0
        self.unmarked = 0
        self.bad_auth = 0
        # Hold one message: the first accepted once `hold_after` exist is created (it has a sid)
        # but answered only after `hold_seconds`, so a kill can land while Twilio has it and
        # Bookline does not know its sid yet.
        self.hold_after = None
        self.hold_seconds = 5.0
        self.held = threading.Event()
        self.held_marker = None
        handler = self._handler()
        self.server = _Quiet(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def script(self, marker, actions):
        with self.lock:
            self.faults[marker] = list(actions)

    def total_created(self):
        with self.lock:
            return sum(len(v) for v in self.created.values())

    def snapshot(self):
        with self.lock:
            return dict(self.posts), {k: list(v) for k, v in self.created.items()}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status, body, content_type="application/json"):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                # Twilio's message list, newest first, filtered by To (how Bookline asks whether a
                # message handed over just before a crash went out).
                url = urllib.parse.urlsplit(self.path)
                if url.path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                    return self._answer(404, json.dumps({"code": 20404, "message": "not found", "status": 404}))
                expected = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, json.dumps({"code": 20003, "message": "Authenticate", "status": 401}))
                to = dict(urllib.parse.parse_qsl(url.query)).get("To")
                with fake.lock:
                    fake.lookups += 1
                    items = [m for m in reversed(fake.messages) if to is None or m["to"] == to][:50]
                return self._answer(200, json.dumps({"messages": items, "page": 0, "page_size": 50}))

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length).decode()
                form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
                path = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
                if self.path != path:
                    return self._answer(404, json.dumps({"code": 20404, "message": "not found", "status": 404}))
                expected = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    with fake.lock:
                        fake.bad_auth += 1
                    return self._answer(401, json.dumps({"code": 20003, "message": "Authenticate", "status": 401}))
                match = MARKER.search(form.get("Body", ""))
                marker = match.group(1) if match else None
                with fake.lock:
                    if marker is None:
                        fake.unmarked += 1
                        marker = "unmarked"
                    fake.posts[marker] += 1
                    queue = fake.faults.get(marker)
                    action = queue.pop(0) if queue else "201"
                if action == "500":
                    return self._answer(500, json.dumps({"code": 20500, "message": "Internal Server Error", "status": 500}))
                if action == "429":
                    return self._answer(429, json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429}))
                if action == "garbage":
                    # A 200 that is not Twilio's JSON (a captive proxy, a truncated body): nothing was created.
                    return self._answer(200, "<html><body>Gateway says hello</body></html>", "text/html")
                if action == "hang":
                    time.sleep(12)  # longer than the driver's 10 s timeout; then hang up, nothing created
                    self.close_connection = True
                    return
                if action.startswith("400:"):
                    code = int(action[4:])
                    return self._answer(400, json.dumps({"code": code, "message": "refused", "status": 400,
                                                         "more_info": f"https://www.twilio.com/docs/errors/{code}"}))
                if fake.delay:
                    time.sleep(fake.delay)
                sid = "SM" + secrets.token_hex(16)
                hold = False
                with fake.lock:
                    if fake.hold_after is not None and not fake.held.is_set() \
                            and sum(len(v) for v in fake.created.values()) >= fake.hold_after:
                        hold = True
                        fake.held_marker = marker
                    fake.created[marker].append(sid)
                    fake.messages.append({"sid": sid, "to": form.get("To", ""), "from": form.get("From"),
                                          "body": form.get("Body", ""), "status": "queued",
                                          "date_created": email.utils.formatdate(usegmt=False)})
                callback = form.get("StatusCallback")
                params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": fake.account_sid, "MessageStatus": "delivered",
                          "SmsStatus": "delivered", "To": form.get("To", ""), "From": form.get("From", "")}
                if callback and fake.callback_delay is not None:
                    threading.Thread(target=fake._callback, args=(callback, params, marker), daemon=True).start()
                if hold:
                    fake.held.set()
                    time.sleep(fake.hold_seconds)
                self._answer(201, json.dumps({
                    "sid": sid, "status": "queued", "account_sid": fake.account_sid, "to": form.get("To"),
                    "from": form.get("From"), "body": form.get("Body"), "num_segments": "1", "direction": "outbound-api",
                    "api_version": "2010-04-01", "error_code": None, "error_message": None,
                }))

        return Handler

    def _callback(self, url, params, marker):
        """Reports delivery to the StatusCallback, signed; retries while the server is down."""
        time.sleep(self.callback_delay)
        body = urllib.parse.urlencode(params).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": twilio_signature(self.auth_token, url, params)}
        deadline = time.time() + self.callback_retry_seconds
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="POST"), timeout=10) as r:
                    if r.status < 300:
                        with self.lock:
                            self.callbacks_sent[marker] += 1
                        return
            except urllib.error.HTTPError as error:
                with self.lock:
                    self.callback_refusals[error.code] += 1
                if error.code != 429:
                    with self.lock:
                        self.callback_failures += 1
                    return
                # Twilio itself would drop it here; the fake keeps trying so the crash checks stay
                # about the crash (the refusals are reported on their own).
                time.sleep(1.5)
            except OSError:
                pass
            if time.time() > deadline:
                with self.lock:
                    self.callback_failures += 1
                return
            time.sleep(0.5)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeSMTP:
    """Enough SMTP for libcurl: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT (no STARTTLS offered)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.accepted = []              # (rcpts, data)
        self.faults = {}                # recipient -> list of actions ("451") for its next transactions
        self.transactions = collections.Counter()  # recipient -> DATA attempts
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def reply(self, line):
                self.wfile.write((line + "\r\n").encode())
                self.wfile.flush()

            def handle(self):
                self.reply("220 fake-smtp.test ESMTP ready")
                rcpts = []
                while True:
                    try:
                        line = self.rfile.readline()
                    except OSError:
                        return
                    if not line:
                        return
                    command = line.decode("utf-8", "replace").strip()
                    verb = command[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        if verb == "EHLO":
                            self.reply("250-fake-smtp.test")
                            self.reply("250-8BITMIME")
                            self.reply("250 SIZE 10485760")
                        else:
                            self.reply("250 fake-smtp.test")
                    elif verb == "MAIL":
                        rcpts = []
                        self.reply("250 2.1.0 OK")
                    elif verb == "RCPT":
                        match = re.search(r"<([^>]*)>", command)
                        rcpts.append(match.group(1).lower() if match else "")
                        self.reply("250 2.1.5 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        chunks = []
                        while True:
                            data_line = self.rfile.readline()
                            if not data_line or data_line in (b".\r\n", b".\n"):
                                break
                            chunks.append(data_line)
                        action = None
                        with fake.lock:
                            for rcpt in rcpts:
                                fake.transactions[rcpt] += 1
                                queue = fake.faults.get(rcpt)
                                if queue:
                                    action = queue.pop(0)
                            if action is None:
                                fake.accepted.append((list(rcpts), b"".join(chunks).decode("utf-8", "replace")))
                        if action == "451":
                            self.reply("451 4.3.0 Temporary local problem, try again later")
                        else:
                            self.reply("250 2.0.0 OK queued")
                    elif verb == "RSET":
                        rcpts = []
                        self.reply("250 OK")
                    elif verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 5.5.2 Command not recognised")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def script(self, rcpt, actions):
        with self.lock:
            self.faults[rcpt.lower()] = list(actions)

    def accepted_for(self, rcpt):
        with self.lock:
            return [data for rcpts, data in self.accepted if rcpt.lower() in rcpts]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeSlack:
    def __init__(self):
        self.lock = threading.Lock()
        self.posts = []          # (status answered, text)
        self.faults = []         # statuses for the next posts, e.g. [500, 429]
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    text = json.loads(body).get("text", "")
                except ValueError:
                    text = body.decode("utf-8", "replace")
                with fake.lock:
                    status = fake.faults.pop(0) if fake.faults else 200
                    fake.posts.append((status, text))
                answer = b"ok" if status == 200 else b"server_error" if status >= 500 else b"rate_limited"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(answer)

        self.server = _Quiet(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/services/T000/B000/crash"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.posts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
