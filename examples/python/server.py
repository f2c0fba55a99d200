#!/usr/bin/env python3
"""A "Cancel subscription" backend with Python's standard library only.

Run: CANCELFLOW_APP_ID=app_test_… CANCELFLOW_API_KEY=ck_test_… python3 server.py
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE_URL = os.environ.get("CANCELFLOW_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
APP_ID = os.environ.get("CANCELFLOW_APP_ID")
API_KEY = os.environ.get("CANCELFLOW_API_KEY")
PORT = int(os.environ.get("PORT", "3000"))

PAGE = """<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Your account</title>
<h1>Your subscription</h1>

<!-- Server-side redirect: a plain form; the server answers 302 to the Cancel Link. -->
<form method="post" action="/cancel-subscription">
  <button type="submit">Cancel subscription</button>
</form>

<!-- Client-side redirect, as a single-page app does it. -->
<p><button type="button" id="cancel-spa">Cancel subscription (client-side)</button></p>
<script>
document.getElementById('cancel-spa').addEventListener('click', async () => {
  const response = await fetch('/api/cancel-link', { method: 'POST' });
  if (!response.ok) return alert(await response.text());
  const { url } = await response.json();
  window.location.href = url;
});
</script>
</html>
"""


class CancelflowError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")


def current_user(request):
    """A real app takes these from its session (the logged-in user), never from
    the request, so nobody can mint a link for someone else's subscription."""
    return (
        os.environ.get("EXAMPLE_CUSTOMER_ID", "cus_abc123"),
        os.environ.get("EXAMPLE_SUBSCRIPTION_ID", "sub_xyz789"),
    )


def mint_cancel_link(customer_id, subscription_id):
    # Short-lived: the customer is about to be redirected to it.
    expires_at = datetime.now(timezone.utc) + timedelta(hours=1)
    body = {
        "customerId": customer_id,
        "subscriptionId": subscription_id,
        "expiresAt": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    request = urllib.request.Request(
        f"{BASE_URL}/v1/cancel-sessions",
        method="POST",
        data=json.dumps(body).encode(),
        headers={
            "x-ck-app": APP_ID,
            "x-ck-api-key": API_KEY,
            "Content-Type": "application/json",
            # One key per click. Should this request be retried (say, after a
            # timeout), resend it with the same key: the server then answers
            # with the link it already minted instead of minting a second one.
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            url = json.load(response).get("url")
    except urllib.error.HTTPError as response:
        try:
            error = json.load(response).get("error") or {}
        except ValueError:
            error = {}
        raise CancelflowError(
            error.get("code", f"http_{response.code}"),
            f"{error.get('message', 'unexpected response')} (request {error.get('request_id', 'unknown')})",
        ) from None
    except (OSError, ValueError) as exc:  # refused, timed out, not JSON
        raise CancelflowError("unreachable", f"no usable answer from Cancelflow ({exc})") from None
    if not url:
        raise CancelflowError("no_url", "the response had no url")
    # Log who, never the url or token: the link works for whoever holds it.
    print(f"minted a cancel link for {customer_id}", file=sys.stderr)
    return url


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path != "/":
            return self.respond(404, "text/plain; charset=utf-8", "Not found\n")
        self.respond(200, "text/html; charset=utf-8", PAGE)

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        # A real app also checks its session and CSRF token here.
        if path not in ("/cancel-subscription", "/api/cancel-link"):
            return self.respond(404, "text/plain; charset=utf-8", "Not found\n")
        try:
            url = mint_cancel_link(*current_user(self))
        except CancelflowError as exc:
            print(f"cancel link failed: {exc}", file=sys.stderr)
            return self.respond(502, "text/plain; charset=utf-8", f"Could not start cancellation: {exc}\n")
        if path == "/cancel-subscription":
            self.respond(302, None, "", {"Location": url})
        else:
            self.respond(200, "application/json", json.dumps({"url": url}))

    def respond(self, status, content_type, text, headers=None):
        data = text.encode()
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        # no-store: a minted url is a credential; no cache should keep a copy.
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def main():
    # The API key stays on this server: the browser only ever talks to us.
    if not APP_ID or not API_KEY:
        sys.exit("Set CANCELFLOW_APP_ID and CANCELFLOW_API_KEY (the first `cancelflow serve` prints the test ones).")
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(f"listening on http://127.0.0.1:{PORT}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
