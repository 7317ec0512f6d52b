#!/usr/bin/python3
"""SMTP catcher for development and tests: accepts every message and keeps
it as one .eml file under --dir, named so that `ls` lists them in order.
Recipients whose local part starts with "reject" are refused with 550 and
those starting with "tempfail" with 451, so tests can see real SMTP
refusals; a message to one starting with "slow" is accepted after 2
seconds, so tests can act while a send is under way.  Uses Debian's python3-aiosmtpd (run with /usr/bin/python3)."""
import argparse
import asyncio
import os
import signal
import ssl
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Keep:
    def __init__(self, directory):
        self.dir = directory
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("tempfail"):
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.split("@")[0].lower().startswith("slow") for r in envelope.rcpt_tos):
            await asyncio.sleep(2)
        self.n += 1
        name = "%d-%06d-%d.eml" % (time.time_ns(), self.n, os.getpid())
        tmp = os.path.join(self.dir, "." + name)
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-From: %s\r\n" % envelope.mail_from.encode())
            for rcpt in envelope.rcpt_tos:
                f.write(b"X-Envelope-To: %s\r\n" % rcpt.encode())
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.dir, name))
        return "250 Message accepted for delivery"


def authenticator(user, password):
    """AUTH PLAIN/LOGIN accepting exactly user:password."""
    def check(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword) and data.login == user.encode()
              and data.password == password.encode())
        # handled=False: aiosmtpd answers 535 itself
        return AuthResult(success=ok, handled=False)
    return check


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls-cert", help="offer STARTTLS with this certificate")
    ap.add_argument("--tls-key")
    ap.add_argument("--require-starttls", action="store_true")
    ap.add_argument("--auth", metavar="USER:PASSWORD", help="require AUTH")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    kw = {}
    if a.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        kw.update(tls_context=ctx, require_starttls=a.require_starttls)
    if a.auth:
        user, _, password = a.auth.partition(":")
        kw.update(authenticator=authenticator(user, password), auth_required=True,
                  auth_require_tls=bool(a.tls_cert))
    ctl = Controller(Keep(a.dir), hostname=a.host, port=a.port, **kw)
    ctl.start()
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    ctl.stop()


if __name__ == "__main__":
    main()
