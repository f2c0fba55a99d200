"""A real SMTP server for the tests (aiosmtpd): stores every message it accepts as a .eml file.

Usage: smtp_sink.py PORT MAILDIR [--starttls CERT KEY] [--auth USER:PASS] [--reject ADDRESS]
Prints "ready" once listening; runs until killed.
"""
import argparse
import os
import ssl
import time
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("maildir")
parser.add_argument("--starttls", nargs=2)
parser.add_argument("--auth")
parser.add_argument("--reject")
args = parser.parse_args()


class Store:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if args.reject and address == args.reject:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(args.maildir, f"{time.time():.6f}-{uuid.uuid4().hex}.eml")
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.content)
        os.rename(name + ".tmp", name)
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    # Every login that reached the server, so a test can prove none was sent in the clear.
    with open(os.path.join(args.maildir, f"{uuid.uuid4().hex}.auth"), "w") as f:
        f.write("tls" if session.ssl else "plain")
    user, password = args.auth.split(":", 1)
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    # handled=False: let aiosmtpd answer 535 itself on a failure (True would send nothing).
    return AuthResult(success=ok, handled=False)


kwargs = {}
if args.starttls:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*args.starttls)
    kwargs["tls_context"] = context
if args.auth:
    kwargs["authenticator"] = authenticator
    kwargs["auth_require_tls"] = bool(args.starttls)
else:
    kwargs["auth_require_tls"] = False

os.makedirs(args.maildir, exist_ok=True)
controller = Controller(Store(), hostname="127.0.0.1", port=args.port, **kwargs)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
