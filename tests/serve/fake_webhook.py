#!/usr/bin/env python3
"""fake_webhook.py - a signed-webhook receiver for the serve tests.

Listens on a free loopback port (written to PORTFILE once bound), checks each
POST's X-Sopgate-Signature (sha256=HMAC-SHA256(secret, timestamp "." body))
and that the body's "id" equals the Idempotency-Key header, answers 200 and
appends the key to LOG, one line per request. Effects are the distinct keys
in LOG (a vendor that deduplicates on the key); raw requests are its lines.
A request with a bad signature or a missing key is answered 401 or 400 and
not logged, so the sender's outbox turns it into a dead letter.

usage: fake_webhook.py PORTFILE LOG   (secret in $SG_FAKE_HOOK_SECRET)
"""
import hashlib, hmac, http.server, json, os, sys, threading

secret = os.environ["SG_FAKE_HOOK_SECRET"].encode()
portfile, logpath = sys.argv[1], sys.argv[2]
lock = threading.Lock()
log = open(logpath, "a")


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-Sopgate-Timestamp", "")
        sig = self.headers.get("X-Sopgate-Signature", "")
        key = self.headers.get("Idempotency-Key", "")
        want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, want):
            return self.answer(401, b'{"error":"bad signature"}')
        try:
            doc = json.loads(body)
        except ValueError:
            return self.answer(400, b'{"error":"body is not JSON"}')
        if not key or doc.get("id") != key:
            return self.answer(400, b'{"error":"Idempotency-Key missing or not the body id"}')
        with lock:
            log.write(key + "\n")
            log.flush()
        self.answer(200, b'{"ok":true}')

    def answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # three senders with several requests in flight each
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Hook)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
