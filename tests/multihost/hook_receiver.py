#!/usr/bin/python3
"""The multi-host test's webhook receiver: answers every POST with 204 and
appends it to --file as one JSON line (time, path, webhook headers, body).
Like tests/tools/webhook_catcher.py, but it listens on --host, an address
that both app hosts' notifiers reach.  Standard library only."""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--file", required=True)
    a = ap.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace")
            rec = {"time": time.time(), "path": self.path,
                   "peer": self.client_address[0],
                   "headers": {k.lower(): v for k, v in self.headers.items()
                               if k.lower().startswith("webhook-")},
                   "body": body}
            with lock, open(a.file, "a") as f:
                f.write(json.dumps(rec) + "\n")
            self.send_response(204)
            self.end_headers()

        def log_message(self, fmt, *args):
            sys.stderr.write("%s webhook %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"),
                                                 fmt % args))

    ThreadingHTTPServer((a.host, a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
