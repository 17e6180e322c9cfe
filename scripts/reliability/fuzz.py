"""Contract fuzzing of a running Bookline with schemathesis (driven by scripts/reliability/fuzz).

Signs a real tenant up through the API (its first API key carries every scope), makes a platform
admin and a compliance officer with the CLI, lifts the tenant's per-minute budget as the admin,
seeds a little data through the API, then runs `st run` against openapi.yaml once per identity:

  tenant      API key       every operation (admin-only ones must refuse it)
  owner       owner's JWT   operations only a signed-in owner may use (users, audit, export, erasure)
  compliance  staff JWT     data-subject export and erasure, tenant export, audit
  admin       admin JWT     platform administration, monitoring, audit, export (last: it may
                            suspend or delete the fuzzing tenant)

Every pass runs all of schemathesis' phases (examples, coverage, fuzzing, stateful) and all its
checks, with positive and negative data. The gate: no failure in any pass, i.e. no 5xx and no
response that breaks the contract (status code, content type, headers, schema), no schema-invalid
request accepted, no schema-valid request refused with anything but a documented business-rule
answer (see POSITIVE_ACCEPTED).

Excluded, and why:
  GET /api/events/stream   Server-Sent Events never end; a fuzzer request would hang until its
                           timeout (the stream is covered by Tests/ and scripts/bench-events).
Nothing else is excluded. fuzz_hooks.py keeps the fuzzing tenant's own API key from being revoked
or rotated away (those calls get another id), gives every well-formed Idempotency-Key a fresh value
(a reused key is rightly 422 or a replay, which would judge the key, not the request), and signs
webhooks for the fuzzing tenant; the admin pass runs last. One check is off for two operations:
use_after_free on DELETE /api/admin/tenants/{id} (a deleted tenant stays readable by admins, status
deleted, until the purge) and DELETE /api/templates/{name} (it resets the template to the default).

Environment: BOOKLINE_URL (the server), BOOKLINE_BIN, BOOKLINE_DB or DATABASE_URL and BOOKLINE_HOME
as the server has them, FUZZ_WORK (a scratch folder), FUZZ_MAX_EXAMPLES (default 10), FUZZ_SEED
(default 20261126), FUZZ_PASSES (default tenant,owner,compliance,admin), FUZZ_WORKERS (default 1:
with more, hypothesis can trip over its own caches, and runs are no longer reproducible).
Exit status 0 only when every pass ran and found nothing.
"""
import collections
import datetime
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BASE = os.environ["BOOKLINE_URL"].rstrip("/")
BIN = os.environ["BOOKLINE_BIN"]
WORK = os.environ["FUZZ_WORK"]
SPEC = os.environ.get("FUZZ_SPEC", os.path.join(ROOT, "openapi.yaml"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
SEED = int(os.environ.get("FUZZ_SEED", "20261126"))
WORKERS = os.environ.get("FUZZ_WORKERS", "1")
PASSES = [p for p in os.environ.get("FUZZ_PASSES", "tenant,owner,compliance,admin").split(",") if p]

# Schema-valid requests may still be refused with 422: the contract documents it for rules a JSON
# schema cannot state (a phone number's digits for its range, from before to, a lead id that
# does not exist, a password found in breach lists). 400 is not in this list: the contract says
# 400 means the body is not JSON or has a wrong type, which a schema-valid request never has.
POSITIVE_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

# Text a database or a template engine may choke on: NUL (PostgreSQL text refuses it), SQL and
# Mustache syntax, a right-to-left override, astral-plane and combining characters.
AWKWARD_STRINGS = ["Zo\u00eb\u0000Smith", "\u0000", "x' OR '1'='1", "{{#name}}{{/name}}{{{business}}}", "\u202eevil",
                   "\U0001F600 caf\u0065\u0301", "%00%0d%0a", "NULL"]

AWKWARD_FIELDS = [f"body.{name}" for name in (
    "name", "businessName", "notes", "note", "reason", "body", "subject", "summary", "sms", "emailSubject",
    "emailText", "emailHtml", "helpText", "source", "externalId", "endedReason", "cancelReason", "Body")] + [
    f"query.{name}" for name in ("q", "actorId", "action", "tag", "source", "reason")]

EXCLUDED_OPERATIONS = {"streamEvents": "GET /api/events/stream (Server-Sent Events never end)"}

# Operations each JWT pass covers (the tenant pass covers everything).
SELECTIONS = {
    "owner": r"^/api/(users|audit|clients/\{id\}/export|compliance/erasure)",
    "compliance": r"^/api/(compliance/|clients/\{id\}/export|audit)",
    "admin": r"^/(monitor/|api/(admin/|audit|compliance/|clients/\{id\}/export|error-stats))",
}


def call(method, path, body=None, token=None, raw=None, content_type="application/json"):
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{method} {path} answered {error.code}: {error.read()[:400]!r}") from None


def staff(role, run):
    """A platform user made with the CLI, against the server's database, signed in."""
    email, password = f"{role}-{run}@fuzz.bookline.test", f"fuzz-{role}-{secrets.token_hex(8)}"
    # Run where the server runs, so a generated development master key (data/master.key) is the same.
    folder = os.path.dirname(os.environ["BOOKLINE_DB"]) if os.environ.get("BOOKLINE_DB") else WORK
    made = subprocess.run([BIN, "admin", "create", "--email", email, "--role", role], input=password + "\n",
                          text=True, capture_output=True, cwd=folder)
    if made.returncode != 0:
        raise RuntimeError(f"bookline admin create --role {role} failed: {made.stderr.strip()[-800:]}")
    return call("POST", "/api/auth/login", {"email": email, "password": password})["accessToken"]


def identities():
    run = secrets.token_hex(4)
    owner_email, owner_password = f"owner-{run}@fuzz.bookline.test", f"fuzz-owner-{secrets.token_hex(8)}"
    signup = call("POST", "/api/clients/onboard", {
        "businessName": f"Fuzz Clinic {run}", "email": owner_email, "phone": "07400 100123",
        "industry": "dental", "password": owner_password})
    admin = staff("admin", run)
    call("PATCH", f"/api/admin/tenants/{signup['tenantId']}", {"rateLimitPerMinute": 1_000_000}, token=admin)
    owner = call("POST", "/api/auth/login", {"email": owner_email, "password": owner_password})["accessToken"]
    compliance = staff("compliance", run)
    return {"tenantId": signup["tenantId"], "apiKey": signup["apiKey"], "apiKeyId": signup["apiKeyId"],
            "ownerToken": owner, "adminToken": admin, "complianceToken": compliance,
            "voiceSecret": "fuzz-voice-" + secrets.token_hex(12)}


def seed(ids):
    """A little of everything, through the API, so list answers hand the fuzzer real ids."""
    key = ids["apiKey"]
    call("PUT", "/api/settings/calls", {"webhookSecret": ids["voiceSecret"]}, token=key)
    leads = [call("POST", "/api/leads", {"name": name, "phone": phone, "email": email, "tags": ["fuzz"]}, token=key)
             for name, phone, email in [("Jane Fuzz", "07400 200123", "jane@fuzz.example"),
                                        ("Bob Fuzz", "07400 200124", "bob@fuzz.example")]]
    call("POST", "/api/leads/import", raw=b"name,phone\nAnn Fuzz,07400 200125\n", content_type="text/csv", token=key)
    call("POST", "/api/opt-outs", {"phone": "07400 200126", "reason": "complaint"}, token=key)
    call("POST", "/api/calls", {"phone": "07400 200123", "startedAt": "2026-11-24T11:00:00Z", "durationSeconds": 60,
                                "outcome": "callback", "cost": {"amount": 35, "currency": "GBP"}}, token=key)
    call("POST", "/api/messages", {"leadId": leads[0]["id"], "body": "Hello from the fuzzer"}, token=key)
    service = call("GET", "/api/services", token=key)["items"][0]["id"]
    start = datetime.date.today() + datetime.timedelta(days=2)
    slots = call("GET", f"/api/availability?service={service}&from={start}&to={start + datetime.timedelta(days=7)}",
                 token=key)["slots"]
    if slots:
        call("POST", "/api/appointments", {"leadId": leads[1]["id"], "serviceId": service, "start": slots[0]["start"]},
             token=key)


def toml_string(value):
    """A TOML value from strings and lists of them: JSON's spelling, less the surrogate-pair escapes."""
    return json.dumps(value, ensure_ascii=False)


def write_config(name, ids):
    """schemathesis.toml for one pass: checks, data dictionaries that reach past validation."""
    phones = ["07400 200123", "07400 200124", "+447400200127", "07400 200126", "0044 7400 200128"]
    lines = [
        f"seed = {SEED}",
        f"workers = {WORKERS}",
        "request-timeout = 30",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {toml_string(POSITIVE_ACCEPTED)}",
        "[dictionaries.awkward]",
        f"values = {toml_string(AWKWARD_STRINGS)}",
        "[dictionaries.tenants]",
        f"values = {toml_string([ids['tenantId']])}",
        "[dictionaries.phones]",
        f"values = {toml_string(phones)}",
        "[parameters]",
        '"path.tenant" = { dictionary = "tenants", probability = 0.9 }',
        '"body.tenantId" = { dictionary = "tenants", probability = 0.6 }',
        '"body.phone" = { dictionary = "phones", probability = 0.5 }',
        '"path.phone" = { dictionary = "phones", probability = 0.5 }',
    ]
    # Now and then a free-text field is one of AWKWARD_STRINGS (body and query only: headers
    # cannot carry them).
    lines += [f'"{field}" = {{ dictionary = "awkward", probability = 0.1 }}' for field in AWKWARD_FIELDS]
    lines += [
        "[[operations]]",
        'include-path-regex = "^/api/(admin/tenants|clients)/\\\\{id\\\\}"',
        'parameters = { "path.id" = { dictionary = "tenants", probability = 0.7 } }',
    ]
    # Any string is a schema-valid text/csv body, but only a readable CSV file is one the server
    # can take: the contract documents 400 for an unreadable file (no column names, bad quotes).
    # (One filter per entry: schemathesis selects operations matching any of an entry's filters.)
    lines += ["[[operations]]", 'include-path = "/api/leads/import"',
              f"checks.positive_data_acceptance.expected-statuses = {toml_string(POSITIVE_ACCEPTED + ['400'])}"]
    # use_after_free expects a deleted resource to read 404 afterwards. Two DELETEs mean something
    # else, as documented: a deleted tenant stays readable by admins (status deleted, restorable
    # for the grace period), and DELETE /api/templates/{name} resets the template to the default.
    for path in ("/api/admin/tenants/{id}", "/api/templates/{name}"):
        lines += ["[[operations]]", f"include-path = {toml_string(path)}", "checks.use_after_free.enabled = false"]
    path = os.path.join(WORK, f"schemathesis-{name}.toml")
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
    return path


def token_for(name, ids):
    return {"tenant": ids["apiKey"], "owner": ids["ownerToken"], "compliance": ids["complianceToken"],
            "admin": ids["adminToken"]}[name]


def run_pass(name, ids):
    config = write_config(name, ids)
    reports = os.path.join(WORK, f"reports-{name}")
    # The CLI through this interpreter, so the pinned install is the one that runs (no PATH lookup).
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", config, "run", SPEC, "--url", BASE,
               "--checks", "all", "--no-color", "-H", f"Authorization: Bearer {token_for(name, ids)}",
               "--report", "junit", "--report-dir", reports, "--report-junit-path", os.path.join(reports, "junit.xml")]
    for operation in EXCLUDED_OPERATIONS:
        command += ["--exclude-operation-id", operation]
    if name in SELECTIONS:
        command += ["--include-path-regex", SELECTIONS[name]]
    env = dict(os.environ, FUZZ_PASS=name, FUZZ_STATS=os.path.join(WORK, f"stats-{name}.json"))
    log = os.path.join(WORK, f"st-{name}.log")
    started = time.monotonic()
    with open(log, "w") as out:
        status = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    elapsed = time.monotonic() - started
    return status, elapsed, log, os.path.join(reports, "junit.xml"), env["FUZZ_STATS"]


def summary_line(text, label):
    match = re.search(rf"^\s*{label}:?\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "?"


def report(name, status, elapsed, log, junit, stats_path):
    """Prints the pass's figures; returns (operations without a finding, operations with one)."""
    text = open(log, errors="replace").read()
    failing, tested = [], 0
    if os.path.exists(junit):
        for case in ElementTree.parse(junit).getroot().iter("testcase"):
            tested += 1
            problems = [child for child in case if child.tag in ("failure", "error")]
            if problems:
                codes = sorted({((p.get("message") or "").split() or [p.tag])[0].rstrip(",") for p in problems})
                failing.append(f"{case.get('name')} ({', '.join(codes)})")
    stats = json.load(open(stats_path)) if os.path.exists(stats_path) else {}
    statuses = collections.Counter()
    for counts in stats.values():
        statuses.update(counts)
    server_errors = sum(n for code, n in statuses.items() if code.startswith("5"))
    print(f"fuzz [{name}] {elapsed:.0f}s, exit {status}: operations {summary_line(text, 'Tested')} tested "
          f"(selected {summary_line(text, 'Selected')}); test cases {summary_line(text, 'Test cases')}")
    print(f"fuzz [{name}] {sum(statuses.values())} requests, by status: "
          + ", ".join(f"{code} x{n}" for code, n in sorted(statuses.items())) + f"; 5xx: {server_errors}")
    for line in failing:
        print(f"fuzz [{name}]   FAILED {line}")
    if status != 0 and not failing:
        failing.append("schemathesis itself")  # it failed without naming an operation: see its log
    if server_errors and not failing:
        failing.append("5xx answers")
    return tested - len(failing), len(failing)


def main():
    os.makedirs(WORK, exist_ok=True)
    ids = identities()
    try:
        seed(ids)
    except (RuntimeError, KeyError, IndexError) as error:
        print(f"fuzz: seeding data failed (fuzzing goes on with less data): {error}", file=sys.stderr)
    identities_path = os.path.join(WORK, "identities.json")
    with open(identities_path, "w") as file:
        json.dump(ids, file)
    os.environ["FUZZ_IDENTITIES"] = identities_path
    os.environ["SCHEMATHESIS_HOOKS"] = os.path.join(HERE, "fuzz_hooks.py")
    print(f"fuzz: {SPEC} against {BASE}, seed {SEED}, at most {MAX_EXAMPLES} examples per operation and phase; "
          f"passes: {', '.join(PASSES)}; excluded: {'; '.join(EXCLUDED_OPERATIONS.values())}")
    clean, passed, failed = True, 0, 0
    for name in PASSES:
        status, elapsed, log, junit, stats = run_pass(name, ids)
        good, bad = report(name, status, elapsed, log, junit, stats)
        passed, failed = passed + good, failed + bad
        if bad:
            clean = False
            print(f"fuzz [{name}] schemathesis' own report follows ({log}):")
            text = open(log, errors="replace").read()
            marks = [at for at in (text.find("=== ERRORS ==="), text.find("=== FAILURES ===")) if at >= 0]
            start = text.rfind("\n", 0, min(marks)) + 1 if marks else max(0, len(text) - 6000)
            sys.stdout.write(text[start:][:60000] + "\n")
    print("fuzz: " + ("no 5xx and no contract violation" if clean else "FAILED: 5xx or contract violations above"))
    # Operations (per identity) without and with findings, as the plain line CI reads.
    print(f"fuzz: {passed} passed, {failed} failed")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
