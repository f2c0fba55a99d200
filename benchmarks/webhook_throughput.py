"""Webhook delivery against a local receiver: how fast one `cancelflow serve` drains a backlog, and
whether the backlog stays flat while links are minted steadily at half the maximum mint rate.

Usage: python3 benchmarks/webhook_throughput.py [--binary PATH] [--database URL] [--seconds 20]
           [--rate MINTS_PER_SECOND] [--json]

Starts a receiver on loopback that answers 200 at once (a small threaded HTTP/1.1 server, keep-
alive) and `cancelflow serve` in a temporary folder (SQLite at the default durability unless
--database names a PostgreSQL URL), adds an endpoint for `cancel_link.created`, then:
  1. maximum mint rate: wrk (mint.lua, 8 connections, 3 s) mints as fast as it can, every link
     queueing one delivery;
  2. drain rate: with minting stopped, deliveries per second until the receiver has them all;
  3. sustained: mints at --rate (default half of 1) for --seconds from 8 paced keep-alive
     clients, and samples the backlog (minted and answered, not yet received) once a second.
     The backlog is flat when its slope is near zero and it drains within seconds at the end.
Loopback only; stops by itself; figures only, it asserts nothing. The server runs with
`--allow-private-webhooks` (the receiver is on loopback), so deliveries go through the shared
client; the checked-address path keeps one client per address (`PinnedClients`), which
WebhookTests shows reusing its connections.
"""
import argparse
import datetime
import http.client
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "benchmarks", "wrk")

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "cancelflow"))
parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
parser.add_argument("--seconds", type=float, default=20, help="length of the sustained phase (default 20)")
parser.add_argument("--rate", type=float, help="sustained mints per second (default: half the measured maximum)")
parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines of text")
args = parser.parse_args()

received = 0
received_lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global received
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with received_lock:
            received += 1
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def count():
    with received_lock:
        return received


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message):
    if not args.json:
        print(message, flush=True)


receiver_port = free_port()
receiver = http.server.ThreadingHTTPServer(("127.0.0.1", receiver_port), Receiver)
receiver.daemon_threads = True
threading.Thread(target=receiver.serve_forever, daemon=True).start()

port = free_port()
folder = tempfile.mkdtemp(prefix="cf-webhooks-")
command = [os.path.abspath(args.binary), "serve", "--port", str(port), "--allow-private-webhooks", "--log-level", "warning",
           "--rate-limit", "1000000", "--rate-limit-burst", "1000000"]
if args.database:
    command += ["--database", args.database, "--secret", "benchmark-secret-0123456789-abcdefghij"]
serve = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
base = f"http://127.0.0.1:{port}"
output = ""
deadline = time.time() + 60
while "ck_test_" not in output and time.time() < deadline:
    output += serve.stdout.readline()
app = re.search(r"app_test_[a-z2-7]+", output).group(0)
key = re.search(r"ck_test_[a-z2-7]+", output).group(0)
# Keep reading the server's output so that it never blocks on a full pipe.
threading.Thread(target=lambda: [None for _ in serve.stdout], daemon=True).start()
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"{base}/readyz") as response:
            if response.status == 200:
                break
    except OSError:
        time.sleep(0.05)

HEADERS = {"x-ck-app": app, "x-ck-api-key": key, "Content-Type": "application/json"}


def api(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(), headers=HEADERS)
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def wait_for(target, limit):
    """Waits until the receiver has at least `target` deliveries and then no more arrive for a
    second (wrk may leave a few mints answered but uncounted when it stops); returns the seconds
    until the last one arrived, or None if `target` was not reached within `limit`."""
    started = time.monotonic()
    last, last_at = count(), time.monotonic()
    while True:
        now = time.monotonic()
        current = count()
        if current != last:
            last, last_at = current, now
        if current >= target and now - last_at >= 1:
            return last_at - started
        if now - started > limit:
            return None
        time.sleep(0.01)


