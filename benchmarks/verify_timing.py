"""Measures whether asking for a verification code takes the same time for a customer's address as
for an unknown one: the timing side of "no enumeration".

Usage: python3 benchmarks/verify_timing.py [--binary PATH] [--rounds N]

Starts a real SMTP server (aiosmtpd, Tests/email/smtp_sink.py) and `cancelflow serve` on SQLite in
a temporary folder, pushes a customer, then alternates POST /verify for the customer's address and
for unknown addresses (fresh each time, so no rate limit is reached) and reports the response-time
distribution of each and the difference of their medians. Loopback only; stops by itself. A
benchmark reports figures; it asserts nothing.
"""
import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser()
parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/cancelflow"))
parser.add_argument("--rounds", type=int, default=200)
args = parser.parse_args()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


folder = tempfile.mkdtemp(prefix="cf-verify-timing-")
smtp_port, port = free_port(), free_port()
sink = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/email/smtp_sink.py"), str(smtp_port), os.path.join(folder, "mail")],
                        stdout=subprocess.PIPE, text=True)
sink.stdout.readline()
log = open(os.path.join(folder, "serve.log"), "w+")
server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--smtp-url", f"smtp://127.0.0.1:{smtp_port}",
                           "--verify-client-limit", "1000000", "--verify-organization-limit", "1000000", "--log-level", "warning"],
                          cwd=folder, stdout=log, stderr=subprocess.STDOUT)
base = f"http://127.0.0.1:{port}"
try:
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/readyz")
            break
        except Exception:
            time.sleep(0.05)
    time.sleep(0.3)
    text = open(log.name).read()
    app = re.search(r"app_test_[a-z2-7]+", text).group(0)
    key = re.search(r"ck_test_[a-z2-7]+", text).group(0)

    def api(method, path, body):
        request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode(),
                                         headers={"x-ck-app": app, "x-ck-api-key": key, "Content-Type": "application/json"})
        urllib.request.urlopen(request).read()

    api("PUT", "/v1/customers/cus_timing", {"email": "known@example.com", "name": "Known"})
    api("PUT", "/v1/customers/cus_timing/subscriptions/sub_timing", {"status": "active", "planName": "Pro"})

    def ask(address):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
        page = opener.open(f"{base}/verify?org={app}").read().decode()
        csrf = re.search(r'name="csrf" value="([a-z2-7]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrf": csrf, "org": app, "email": address}).encode()
        started = time.perf_counter()
        try:
            opener.open(base + "/verify", data=body)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        elapsed = time.perf_counter() - started
        assert status == 303, f"unexpected status {status}"
        return elapsed * 1000

    known, unknown = [], []
    for round_ in range(args.rounds):
        # The known address stays under its hourly limit by using fresh sub-addresses of the
        # limit's scope: the limit is per address, so rotate the customer's email every 4 rounds.
        if round_ % 4 == 0:
            address = f"known{round_}@example.com"
            api("PUT", "/v1/customers/cus_timing", {"email": address, "name": "Known"})
        known.append(ask(address))
        unknown.append(ask(f"stranger{round_}@example.com"))

    def describe(samples):
        samples = sorted(samples)
        return {"median_ms": statistics.median(samples), "p90_ms": samples[int(len(samples) * 0.9)], "mean_ms": statistics.mean(samples)}

    result = {"rounds": args.rounds, "known": describe(known), "unknown": describe(unknown)}
    result["median_difference_ms"] = result["known"]["median_ms"] - result["unknown"]["median_ms"]
    print(json.dumps(result, indent=2))
finally:
    server.terminate()
    server.wait()
    sink.kill()
