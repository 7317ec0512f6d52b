#!/usr/bin/python3
"""Webhook catcher for development: answers every POST with 204 and
appends it to --file as one JSON line (time, path, the sender's address,
webhook headers, body), and logs a line per delivery.  It listens on
--host (127.0.0.1; the multi-host test gives the address both app hosts
reach).  Standard library only."""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--file", required=True)
    a = ap.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace")
            rec = {"time": time.time(), "path": self.path, "peer": self.client_address[0],
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
