"""A Flow backend as a team without a crypto library would write it: Python's standard library
only, plain JSON in and out. The gateway's end-to-end tests start it with `python3`.

It listens on 127.0.0.1 (port 0 picks a free one), prints `listening on PORT` and serves:

  POST /flow          the decrypted request as the gateway sends it; what it answers depends on
                      the action and on `data.mode` (see `answer` below)
  GET  /received      every request received so far, as a JSON list

When UPSTREAM_SECRET is set it checks X-Gateway-Signature-256 (HMAC-SHA256 of the raw body,
`sha256=<hex>`, the standard library's hmac module) and answers 401 to a call without a valid one.
"""

import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("UPSTREAM_SECRET", "").encode()
RECEIVED = []
LOCK = threading.Lock()


def answer(request, headers):
    """(status, body) for one decrypted request."""
    action = request.get("action")
    data = request.get("data") or {}
    mode = data.get("mode") if isinstance(data, dict) else None
    if action == "INIT":
        return 200, {"screen": "WELCOME", "data": {"greeting": "hello"}}
    if mode == "expired":
        return 427, {"error_msg": "Your booking session expired"}
    if mode == "expired_without_message":
        return 427, "gone"
    if mode == "slow":
        time.sleep(float(data.get("seconds", 3)))
        return 200, {"screen": "SLOW", "data": {}}
    if mode == "fail":
        return 503, {"error": "database down"}
    if mode == "not_json":
        return 200, "<html>oops</html>"
    # Echo: what the upstream saw, for the test to inspect.
    seen = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-")}
    return 200, {"screen": "ECHO", "data": {"request": request, "headers": seen}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def send(self, status, body):
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        if self.path == "/received":
            with LOCK:
                self.send(200, list(RECEIVED))
        else:
            self.send(404, {})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if SECRET:
            expected = "sha256=" + hmac.new(SECRET, raw, hashlib.sha256).hexdigest()
            given = self.headers.get("X-Gateway-Signature-256", "")
            if not hmac.compare_digest(expected, given):
                self.send(401, {"error": "bad gateway signature"})
                return
        request = json.loads(raw)
        with LOCK:
            RECEIVED.append(request)
        status, body = answer(request, self.headers)
        try:
            self.send(status, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway gave up (the timeout test)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512


def main():
    server = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    # The test closes our standard input when it is done: stop then, whatever happens to it.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
