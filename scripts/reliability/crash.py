"""Crash and fault tests of the real `bookline` binary (see scripts/reliability/crash).

kill -9 the server while a 50k-row background import runs, while a request with an
Idempotency-Key runs, while 1,000 SMS go to a fake Twilio and while jobs run; restart and check
nothing is lost, doubled or stuck. Then provider faults (Twilio 500 / 429 / garbage / timeout /
400, SMTP 451, Slack 500 / 429), a full disk under SQLite, and `bookline audit verify`.

Environment: BOOKLINE_BIN (default .build/debug/bookline), BOOKLINE_TEST_DATABASE_URL (run on a
fresh PostgreSQL database created next to it), CRASH_PHASES (comma list, default all:
import,idempotency,messages,jobs,faults,diskfull), CRASH_KEEP=1 keeps the work folder,
CRASH_NO_MOUNT=1 tries the RLIMIT_FSIZE fallback for the full disk instead of a tmpfs,
CRASH_OPEN=inflight-no-callback prints that known-open scenario as open instead of running it.
"""
import collections
import concurrent.futures
import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zoneinfo

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_fakes import FakeSlack, FakeSMTP, FakeTwilio, free_port  # noqa: E402
from crash_harness import BIN, ROOT, Checks, Server, Storage, http, master_key, quote, tail  # noqa: E402

PHASES = [p for p in os.environ.get("CRASH_PHASES", "import,idempotency,messages,jobs,faults,diskfull").split(",") if p]
IMPORT_ROWS = 50_000
MESSAGES = 1_000
JOBS = 20
STALE_IMPORT_SECONDS = 120  # LeadImportStore.staleAfter

checks = Checks()
check, note, section = checks.check, checks.note, checks.section
started = time.time()
work = tempfile.mkdtemp(prefix="bookline-crash.")
os.makedirs(os.path.join(work, "data"), exist_ok=True)
servers = []
mounts = []
storage = None
fakes = []


