"""Webhook benchmark helpers (docs/bench/webhooks.sh): a receiver that records each delivery's
lag (arrival minus the event's occurred_at) and a loader that changes enterprises at a fixed
rate. Standard library only."""
import json
import os
import sys
import threading
import time
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def receive(port: int, out: str) -> None:
    lags, seen, lock = [], set(), threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            event = json.loads(body)
            at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp()
            with lock:
                lags.append(time.time() - at)
                seen.add(event["seq"])
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    def dump():
        # Twice a second, atomically (a reader never sees half a file).
        while True:
            time.sleep(0.5)
            with lock:
                data = {"received": len(lags), "distinct": len(seen), "lags": list(lags)}
            with open(out + ".tmp", "w") as f:
                json.dump(data, f)
            os.replace(out + ".tmp", out)

    threading.Thread(target=dump, daemon=True).start()
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def reset(path: str) -> None:
    """Waits until the receiver is idle (its count stops changing)."""
    last = -1
    while True:
        time.sleep(1.0)
        try:
            n = json.load(open(path))["received"]
        except (OSError, ValueError):
            n = 0
        if n == last:
            return
        last = n


def load(base: str, token: str, rate: float, seconds: float) -> None:
    def call(method, path, body=None):
        req = urllib.request.Request(base + path, method=method, data=body and json.dumps(body).encode(),
                                     headers={"authorization": f"Bearer {token}",
                                              "content-type": "application/merge-patch+json"})
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")

    ids = [e["id"] for e in call("GET", "/api/v1/enterprises?limit=200")["items"]]
    start, n = time.time(), 0
    while time.time() - start < seconds:
        wait = start + n / rate - time.time()
        if wait > 0:
            time.sleep(wait)
        call("PATCH", f"/api/v1/enterprises/{ids[n % len(ids)]}", {"address": f"绵阳市压测路 {n} 号"})
        n += 1
    print(f"sent {n} changes in {time.time() - start:.1f} s ({n / (time.time() - start):.0f}/s)")


def summary(path: str, skip: int) -> None:
    reset(path)
    data = json.load(open(path))
    lags = sorted(data["lags"][skip:])
    pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] * 1000
    print(f"received {len(lags)} ({data['distinct']} distinct in all); lag p50 {pick(0.5):.0f} ms, "
          f"p99 {pick(0.99):.0f} ms, max {lags[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    {"receive": lambda: receive(int(sys.argv[2]), sys.argv[3]),
     "load": lambda: load(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])),
     "count": lambda: (reset(sys.argv[2]), print(json.load(open(sys.argv[2]))["received"])),
     "summary": lambda: summary(sys.argv[2], int(sys.argv[3]))}[sys.argv[1]]()
