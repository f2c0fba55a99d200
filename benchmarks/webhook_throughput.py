"""Measures how many webhook events per second one `cancelflow serve` delivers to a local receiver.

Usage: python3 benchmarks/webhook_throughput.py [--binary PATH] [--events N] [--database URL]

Starts a receiver on loopback that answers 200 at once, starts `cancelflow serve` in a temporary
folder (SQLite unless --database names a PostgreSQL URL, then --secret is generated), adds an
endpoint, queues N events by minting N links as fast as 8 client threads can, and reports the
rate at which the receiver got them (first to last delivery) and the mint rate. Loopback only;
stops by itself. A benchmark reports figures; it asserts nothing.
"""
import argparse
import datetime
import http.server
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

parser = argparse.ArgumentParser()
parser.add_argument("--binary", default=".build/debug/cancelflow")
parser.add_argument("--events", type=int, default=1000)
parser.add_argument("--database")
args = parser.parse_args()

received = []
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with lock:
            received.append(time.monotonic())
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


receiver_port = free_port()
server = http.server.ThreadingHTTPServer(("127.0.0.1", receiver_port), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()

port = free_port()
folder = tempfile.mkdtemp()
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
# The keys are printed before the server starts listening: wait until it is ready.
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz") as response:
            if response.status == 200:
                break
    except OSError:
        time.sleep(0.05)


def api(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"x-ck-app": app, "x-ck-api-key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


try:
    api("PUT", "/v1/customers/cus_bench", {"name": "Bench"})
    api("POST", "/v1/webhook-endpoints", {"url": f"http://127.0.0.1:{receiver_port}/hooks", "events": ["cancel_link.created"]})
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: api("POST", "/v1/cancel-sessions", {"customerId": "cus_bench", "expiresAt": expires}), range(args.events)))
    minted = time.monotonic() - started
    deadline = time.time() + 300
    while len(received) < args.events and time.time() < deadline:
        time.sleep(0.05)
    with lock:
        times = sorted(received)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    print(json.dumps({
        "events": args.events,
        "delivered": len(times),
        "database": "postgres" if args.database else "sqlite",
        "mints_per_second": round(args.events / minted, 1),
        "deliveries_per_second": round((len(times) - 1) / span, 1) if span == span and span > 0 else None,
        "seconds_from_first_mint_to_last_delivery": round(times[-1] - started, 2) if times else None,
    }))
finally:
    serve.terminate()
    serve.wait(timeout=30)
    server.shutdown()
