"""Schemathesis hooks for scripts/reliability/fuzz (loaded through SCHEMATHESIS_HOOKS).

1. Idempotency-Key: a well-formed key the fuzzer generates is replaced by a fresh one on every
   request. Generated keys repeat ("0", "00", ...), and Bookline rightly answers a key reused with
   another request 422 (or replays the first answer for the same request), which says nothing
   about the request under test and makes checks such as positive_data_acceptance fail on it.
   Malformed keys (negative cases) are sent as generated: the server must refuse them. Cases whose
   headers are deliberately wrong (say, Authorization left out) are not touched at all: editing
   their headers would make schemathesis treat them as positive and send the credential again.
2. The fuzzing identities stay alive: revoking or rotating the tenant's own API key (ids the
   fuzzer learns from GET /api/keys) would turn the rest of the run into 401s, so those two
   operations get a random id instead when they name it (they are still called, and answer 404).
3. Signed webhooks: positive cases to /webhooks/voice/{tenant} and /webhooks/twilio/{tenant}/...
   for the fuzzing tenant are signed with the secret the server will check, so the handlers
   behind the signature check are fuzzed too, not just the 403. The secrets follow the run: a
   successful PUT /api/settings/messaging that sets a Twilio token is noticed, and the voice
   secret is put back (PUT /api/settings/calls) when the fuzzer has changed it.
4. Fresh numbers: the phone dictionary (fuzz.py) holds the seeded leads' numbers, so most
   positive POST /api/leads cases would be duplicates (409); every other one gets a number no
   lead has yet, so leads get created and the stateful phase can follow them.
5. Every response's status is counted per operation into FUZZ_STATS (JSON), for the report and
   as a second count of 5xx answers that does not depend on schemathesis' checks.
Configuration comes from FUZZ_IDENTITIES (a JSON file written by fuzz.py).
"""
import atexit
import base64
import hashlib
import hmac
import json
import os
import re
import threading
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlencode

import schemathesis
from schemathesis.core.parameters import ParameterLocation

IDENTITIES = json.load(open(os.environ["FUZZ_IDENTITIES"])) if os.environ.get("FUZZ_IDENTITIES") else {}
PROTECTED_KEY_IDS = {IDENTITIES.get("apiKeyId")} - {None}
TENANT = IDENTITIES.get("tenantId")
BASE_URL = os.environ.get("BOOKLINE_URL", "").rstrip("/")
PUBLIC_URL = os.environ.get("BOOKLINE_PUBLIC_URL", BASE_URL).rstrip("/")
SECRETS = {"voice": IDENTITIES.get("voiceSecret"), "twilio": os.environ.get("TWILIO_AUTH_TOKEN"),
           "platformTwilio": os.environ.get("TWILIO_AUTH_TOKEN")}
WELL_FORMED_KEY = re.compile(r"^[!-~]{1,255}$")
STATS = {}
COUNTER = [0]
STATS_LOCK = threading.Lock()


@atexit.register
def _write_stats():
    if os.environ.get("FUZZ_STATS"):
        with STATS_LOCK, open(os.environ["FUZZ_STATS"], "w") as file:
            json.dump(STATS, file, indent=1, sort_keys=True)


def _header(case, name):
    for key, value in (case.headers or {}).items():
        if key.lower() == name.lower():
            return key, value
    return None, None


def _positive(case):
    meta = getattr(case, "_meta", None)
    return meta is None or not meta.generation.mode.is_negative


def _set_header(case, name, value):
    if case.headers is None:
        case.headers = {}
    key, _ = _header(case, name)
    case.headers[key or name] = value


def _restore_voice_secret():
    """The fuzzer also calls PUT /api/settings/calls, which may clear or replace the secret; put
    ours back so signed webhook cases reach the handler instead of the 403."""
    body = json.dumps({"webhookSecret": IDENTITIES["voiceSecret"]}).encode()
    request = urllib.request.Request(BASE_URL + "/api/settings/calls", data=body, method="PUT", headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + IDENTITIES["apiKey"]})
    try:
        with urllib.request.urlopen(request, timeout=30):
            SECRETS["voice"] = IDENTITIES["voiceSecret"]
    except urllib.error.URLError:
        pass


def _sign_voice(case):
    if SECRETS["voice"] != IDENTITIES.get("voiceSecret"):
        _restore_voice_secret()
    if not SECRETS["voice"] or not isinstance(case.body, (dict, list)):
        return
    # The server checks the raw bytes; send exactly the bytes that were signed.
    raw = json.dumps(case.body, separators=(",", ":")).encode()
    _set_header(case, "X-Vapi-Signature", hmac.new(SECRETS["voice"].encode(), raw, hashlib.sha256).hexdigest())
    return raw


def _sign_twilio(case):
    token = SECRETS["twilio"]
    if not token or not isinstance(case.body, dict):
        return
    url = PUBLIC_URL + case.formatted_path
    if case.query:
        url += "?" + urlencode(case.query, doseq=True)
    params = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in case.body.items()}
    data = url + "".join(k + params[k] for k in sorted(params))
    signature = base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()
    _set_header(case, "X-Twilio-Signature", signature)
    case.body = params


def _negative_headers(case):
    meta = getattr(case, "_meta", None)
    return meta is not None and meta.is_negative_at(ParameterLocation.HEADER)


@schemathesis.hook
def before_call(context, case, kwargs):
    key, value = _header(case, "Idempotency-Key")
    if key is not None and isinstance(value, str) and WELL_FORMED_KEY.match(value) and not _negative_headers(case):
        case.headers[key] = "fuzz-" + uuid.uuid4().hex
    if case.method.upper() == "POST" and case.path == "/api/leads" and _positive(case) and isinstance(case.body, dict):
        with STATS_LOCK:
            COUNTER[0] += 1
            fresh = COUNTER[0] % 2 == 0
            number = f"07400 3{COUNTER[0] % 100000:05d}"
        if fresh and isinstance(case.body.get("phone"), str):
            case.body["phone"] = number
    if case.path in ("/api/keys/{id}", "/api/keys/{id}/rotate") and case.path_parameters.get("id") in PROTECTED_KEY_IDS:
        case.path_parameters["id"] = str(uuid.uuid4())
    if TENANT and case.path_parameters.get("tenant") == TENANT and _positive(case):
        if case.path == "/webhooks/voice/{tenant}":
            raw = _sign_voice(case)
            if raw is not None:
                kwargs["data"] = raw
        elif case.path.startswith("/webhooks/twilio/"):
            _sign_twilio(case)


@schemathesis.hook
def after_call(context, case, response):
    with STATS_LOCK:
        counts = STATS.setdefault(f"{case.method.upper()} {case.path}", {})
        counts[str(response.status_code)] = counts.get(str(response.status_code), 0) + 1
    if response.status_code != 200 or not isinstance(case.body, dict):
        return
    if case.method.upper() == "PUT" and case.path == "/api/settings/calls" and isinstance(case.body.get("webhookSecret"), str):
        SECRETS["voice"] = case.body["webhookSecret"] or None
    if case.method.upper() == "PUT" and case.path == "/api/settings/messaging" and isinstance(case.body.get("twilioAuthToken"), str):
        SECRETS["twilio"] = case.body["twilioAuthToken"] or SECRETS["platformTwilio"]
