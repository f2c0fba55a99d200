#!/usr/bin/env python3
"""Verifies one Cancelflow webhook delivery (Standard Webhooks), with Python's standard library only.

    WEBHOOK_SECRET=whsec_… WEBHOOK_ID=evt_… WEBHOOK_TIMESTAMP=1764517427 \\
    WEBHOOK_SIGNATURE='v1,…' python3 verify.py < body.json

Prints the event's type and exits 0 when the delivery is authentic; prints why not to stderr and
exits 1 otherwise. Copy `verify_webhook` into your app; the rest is this demo's plumbing.
"""
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import sys
import time

# ---- The part to copy -------------------------------------------------------------------------

# Refuse timestamps further than this from our clock, either way: a captured delivery cannot be
# replayed later, and the signature covers the timestamp, so it cannot be moved forward.
TOLERANCE_SECONDS = 300


class WebhookVerificationError(Exception):
    pass


def verify_webhook(secret, webhook_id, timestamp, signature, body, now=None):
    """Checks a delivery and returns the event it carries (a dict).

    secret     the endpoint's signing secret, `whsec_…` (shown when it was created or rotated)
    webhook_id the `webhook-id` header (the event id, the same on every retry: deduplicate on it)
    timestamp  the `webhook-timestamp` header (seconds since 1970)
    signature  the `webhook-signature` header: space-separated `v1,<base64>` values
    body       the RAW request body as bytes, exactly as received. Parsed and re-serialised JSON
               does not hash the same, so verify first and parse after (Flask:
               `request.get_data()`, Django: `request.body`, FastAPI: `await request.body()`).
    now        seconds since 1970 (default: the clock)
    """
    if not webhook_id or not timestamp or not signature:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    # The key is the base64 part after `whsec_`, decoded: the bytes, not the text.
    encoded = secret[len("whsec_"):] if secret and secret.startswith("whsec_") else (secret or "")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise WebhookVerificationError("the secret is not a whsec_ value with a base64 key")

    if not re.fullmatch(r"[0-9]{1,15}", timestamp):
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds")
    now = int(time.time()) if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("webhook-timestamp is more than 5 minutes from now (a replay, or a wrong clock)")

    # The signed content binds the id and the timestamp to the body: `{id}.{timestamp}.{body}`.
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = hmac.new(key, signed, hashlib.sha256).digest()

    # During a secret rotation there are two signatures (new secret, old secret): any may match.
    for candidate in signature.split(" "):
        if not candidate.startswith("v1,"):
            continue  # other schemes are not ours
        try:
            given = base64.b64decode(candidate[3:], validate=True)
        except (binascii.Error, ValueError):
            continue
        # Constant time: a comparison that stops at the first wrong byte would let an attacker
        # find a valid signature byte by byte by timing it.
        if hmac.compare_digest(given, expected):
            break
    else:
        raise WebhookVerificationError("no signature matches: not from Cancelflow, altered, or another secret")

    # Only now is the body trusted enough to parse.
    try:
        return json.loads(body)
    except ValueError:
        raise WebhookVerificationError("the signature is valid but the body is not JSON") from None


# ---- Demo: environment and stdin in, the event's type out --------------------------------------

def main():
    env = os.environ
    body = sys.stdin.buffer.read()
    try:
        event = verify_webhook(env.get("WEBHOOK_SECRET", ""), env.get("WEBHOOK_ID", ""),
                               env.get("WEBHOOK_TIMESTAMP", ""), env.get("WEBHOOK_SIGNATURE", ""), body)
    except WebhookVerificationError as error:
        # In a server: answer 400 and do not act on the body.
        print(f"invalid webhook: {error}", file=sys.stderr)
        sys.exit(1)
    # Handle it here, then answer 2xx quickly; anything else is retried.
    print(event.get("type") if isinstance(event, dict) else None)


if __name__ == "__main__":
    main()