def cleanup():
    for server in servers:
        server.kill9()
    for mount in mounts:
        subprocess.run(["umount", "-l", mount], capture_output=True)
    for fake in fakes:
        try:
            fake.close()
        except Exception:  # noqa: BLE001
            pass
    if storage is not None:
        storage.drop()
    if os.environ.get("CRASH_KEEP") == "1":
        print(f"crash: work folder kept at {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def on_signal(signum, frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, on_signal)


def daytime_zone():
    """A time zone where it is 09:00-19:00 now, so SMS are not held for quiet hours (21:00-08:00)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    for name in ["Europe/London", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "America/Los_Angeles",
                 "Asia/Dubai", "Pacific/Auckland", "America/Sao_Paulo", "Asia/Singapore", "Pacific/Honolulu", "Europe/Moscow",
                 "Asia/Bangkok", "America/Chicago", "Atlantic/Azores", "America/Denver"]:
        if 9 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 19:
            return name
    return "Europe/London"


def iso(seconds_from_now):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)


class Bookline:
    """One server under test and the accounts made on it."""

    def __init__(self, env, name="serve"):
        self.env = env
        self.server = Server(name, env, int(env["BOOKLINE_PORT"]), work)
        servers.append(self.server)
        self.admin = None

    @property
    def base(self):
        return self.server.base

    def api(self, method, path, body=None, key=None, **kwargs):
        return http(self.base, method, path, body=body, key=key, **kwargs)

    def cli(self, *args, stdin=None, extra=None, timeout=120):
        env = dict(self.env, **(extra or {}))
        return subprocess.run([BIN, *args], env=env, cwd=work, input=stdin, capture_output=True, text=True, timeout=timeout)

    def restart(self):
        start = time.time()
        self.server.start()
        return time.time() - start

    def login_admin(self):
        email, password = f"ops-{os.getpid()}@bookline.test", "crash-admin-password-42"
        result = self.cli("admin", "create", "--email", email, "--role", "admin", stdin=password + "\n")
        if result.returncode != 0:
            raise RuntimeError(f"admin create failed: {result.stderr.strip()}")
        status, _, body = self.api("POST", "/api/auth/login", {"email": email, "password": password})
        if status != 200:
            raise RuntimeError(f"admin login failed: {status} {body}")
        self.admin = body["accessToken"]

    def tenant(self, name, tier="enterprise"):
        email = f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}-{os.getpid()}@crash.example"
        status, _, body = self.api("POST", "/api/clients/onboard", {
            "businessName": name, "email": email, "phone": "07400 100123", "industry": "generic",
            "password": "crash-owner-password-42"})
        if status != 201:
            raise RuntimeError(f"onboard {name} failed: {status} {body}")
        key, tenant_id = body["apiKey"], body["tenantId"]
        if self.admin:
            status, _, reply = self.api("PATCH", f"/api/admin/tenants/{tenant_id}", {"tier": tier, "rateLimitPerMinute": 1_000_000},
                                        key=self.admin)
            if status != 200:
                raise RuntimeError(f"re-tier {name} failed: {status} {reply}")
        status, _, reply = self.api("PATCH", "/api/tenant", {"timezone": ZONE}, key=key)
        if status != 200:
            raise RuntimeError(f"timezone for {name} failed: {status} {reply}")
        return {"name": name, "key": key, "id": tenant_id, "email": email, "slug": body.get("slug")}


ZONE = daytime_zone()
SID = "AC" + "c" * 32
TOKEN = "crash" + os.urandom(12).hex()


def base_env(port, twilio, smtp, slack):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BOOKLINE_", "TWILIO_", "SMTP_", "SLACK_", "DATABASE_URL", "RATE_LIMIT", "GOOGLE_", "VOICE_AI"))
           and k not in ("LOG_LEVEL", "EMAIL_FROM", "ADMIN_EMAIL")}
    env.update({
        "BOOKLINE_HOME": os.environ.get("BOOKLINE_HOME", ROOT), "BOOKLINE_MASTER_KEY": MASTER_KEY,
        "BOOKLINE_PORT": str(port), "BOOKLINE_PUBLIC_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "info",
        "BOOKLINE_SENDER_INTERVAL": "0.1", "BOOKLINE_WORKER_INTERVAL": "0.1", "BOOKLINE_JOB_LEASE_SECONDS": "4",
        "BOOKLINE_TEST_JOB_KINDS": "1",
        "TWILIO_API_BASE_URL": twilio.url, "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": "+447400900900",
        "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "EMAIL_FROM": "bookings@crash.test", "ADMIN_EMAIL": "alerts@crash.test",
        "SLACK_WEBHOOK_URL": slack.url,
    })
    return env


MASTER_KEY = os.environ.get("BOOKLINE_MASTER_KEY") or master_key()


# --------------------------------------------------------------------------------------------
# (a) kill -9 during a 50k-row background import


def phase_import(app, state):
    section(f"kill -9 during a {IMPORT_ROWS:,}-row background import")
    tenant = app.tenant("Crash Import Ltd")
    state["import_tenant"] = tenant
    csv = "name,phone,email\n" + "".join(f"Lead {i},0740{i:07d},lead{i}@crash.example\n" for i in range(IMPORT_ROWS))
    state["import_csv"] = csv
    began = time.time()
    status, _, body = app.api("POST", "/api/leads/import", raw=csv.encode(), key=tenant["key"], timeout=120)
    if not check("a 50k-row import is accepted to run in the background (202)", status == 202, f"{status} {str(body)[:300]}"):
        return
    import_id = body["id"]
    state["import_id"] = import_id
    last = None
    while time.time() - began < 120:
        status, _, last = app.api("GET", f"/api/leads/imports/{import_id}", key=tenant["key"], timeout=10)
        if status == 200 and (last["processed"] >= 10_000 or last["status"] != "running"):
            break
        time.sleep(0.05)
    processed = last.get("processed", -1) if isinstance(last, dict) else -1
    app.server.kill9()
    state["import_killed_at"] = time.time()
    print(f"       killed at {processed:,}/{IMPORT_ROWS:,} rows ({time.time() - began:.1f} s after the POST)", flush=True)
    if not check("the kill landed mid-import", isinstance(last, dict) and last.get("status") == "running" and 0 < processed < IMPORT_ROWS,
                 f"last progress: {str(last)[:300]}"):
        app.restart()
        return
    print(f"       restarted in {app.restart():.1f} s", flush=True)
    status, _, record = app.api("GET", f"/api/leads/imports/{import_id}", key=tenant["key"])
    state["import_after_restart"] = record
    leads = int(storage.scalar(f"SELECT COUNT(*) FROM leads WHERE tenant_id = {quote(tenant['id'])}"))
    dupes = int(storage.scalar(f"SELECT COUNT(*) - COUNT(DISTINCT phone_e164) FROM leads WHERE tenant_id = {quote(tenant['id'])}"))
    note(f"right after the restart the import says status={record.get('status')} processed={record.get('processed')} "
         f"imported={record.get('counts', {}).get('imported')}; {leads:,} leads in the database")
    check("the import's recorded progress equals the leads committed (whole batches)",
          record.get("processed") == leads == record.get("counts", {}).get("imported") and leads % 5000 == 0,
          f"processed={record.get('processed')} imported={record.get('counts', {}).get('imported')} leads={leads}")
    check("no duplicate leads after the crash", dupes == 0, f"{dupes} duplicate phones")
    check("the import is not reported as completed after the crash", record.get("status") != "completed", str(record)[:300])
    if record.get("status") == "running":
        note(f"it stays 'running' until {STALE_IMPORT_SECONDS} s pass without progress (LeadImportStore.staleAfter); checked at the end")


def phase_import_final(app, state):
    """After the stale window: the killed import is marked, and sending the file again completes it."""
    if "import_id" not in state or "import_killed_at" not in state:
        return
    section("the killed import, after the stale window")
    tenant, import_id = state["import_tenant"], state["import_id"]
    wait = state["import_killed_at"] + STALE_IMPORT_SECONDS + 2 - time.time()
    if wait > 0:
        print(f"       waiting {wait:.0f} s for the {STALE_IMPORT_SECONDS} s stale window", flush=True)
        time.sleep(wait)
    status, _, record = app.api("GET", f"/api/leads/imports/{import_id}", key=tenant["key"])
    leads = int(storage.scalar(f"SELECT COUNT(*) FROM leads WHERE tenant_id = {quote(tenant['id'])}"))
    check("the killed import is marked interrupted or failed with a reason (not running, not completed)",
          record.get("status") in ("interrupted", "failed") and bool(record.get("error")), str(record)[:400])
    if record.get("error"):
        note(f"its reason: {record.get('error')!r}")
    check("its processed count still equals the leads in the database", record.get("processed") == leads,
          f"processed={record.get('processed')} leads={leads}")
    stuck = storage.scalar("SELECT COUNT(*) FROM lead_imports WHERE status = 'running'")
    note(f"lead_imports rows still saying 'running' in the database: {stuck} (the API derives 'interrupted' from their age)")
    if "sync_import_tenant" in state:
        sync = state["sync_import_tenant"]
        status, _, page = app.api("GET", "/api/leads/imports", key=sync["key"])
        items = page.get("items", []) if isinstance(page, dict) else []
        check("the killed synchronous import is not reported as running either",
              bool(items) and all(i["status"] != "running" for i in items), str([(i["status"], i.get("error")) for i in items])[:300])

    # Resume: the same file again imports the rest; the rows already in are skipped, none doubled.
    before = leads
    status, _, body = app.api("POST", "/api/leads/import", raw=state["import_csv"].encode(), key=tenant["key"], timeout=120)
    if not check("sending the same file again is accepted (202)", status == 202, f"{status} {str(body)[:300]}"):
        return
    again = body["id"]
    record = wait_for(lambda: (lambda r: r[2] if r[0] == 200 and r[2]["status"] != "running" else None)(
        app.api("GET", f"/api/leads/imports/{again}", key=tenant["key"])), 240, 0.5) or {}
    leads = int(storage.scalar(f"SELECT COUNT(*) FROM leads WHERE tenant_id = {quote(tenant['id'])}"))
    dupes = int(storage.scalar(f"SELECT COUNT(*) - COUNT(DISTINCT phone_e164) FROM leads WHERE tenant_id = {quote(tenant['id'])}"))
    counts = record.get("counts", {})
    check("re-importing the file completes the interrupted import: all 50,000 leads, none doubled",
          record.get("status") == "completed" and leads == IMPORT_ROWS and dupes == 0
          and counts.get("imported") == IMPORT_ROWS - before and counts.get("skipped_duplicate") == before,
          f"status={record.get('status')} leads={leads} dupes={dupes} counts={counts} before={before}")


# --------------------------------------------------------------------------------------------
# kill -9 during a request carrying an Idempotency-Key


def phase_idempotency(app, state):
    section("kill -9 during a request with an Idempotency-Key (a 5,000-row synchronous import)")
    tenant = app.tenant("Crash Idempotency Ltd")
    state["sync_import_tenant"] = tenant
    csv = ("name,phone\n" + "".join(f"Sync {i},0744{i:07d}\n" for i in range(5000))).encode()
    key = f"crash-sync-import-{os.getpid()}"
    result = {}

    def post():
        result["first"] = app.api("POST", "/api/leads/import", raw=csv, key=tenant["key"], headers={"Idempotency-Key": key}, timeout=60)

    thread = threading.Thread(target=post)
    thread.start()
    seen = wait_for(lambda: storage.scalar(f"SELECT COUNT(*) FROM lead_imports WHERE tenant_id = {quote(tenant['id'])}") == "1",
                    20, 0.01)
    app.server.kill9()
    thread.join()
    first = result.get("first", (None,))
    if not check("the kill landed while the request ran (its import had begun, no answer reached the client)",
                 seen and first[0] == 0, f"import row seen={seen} first answer={str(first)[:200]}"):
        app.restart()
        return
    app.restart()
    # The client retries as told ("retry shortly"): once a second for 15 s.
    retry = app.api("POST", "/api/leads/import", raw=csv, key=tenant["key"], headers={"Idempotency-Key": key}, timeout=60)
    again, tries = retry, 1
    while again[0] not in (200, 201) and tries < 15:
        time.sleep(1)
        again = app.api("POST", "/api/leads/import", raw=csv, key=tenant["key"], headers={"Idempotency-Key": key}, timeout=60)
        tries += 1
    detail = (f"first retry: {retry[0]} {(retry[2].get('title') if isinstance(retry[2], dict) else str(retry[2])[:80])!r}; "
              f"after {tries} tries over 15 s: {again[0]} {(again[2].get('detail') if isinstance(again[2], dict) else str(again[2])[:80])!r}")
    note(detail)
    check("a retry with the same Idempotency-Key after the crash gets an answer (not 409 'in progress' for 24 h)",
          again[0] in (200, 201), detail + " (IdempotencyStore.begin: a pending key from a dead process never expires before 24 h)")
    leads = int(storage.scalar(f"SELECT COUNT(*) FROM leads WHERE tenant_id = {quote(tenant['id'])}"))
    check("the crashed request left its writes all-or-nothing (0 or 5,000 leads before any successful retry)",
          leads in (0, 5000), f"{leads} leads")


# --------------------------------------------------------------------------------------------
# (b) kill -9 while 1,000 SMS go to the fake Twilio


def phase_messages(app, state, twilio):
    section(f"kill -9 while {MESSAGES:,} SMS go to the fake Twilio")
    tenant = app.tenant("Crash Messages Ltd")
    csv = "name,phone\n" + "".join(f"Person {i},0741{i:07d}\n" for i in range(MESSAGES))
    status, _, body = app.api("POST", "/api/leads/import", raw=csv.encode(), key=tenant["key"])
    if not check(f"{MESSAGES:,} leads imported for messaging", status == 200 and body["counts"].get("imported") == MESSAGES,
                 f"{status} {str(body)[:200]}"):
        return
    leads, cursor = [], None
    while True:
        status, _, page = app.api("GET", "/api/leads?limit=200" + (f"&cursor={cursor}" if cursor else ""), key=tenant["key"])
        leads += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    send_at = iso(8)  # every message due at once, after they are all queued
    twilio.delay = 0.01  # only so the kill lands mid-send; none after the restart
    enqueue_started = time.time()
    statuses = collections.Counter()

    def enqueue(index):
        lead = leads[index]
        marker = f"m-crash-{index:04d}"
        for _ in range(5):
            status, _, body = app.api("POST", "/api/messages", {"leadId": lead["id"], "body": f"Bookline crash test [{marker}]",
                                                                "sendAt": send_at},
                                      key=tenant["key"], headers={"Idempotency-Key": marker})
            if status != 0:
                break
            time.sleep(0.2)
        statuses[status] += 1
        return marker, status, body

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(enqueue, range(len(leads))))
    markers = {marker: body.get("id") for marker, status, body in results if status == 201}
    print(f"       {len(markers)} queued in {time.time() - enqueue_started:.1f} s ({dict(statuses)})", flush=True)
    if not check(f"all {MESSAGES:,} messages queued (201)", len(markers) == MESSAGES, f"answers: {dict(statuses)}"):
        return
    # Kill while Twilio holds message 301: created there (a sid), not yet known to Bookline.
    twilio.hold_after = 300
    reached = twilio.held.wait(90)
    app.server.kill9()
    twilio.hold_after = None
    killed = time.time()
    posts, created = twilio.snapshot()
    sent_before = sum(len(v) for v in created.values())
    held = twilio.held_marker
    print(f"       killed after {sent_before} reached the fake Twilio, {held} in flight", flush=True)
    if not check("the kill landed mid-send", reached and sent_before < MESSAGES, f"{sent_before} sent before the kill"):
        app.restart()
        return
    twilio.delay = 0
    print(f"       restarted in {app.restart():.1f} s", flush=True)
    tid = quote(tenant["id"])

    def by_status():
        return dict((row[0], int(row[1])) for row in storage.query(
            f"SELECT status, COUNT(*) FROM messages WHERE tenant_id = {tid} AND direction = 'outbound' GROUP BY status"))

    # Settled: nothing queued and nothing moving for 2 s (the new sender's own batch is done);
    # what is still 'sending' then is what the dead sender had claimed.
    history = []

    def settled():
        counts = by_status()
        # Late status callbacks still turn 'sent' into 'delivered': count those together.
        history.append((counts.get("queued", 0), counts.get("sending", 0), counts.get("sent", 0) + counts.get("delivered", 0)))
        recent = history[-5:]
        return counts if len(recent) == 5 and recent[-1][0] == 0 and len(set(recent)) == 1 else None

    counts = wait_for(settled, 120, 0.5) or by_status()
    print(f"       outbox settled {time.time() - killed:.0f} s after the kill", flush=True)
    stuck = counts.get("sending", 0)
    note(f"after the restart the outbox settled at {counts}; {stuck} left 'sending' under the 300 s lease "
         "(MessageSender.lease, not configurable): only a provider id recorded by the status callback releases them")
    groups = storage.query(f"SELECT locked_until, COUNT(*) FROM messages WHERE tenant_id = {tid} AND status = 'sending' "
                           "GROUP BY locked_until ORDER BY 1")
    check("at most one claimed batch (20) is held by the dead sender's lease", stuck <= 20,
          f"{stuck} in 'sending', by lease (one per claim statement): {[int(n) for _, n in groups]}"
          + (" - one UPDATE claimed more than MessageSender.batch rows (MessageStore.claim)" if any(int(n) > 20 for _, n in groups) else ""))
    if stuck:
        # Stand-in for the 5 minutes the lease would take: expire it in SQL, as time would.
        storage.query(f"UPDATE messages SET locked_until = {storage.past()} WHERE tenant_id = {tid} AND status = 'sending'")
        note("expired those leases in SQL to stand in for the 5 minutes")
    done = wait_for(lambda: (lambda c: c if c.get("queued", 0) == 0 and c.get("sending", 0) == 0 else None)(by_status()), 90, 0.3)
    counts = by_status()
    check(f"every one of the {MESSAGES:,} messages was sent in the end", bool(done) and counts.get("sent", 0) + counts.get("delivered", 0) == MESSAGES,
          str(counts))
    print(f"       all sent {time.time() - killed:.0f} s after the kill", flush=True)
    time.sleep(twilio.callback_delay + 1)
    posts, created = twilio.snapshot()
    doubled = sorted(m for m in markers if len(created.get(m, [])) > 1)
    missing = sorted(m for m in markers if len(created.get(m, [])) == 0)
    check("the fake Twilio created each message exactly once", not doubled and not missing,
          f"{len(doubled)} doubled {doubled[:5]}, {len(missing)} missing {missing[:5]}")
    if held:
        check(f"the message in flight at the kill ({held}) was not sent again (its status callback recorded the sid)",
              len(created.get(held, [])) == 1 and twilio.callbacks_sent.get(held, 0) >= 1,
              f"created {len(created.get(held, []))} times; callbacks accepted: {twilio.callbacks_sent.get(held, 0)}")
    reposted = sorted(m for m in markers if posts.get(m, 0) > 1)
    if reposted:
        note(f"{len(reposted)} messages were POSTed more than once: {reposted[:5]}")
    check("no unmarked or unauthenticated POSTs reached the fake", twilio.unmarked == 0 and twilio.bad_auth == 0,
          f"unmarked={twilio.unmarked} bad_auth={twilio.bad_auth}")
    # The API shows each message once, sent, with the sid the provider gave it.
    items, cursor = [], None
    while True:
        status, _, page = app.api("GET", "/api/messages?limit=200" + (f"&cursor={cursor}" if cursor else ""), key=tenant["key"])
        if status != 200:
            break
        items += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    wrong = []
    for item in items:
        match = re.search(r"\[(m-[\w-]+)\]", item["body"])
        marker = match.group(1) if match else None
        sids = created.get(marker, [])
        if item["status"] not in ("sent", "delivered") or len(sids) != 1 or item.get("providerId") != sids[0]:
            wrong.append((marker, item["status"], item.get("providerId"), sids))
    check("the API lists each message once, sent, with the provider's sid", len(items) == MESSAGES and not wrong,
          f"{len(items)} listed; {len(wrong)} wrong, e.g. {wrong[:3]}")
    refused = dict(twilio.callback_refusals)
    check("Twilio's status callbacks are all accepted (none refused with 429 by the per-IP webhook budget)",
          not refused.get(429), f"refused: {refused} (TwilioWebhookRoutes.ipPolicy, per IP; "
          "Twilio does not retry a refused status callback)")
    if twilio.callback_failures:
        note(f"{twilio.callback_failures} status callbacks could not be delivered at all")

    # The same crash when Twilio's status callback never gets through (refused with 429 as above,
    # or sent while the server was down): the sid is never recorded and the lease hands the
    # message to the sender again.
    if "inflight-no-callback" in os.environ.get("CRASH_OPEN", "").split(","):
        print("  open a message in flight at a crash whose status callback never arrives is not sent twice "
              "(known and open: the sender does not yet ask Twilio whether it went out; CRASH_OPEN)", flush=True)
        return
    twilio.callback_delay = None
    twilio.held.clear()
    twilio.hold_after = twilio.total_created()
    status, _, body = app.api("POST", "/api/messages", {"leadId": leads[0]["id"], "body": "Bookline crash test [m-crash-lost]"},
                              key=tenant["key"])
    reached = twilio.held.wait(30)
    app.server.kill9()
    twilio.hold_after = None
    app.restart()
    twilio.callback_delay = 1.0
    if not check("a second kill landed while Twilio held one message (no callback this time)", reached and status == 201,
                 f"{status} {str(body)[:200]}"):
        return
    storage.query(f"UPDATE messages SET locked_until = {storage.past()} WHERE tenant_id = {tid} AND status = 'sending'")
    final = wait_for(lambda: (lambda m: m if m.get("status") in ("sent", "delivered", "failed") else None)(
        app.api("GET", f"/api/messages/{body['id']}", key=tenant["key"])[2]), 30, 0.3) or {}
    time.sleep(0.5)
    _, created = twilio.snapshot()
    check("a message in flight at a crash whose status callback never arrives is not sent twice after the lease",
          len(created.get("m-crash-lost", [])) == 1,
          f"Twilio created it {len(created.get('m-crash-lost', []))} times; Bookline shows {final.get('status')} attempts={final.get('attempts')} "
          "(MessageSender.deliver asks the driver about a hand-over the crash interrupted)")


# --------------------------------------------------------------------------------------------
# (c) kill -9 while jobs run


def phase_jobs(app, state):
    section(f"kill -9 while {JOBS} jobs run inside serve")
    out = os.path.join(work, "jobs.txt")
    run_id = f"{os.getpid()}-{int(time.time())}"

    def enqueue(i):
        return app.cli("jobs", "enqueue", "--kind", "test.append", "--key", f"crash-{run_id}-{i}",
                       "--payload", f'{{"file": "{out}", "line": "job-{i}", "sleep_ms": "1500"}}').returncode

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(enqueue, range(JOBS)))
    if not check(f"{JOBS} test.append jobs enqueued with the CLI", codes.count(0) == JOBS, f"exit codes {codes}"):
        return

    def lines():
        try:
            with open(out) as f:
                return f.read().splitlines()
        except OSError:
            return []

    wait_for(lambda: len(lines()) >= 4, 30, 0.05)
    app.server.kill9()
    before = len(lines())
    check(f"the kill landed mid-way ({before} of {JOBS} done)", 0 < before < JOBS)
    print(f"       restarted in {app.restart():.1f} s", flush=True)
    wait_for(lambda: len(lines()) >= JOBS, 60, 0.2)

    def jobs():
        status, _, body = app.api("GET", "/api/admin/jobs?kind=test.append&limit=200", key=app.admin)
        return body.get("items", []) if status == 200 else []

    finished = wait_for(lambda: (lambda items: items if len(items) >= JOBS and all(j["status"] == "done" for j in items) else None)(jobs()),
                        30, 0.3) or jobs()
    got = lines()
    check("every job's side effect happened exactly once", len(got) == JOBS and len(set(got)) == JOBS,
          f"{len(got)} lines, {len(set(got))} distinct")
    mine = [j for j in finished if j.get("idempotencyKey", "").startswith(f"crash-{run_id}-")]
    statuses = collections.Counter(j["status"] for j in mine)
    check("every job is done (none pending, running or failed)", statuses == {"done": JOBS}, str(dict(statuses)))
    reran = [j for j in mine if j["attempts"] > 1]
    check("only jobs in flight at the kill ran again (at most the worker concurrency, 4)", len(reran) <= 4,
          f"{len(reran)} jobs with attempts > 1: {[(j['payload'].get('line'), j['attempts']) for j in reran]}")


# --------------------------------------------------------------------------------------------
# Provider faults


def message(app, tenant, body=None, channel="sms", to=None, subject=None):
    payload = {"channel": channel, "to": to, "body": body}
    if subject:
        payload["subject"] = subject
    return app.api("POST", "/api/messages", payload, key=tenant["key"])


def show(app, tenant, message_id):
    return app.api("GET", f"/api/messages/{message_id}", key=tenant["key"])[2]


def error_types(app, tenant_id):
    status, _, body = app.api("GET", f"/api/error-stats?tenantId={tenant_id}", key=app.admin)
    return {t.get("errorType") or t.get("type"): t.get("count") for t in body.get("topErrorTypes", [])} if status == 200 else {}


def phase_faults(app, state, twilio, smtp, slack):
    section("provider faults: Twilio 500 / 429 / garbage / timeout / 400, SMTP 451, Slack 500 / 429")
    tenant = app.tenant("Crash Faults Ltd")
    tid = tenant["id"]
    twilio.delay = 0

    def wait_status(message_id, accept, timeout=30):
        return wait_for(lambda: (lambda m: m if m.get("status") in accept else None)(show(app, tenant, message_id)), timeout, 0.2) \
            or show(app, tenant, message_id)

    # 500, then 429, then 201: the driver's own retries (0.5 s, 1 s) get it through in one attempt.
    twilio.script("m-fault-a", ["500", "429"])
    status, _, created = message(app, tenant, "Fault test [m-fault-a]", to="07430 000001")
    final = wait_status(created.get("id"), ("sent", "delivered", "failed"))
    posts, sids = twilio.snapshot()
    check("Twilio 500 then 429 then 201: sent once, after 3 POSTs, in one attempt",
          final.get("status") in ("sent", "delivered") and len(sids.get("m-fault-a", [])) == 1 and posts.get("m-fault-a") == 3
          and final.get("attempts") == 1, f"message={str(final)[:300]} posts={posts.get('m-fault-a')} created={sids.get('m-fault-a')}")

    # 500, 429, garbage: the attempt fails; the message is queued again with the error recorded.
    twilio.script("m-fault-b", ["500", "429", "garbage"])
    status, _, created = message(app, tenant, "Fault test [m-fault-b]", to="07430 000002")
    b_id = created.get("id")
    wait_for(lambda: twilio.snapshot()[0].get("m-fault-b", 0) >= 3, 20, 0.1)
    time.sleep(1)
    final = show(app, tenant, b_id)
    retry_in = None
    try:
        retry_in = (datetime.datetime.fromisoformat(final["sendAt"].replace("Z", "+00:00"))
                    - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    except (KeyError, ValueError, TypeError):
        pass
    check("Twilio 500, 429, then a garbage 200: the message is queued for a later attempt, not lost or failed",
          final.get("status") == "queued" and final.get("attempts") == 1, str(final)[:300])
    note(f"next attempt in {retry_in:.0f} s (MessageSender: 1 h, 2 h, 4 h; no setting shortens it for tests)"
         if retry_in is not None else f"sendAt: {final.get('sendAt')}")
    check("the retrying message shows why it is waiting (reason or error code in the API)",
          bool(final.get("reason") or final.get("errorCode")), f"reason={final.get('reason')!r} errorCode={final.get('errorCode')!r}")
    errors = error_types(app, tid)
    check("the failed attempt is recorded once in error-stats (sms_send_failed)", errors.get("sms_send_failed") == 1, str(errors))
    storage.query(f"UPDATE messages SET send_at = {storage.past()} WHERE tenant_id = {quote(tid)} AND id = {quote(b_id)} AND status = 'queued'")
    final = wait_status(b_id, ("sent", "delivered", "failed"))
    posts, sids = twilio.snapshot()
    check("its next attempt (due time moved in SQL) sends it exactly once",
          final.get("status") in ("sent", "delivered") and len(sids.get("m-fault-b", [])) == 1 and final.get("attempts") == 2,
          f"message={str(final)[:200]} posts={posts.get('m-fault-b')} created={sids.get('m-fault-b')}")

    # A hung request: the 10 s timeout, then the retry gets through.
    twilio.script("m-fault-c", ["hang"])
    status, _, created = message(app, tenant, "Fault test [m-fault-c]", to="07430 000003")
    final = wait_status(created.get("id"), ("sent", "delivered", "failed"), timeout=40)
    posts, sids = twilio.snapshot()
    check("Twilio hangs past the 10 s timeout: retried and sent exactly once",
          final.get("status") in ("sent", "delivered") and len(sids.get("m-fault-c", [])) == 1,
          f"message={str(final)[:200]} posts={posts.get('m-fault-c')} created={sids.get('m-fault-c')}")

    # A permanent refusal: failed at once with a clear reason, recorded once, not retried.
    twilio.script("m-fault-d", ["400:21211"])
    status, _, created = message(app, tenant, "Fault test [m-fault-d]", to="07430 000004")
    final = wait_status(created.get("id"), ("failed", "sent", "delivered"))
    time.sleep(1)
    posts, _ = twilio.snapshot()
    errors = error_types(app, tid)
    check("Twilio 400 (error 21211): failed with a clear reason and the code, one POST, recorded once",
          final.get("status") == "failed" and final.get("errorCode") == "21211" and "invalid_number" in (final.get("reason") or "")
          and posts.get("m-fault-d") == 1 and errors.get("sms_rejected") == 1,
          f"message={str(final)[:300]} posts={posts.get('m-fault-d')} errors={errors}")

    # SMTP answers 451 to the first DATA: the email waits for a later attempt, then goes once.
    # The owner has confirmed their address first: until then customer email is held, by design.
    storage.query(f"UPDATE users SET email_verified_at = created_at WHERE id IN "
                  f"(SELECT user_id FROM memberships WHERE tenant_id = {quote(tid)})")
    rcpt = "fault-451@crash.example"
    smtp.script(rcpt, ["451"])
    status, _, created = message(app, tenant, "Fault test email", channel="email", to=rcpt, subject="Fault test [m-fault-e]")
    e_id = created.get("id")
    wait_for(lambda: smtp.transactions.get(rcpt, 0) >= 1, 20, 0.1)
    time.sleep(1)
    final = show(app, tenant, e_id)
    check("SMTP 451: the email is queued for a later attempt with the failure recorded once",
          final.get("status") == "queued" and final.get("attempts") == 1 and error_types(app, tid).get("email_send_failed") == 1,
          f"message={str(final)[:300]} errors={error_types(app, tid)}")
    storage.query(f"UPDATE messages SET send_at = {storage.past()} WHERE tenant_id = {quote(tid)} AND id = {quote(e_id)} AND status = 'queued'")
    final = wait_status(e_id, ("sent", "delivered", "failed"))
    check("its next attempt delivers it exactly once", final.get("status") == "sent" and len(smtp.accepted_for(rcpt)) == 1,
          f"message={str(final)[:200]} accepted={len(smtp.accepted_for(rcpt))}")

    # Critical alerts: Slack answers 500 then 429, SMTP 451 for the alert mail. 11 errors in 5
    # minutes raise the error-rate alert; is it retried until someone gets it?
    slack.faults[:] = [500, 429]
    smtp.script("alerts@crash.test", ["451"])
    for i in range(12):
        twilio.script(f"m-alert-{i}", ["400:21211"])
        message(app, tenant, f"Alert test [m-alert-{i}]", to=f"07430 0001{i:02d}")
    wait_for(lambda: slack.snapshot(), 30, 0.2)
    # The notifier retries after 2 s, then 10 s (or Slack's Retry-After): allow for both.
    wait_for(lambda: any(status == 200 and "Error rate" in text for status, text in slack.snapshot())
             and smtp.accepted_for("alerts@crash.test"), 30, 0.2)
    posts = slack.snapshot()
    alerts = [p for p in posts if "Error rate" in p[1]]
    note(f"Slack saw {len(posts)} post(s): {[status for status, _ in posts]}; alert mails accepted: {len(smtp.accepted_for('alerts@crash.test'))}, "
         f"attempted: {smtp.transactions.get('alerts@crash.test', 0)}")
    check("the error-rate alert reached Slack", bool(alerts), str(posts)[:200])
    check("Slack 500 / 429: the alert is retried until Slack takes it", any(status == 200 for status, _ in alerts),
          f"Slack answers to the alert: {[status for status, _ in alerts]} (PlatformAlertNotifier.send posts once)")
    check("SMTP 451: the alert email is retried until the server takes it", len(smtp.accepted_for("alerts@crash.test")) >= 1,
          f"attempts: {smtp.transactions.get('alerts@crash.test', 0)}, accepted: 0 (PlatformAlertNotifier.send sends once)")


# --------------------------------------------------------------------------------------------
# SQLite on a full disk


def limit_file_size():
    """The fallback when no tmpfs can be mounted: every file the server writes stops at 2 MiB."""
    import resource
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill; stays ignored across exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 * 1024 * 1024, 2 * 1024 * 1024))


def phase_diskfull(twilio, smtp, slack):
    section("SQLite on a full disk (2 MiB)")
    tiny = os.path.join(work, "tinyfs")
    os.makedirs(tiny)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", tiny], capture_output=True, text=True) \
        if os.environ.get("CRASH_NO_MOUNT") != "1" else subprocess.CompletedProcess([], 1, "", "CRASH_NO_MOUNT=1")
    preexec = None
    if mounted.returncode == 0:
        mounts.append(tiny)
    else:
        note(f"cannot mount a tmpfs ({mounted.stderr.strip()}); falling back to RLIMIT_FSIZE (ulimit -f) of 2 MiB")
        preexec = limit_file_size
    port = free_port()
    env = base_env(port, twilio, smtp, slack)
    env["BOOKLINE_DB"] = os.path.join(tiny, "bookline.sqlite")
    env["BOOKLINE_RUN_WORKERS"] = "false"
    app = Bookline(env, "diskfull")
    app.server.preexec = preexec
    try:
        app.restart()
    except RuntimeError as error:
        check("the server starts on the small filesystem", False, str(error)[:400])
        return
    try:
        tenant = app.tenant("Crash Disk Ltd")
        ballast = os.path.join(tiny, "ballast")
        if mounts:
            with open(ballast, "wb") as f:
                f.write(b"\0" * 256 * 1024)
        failures = []
        notes = "x" * 3900
        number = 0
        for attempt in range(60):
            csv = "name,phone,notes\n" + "".join(f"Filler {number + i},0742{number + i:07d},{notes}\n" for i in range(500))
            number += 500
            status, headers, body = app.api("POST", "/api/leads/import", raw=csv.encode(), key=tenant["key"], timeout=60)
            if status != 200:
                failures.append(("import", status, body))
                break
        # A failed import rolls back and frees its pages: single creates then fill the last of it.
        for i in range(400):
            status, headers, body = app.api("POST", "/api/leads", {"name": f"Single {i}", "phone": f"07429{i:06d}", "notes": notes},
                                            key=tenant["key"])
            if status != 201:
                failures.append(("lead", status, body))
                if len([f for f in failures if f[0] == "lead"]) >= 3:
                    break
        alive = app.server.alive()
        check("writes eventually fail on the full disk", bool(failures), f"{number} rows imported without a failure")
        check("the server survives the full disk (no crash)", alive, tail(app.server.log, 20))
        if failures:
            for kind, status, body in failures[:2]:
                note(f"{kind} on a full disk -> {status} {str(body)[:260]}")
            clear = all(status in (503, 507) and isinstance(body, dict) and re.search(r"(?i)disk|space|storage|full", str(body.get("detail", "")))
                        for _, status, body in failures)
            check("full-disk failures are 507/503 problems that say the storage is full (not a generic 500)", clear,
                  "answers: " + ", ".join(f"{s} {b.get('title') if isinstance(b, dict) else str(b)[:60]!r}" for _, s, b in failures)
                  + " (ProblemMiddleware: a storage-full SQLiteError / PostgreSQL 53100 should be a clear problem)")
        status, _, body = app.api("GET", "/api/leads?limit=5", key=tenant["key"])
        status_me, _, _ = app.api("GET", "/api/me", key=tenant["key"])
        check("reads still work on the full disk (GET /api/leads, /api/me)", status == 200 and status_me == 200, f"{status} / {status_me}")
        status, _, health = app.api("GET", "/health")
        note(f"/health on the full disk: {status} {str(health)[:200]}")
        if mounts:
            os.remove(ballast)
            status, _, body = app.api("POST", "/api/leads", {"name": "After", "phone": "07429 999999"}, key=tenant["key"])
            check("writes work again once space is freed", status == 201, f"{status} {str(body)[:200]}")
        exit_status = app.server.stop()
        check("the server stops cleanly afterwards", exit_status == 0, f"exit {exit_status}")
        import sqlite3
        connection = sqlite3.connect(env["BOOKLINE_DB"])
        result = connection.execute("PRAGMA integrity_check").fetchall()
        connection.close()
        check("PRAGMA integrity_check is ok after the full disk", result == [("ok",)], str(result)[:200])
    finally:
        app.server.kill9()
        if tiny in mounts:
            subprocess.run(["umount", tiny], capture_output=True)
            mounts.remove(tiny)


# --------------------------------------------------------------------------------------------


def main():
    global storage
    if not os.access(BIN, os.X_OK):
        print(f"crash: no binary at {BIN} (build it, or set BOOKLINE_BIN)")
        return 2
    storage = Storage(work)
    twilio, smtp, slack = FakeTwilio(SID, TOKEN), FakeSMTP(), FakeSlack()
    fakes.extend([twilio, smtp, slack])
    version = subprocess.run([BIN, "version"], capture_output=True, text=True).stdout.splitlines()[:1]
    print(f"crash: {version[0] if version else BIN} on {storage.engine}; tenant zone {ZONE}; phases {','.join(PHASES)}", flush=True)
    port = free_port()
    env = base_env(port, twilio, smtp, slack)
    env.update(storage.env())
    app = Bookline(env)
    app.restart()
    app.login_admin()
    state = {}
    runs = [("import", lambda: phase_import(app, state)),
            ("idempotency", lambda: phase_idempotency(app, state)),
            ("messages", lambda: phase_messages(app, state, twilio)),
            ("jobs", lambda: phase_jobs(app, state)),
            ("faults", lambda: phase_faults(app, state, twilio, smtp, slack)),
            ("diskfull", lambda: phase_diskfull(twilio, smtp, slack)),
            ("import", lambda: phase_import_final(app, state))]
    for name, run in runs:
        if name not in PHASES:
            continue
        try:
            run()
        except Exception as error:  # noqa: BLE001 - one phase's surprise must not hide the others
            check(f"{name} phase ran to the end", False, f"{type(error).__name__}: {error}")
            if not app.server.alive():
                try:
                    app.restart()
                except RuntimeError as restart_error:
                    check("the server restarts", False, str(restart_error)[:300])
                    break

    section("after everything")
    crashed = [s for s in servers if s.proc is not None and s.proc.poll() is not None]
    check("no server process died on its own", not crashed, ", ".join(f"{s.name} exit {s.proc.returncode}" for s in crashed))
    status = app.server.stop()
    check(f"the last server stops cleanly on SIGTERM (exit {status})", status == 0)
    result = subprocess.run([BIN, "audit", "verify"], env=env, cwd=work, capture_output=True, text=True, timeout=300)
    check("bookline audit verify passes on the same database", result.returncode == 0,
          (result.stdout + result.stderr).strip()[:300])
    if result.returncode == 0:
        note(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "audit verify: no output")
    if storage.engine == "sqlite":
        check("PRAGMA integrity_check is ok on the main database", storage.query("PRAGMA integrity_check") == [["ok"]])
    return 0


if __name__ == "__main__":
    code = 1
    try:
        code = main()
    except KeyboardInterrupt:
        print("crash: interrupted", flush=True)
    except Exception as error:  # noqa: BLE001
        checks.check("the run finished", False, f"{type(error).__name__}: {error}")
    finally:
        cleanup()
    elapsed = time.time() - started
    print(f"crash: {checks.passed} passed, {checks.failed} failed in {elapsed:.0f} s", flush=True)
    if checks.failures:
        for name in checks.failures:
            print(f"  failed: {name}")
    sys.exit(code if code else (1 if checks.failed else 0))
