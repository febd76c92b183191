"""
Schemathesis hooks for the contract run (test/contract): what a conforming client does that a JSON Schema cannot say.

- Support webhooks are signed: HMAC-SHA256 of "<timestamp>.<METHOD>.<path and query>.<raw body>" with the secret,
  computed here over the exact bytes sent (README). Only requests carrying schemathesis.toml's placeholder credential
  are signed: the auth checks' probes without it, or with another value, must be refused.
- Twilio's webhooks are signed as Twilio does (twilio-node's getExpectedTwilioSignature: base64 HMAC-SHA1 of the
  public URL followed by each posted parameter, sorted, as name + value), over the form this hook encodes and sends.
- An Idempotency-Key is unique per request (the API answers 422 to a key reused for another request): a generated
  key that is valid is replaced by a fresh UUID.
- Rules across fields or against the clock: an event's `occurredAt` not in the future, a report's `from` before its
  `to` and at most ten years apart. A valid value that breaks them is replaced by one inside them (an event's time
  by a minute ago, a report's start by the default); invalid values stay.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import schemathesis
from requests.utils import requote_uri

SECRET = os.environ["SUPPORT_WEBHOOK_SECRET"].encode()
TWILIO_AUTH_TOKEN = os.environ["TWILIO_AUTH_TOKEN"].encode()
PUBLIC_BASE_URL = os.environ["PUBLIC_BASE_URL"]
TWILIO_SIGNATURE_HEADER = "x-twilio-signature"
TIMESTAMP_HEADER = "x-retention-timestamp"
SIGNATURE_HEADER = "x-retention-signature"
SIGN_THIS = "sign-this-request"
IDEMPOTENCY_HEADER = "idempotency-key"
VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")
MAX_PERIOD = timedelta(days=3653)


def _header(headers, name):
    for key in headers or {}:
        if key.lower() == name:
            return key
    return None


def _parse_time(text):
    if not isinstance(text, str) or text == "":
        return None
    if text.startswith("0000-"):  # valid in ISO 8601 and to the API, before Python's datetime.min
        return datetime.min.replace(tzinfo=timezone.utc)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _iso(value):
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fresh_idempotency_key(case):
    name = _header(case.headers, IDEMPOTENCY_HEADER)
    if name is not None and isinstance(case.headers[name], str) and VALID_KEY.fullmatch(case.headers[name]):
        case.headers[name] = str(uuid.uuid4())


def _event_not_in_future(case):
    if not isinstance(case.body, dict) or not case.operation.path.endswith("/events"):
        return
    at = _parse_time(case.body.get("occurredAt"))
    if at is not None and at > datetime.now(timezone.utc):
        case.body["occurredAt"] = _iso(datetime.now(timezone.utc) - timedelta(minutes=1))


def _report_period(case):
    if not case.operation.path.startswith("/reports") or not isinstance(case.query, dict):
        return
    start, end = _parse_time(case.query.get("from")), _parse_time(case.query.get("to"))
    now = datetime.now(timezone.utc)
    # An empty or missing `to` is now. A period out of order or too long gets the default start (90 days before `to`).
    if start is not None and end is None and not (now - MAX_PERIOD + timedelta(days=1) <= start < now - timedelta(minutes=1)):
        case.query["from"] = ""
    if end is not None and start is not None and not (timedelta(0) < end - start <= MAX_PERIOD):
        case.query["from"] = ""


def _sign(case, kwargs):
    signature_name, timestamp_name = _header(case.headers, SIGNATURE_HEADER), _header(case.headers, TIMESTAMP_HEADER)
    if signature_name is None or timestamp_name is None or case.headers[signature_name] != SIGN_THIS:
        return
    sent = case.as_transport_kwargs(base_url="http://api.invalid")
    body = json.dumps(sent["json"]).encode() if "json" in sent else sent.get("data") or b""
    if isinstance(body, str):
        body = body.encode()
    # These bytes, and no re-serialization of them, are what goes out and what is signed.
    if body:
        kwargs["data"] = body
    url = urlsplit(requote_uri(sent["url"]))
    path = url.path + (f"?{url.query}" if url.query else "")
    timestamp = str(int(time.time()))
    signed = f"{timestamp}.{case.method.upper()}.{path}.".encode() + body
    case.headers[timestamp_name] = timestamp
    case.headers[signature_name] = "sha256=" + hmac.new(SECRET, signed, hashlib.sha256).hexdigest()


def _js_order(text):
    """JavaScript's sort order (UTF-16 code units), which Twilio's Node.js validator uses."""
    return text.encode("utf-16-be")


def _form_value(value):
    return value if isinstance(value, str) else json.dumps(value)


def _sign_twilio(case, kwargs):
    name = _header(case.headers, TWILIO_SIGNATURE_HEADER)
    if name is None or case.headers[name] != SIGN_THIS or not isinstance(case.body, dict):
        return
    pairs = [(key, _form_value(item)) for key, value in case.body.items() for item in (value if isinstance(value, list) else [value])]
    encoded = urlencode(pairs)
    received = parse_qs(encoded, keep_blank_values=True)
    url = urlsplit(requote_uri(case.as_transport_kwargs(base_url=PUBLIC_BASE_URL)["url"]))
    data = PUBLIC_BASE_URL + url.path + (f"?{url.query}" if url.query else "")
    for key in sorted(received, key=_js_order):
        values = received[key]
        for value in sorted(set(values), key=_js_order) if len(values) > 1 else values:
            data += key + value
    case.headers[name] = base64.b64encode(hmac.new(TWILIO_AUTH_TOKEN, data.encode(), hashlib.sha1).digest()).decode()
    kwargs["data"] = encoded.encode()


@schemathesis.hook
def before_call(context, case, kwargs):
    _fresh_idempotency_key(case)
    _event_not_in_future(case)
    _report_period(case)
    _sign(case, kwargs)
    _sign_twilio(case, kwargs)