result = {"database": "postgres" if args.database else "sqlite"}
try:
    api("PUT", "/v1/customers/cus_bench", {"name": "Bench"})
    api("POST", "/v1/webhook-endpoints", {"url": f"http://127.0.0.1:{receiver_port}/hooks", "events": ["cancel_link.created"]})
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    # 1. The maximum mint rate, with every link queueing a delivery.
    wrk = subprocess.run(["wrk", "-t", "1", "-c", "8", "-d", "3s", "-s", os.path.join(SCRIPTS, "mint.lua"), base, "--", app, key, expires],
                         check=True, text=True, capture_output=True, env={**os.environ, "WRK_SCRIPTS": SCRIPTS})
    stats = json.loads([line for line in wrk.stdout.splitlines() if line.startswith("{")][-1])
    minted = stats["ok"]
    result["max_mints_per_second"] = round(minted / (stats["duration_us"] / 1e6), 1)
    log(f"maximum mint rate (wrk, 8 connections, an endpoint wanting every link): {result['max_mints_per_second']:.0f}/s")

    # 2. The drain rate: what was queued during 1, delivered with nothing else running.
    at_stop = count()
    taken = wait_for(minted, 300)
    backlog = count() - at_stop
    result["backlog_after_max_rate"] = backlog
    result["drain_deliveries_per_second"] = round(backlog / taken, 1) if taken else None
    log(f"backlog when minting stopped: {backlog}; drained at {result['drain_deliveries_per_second']}/s")

    # 3. Sustained minting at half the maximum (or --rate), the backlog sampled every second.
    rate = args.rate or result["max_mints_per_second"] / 2
    result["sustained_rate_target"] = round(rate, 1)
    done_before = count()
    answered = [0] * 8
    stop_at = time.monotonic() + args.seconds

    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", port)
        body = json.dumps({"customerId": "cus_bench", "expiresAt": expires})
        interval = 8 / rate
        next_at = time.monotonic() + index * interval / 8
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            if next_at > now:
                time.sleep(next_at - now)
            next_at += interval
            connection.request("POST", "/v1/cancel-sessions", body=body, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            if response.status == 201:
                answered[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    samples = []
    while any(thread.is_alive() for thread in threads):
        time.sleep(1)
        samples.append({"t": round(time.monotonic() - started, 1), "minted": sum(answered), "backlog": sum(answered) - (count() - done_before)})
    for thread in threads:
        thread.join()
    total = sum(answered)
    elapsed = time.monotonic() - started
    drain = wait_for(done_before + total, 120)
    result["sustained_mints_per_second"] = round(total / elapsed, 1)
    result["sustained_backlog_samples"] = samples
    # The backlog's trend over the run, by least squares: deliveries per second it grows by.
    points = [(s["t"], s["backlog"]) for s in samples]
    if len(points) >= 2:
        mean_t = sum(t for t, _ in points) / len(points)
        mean_b = sum(b for _, b in points) / len(points)
        spread = sum((t - mean_t) ** 2 for t, _ in points)
        result["sustained_backlog_slope_per_second"] = round(sum((t - mean_t) * (b - mean_b) for t, b in points) / spread, 2) if spread else None
    result["sustained_backlog_max"] = max((s["backlog"] for s in samples), default=0)
    result["sustained_drain_seconds"] = round(drain, 2) if drain is not None else None
    result["delivered_all"] = count() - done_before == total
    log(f"sustained: {result['sustained_mints_per_second']:.0f} mints/s for {elapsed:.0f} s (target {rate:.0f}/s); "
        f"backlog each second: {' '.join(str(s['backlog']) for s in samples)}")
    log(f"backlog slope {result.get('sustained_backlog_slope_per_second')}/s, max {result['sustained_backlog_max']}; "
        f"the rest delivered {result['sustained_drain_seconds']} s after minting stopped; every delivery received: {result['delivered_all']}")
finally:
    serve.terminate()
    serve.wait(timeout=30)
    receiver.shutdown()
if args.json:
    print(json.dumps(result))
