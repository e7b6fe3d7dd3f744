"""A private Dovecot (IMAP + LMTP) for the test suite and the demo.

Started in foreground mode from a temp directory, with nothing from /etc/dovecot, on free
loopback ports; every user shares the server's random password (see ``add_user``). Facts this
relies on are in ../shared/testing.md ("Dovecot (IMAP) started by the test suite").

    server = DovecotServer.start()
    password = server.add_user("claire")
    server.deliver("claire", raw_bytes)             # LMTP, like a real MTA
    server.append("claire", raw_bytes, when=dt)     # IMAP APPEND with a chosen INTERNALDATE
    server.stop()
"""

from __future__ import annotations

import imaplib
import os
import pwd
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


class DovecotUnavailable(RuntimeError):
    """Dovecot is not installed (or cannot start) on this machine."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_dovecot() -> str | None:
    for candidate in (shutil.which("dovecot"), "/usr/sbin/dovecot"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _mail_owner() -> tuple[str, int, int, str]:
    """(user, uid, gid, login user): Dovecot refuses to touch mail as root."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        login = "dovenull"
        try:
            pwd.getpwnam(login)
        except KeyError:
            login = "nobody"
        return "nobody", nobody.pw_uid, nobody.pw_gid, login
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_uid, me.pw_gid, me.pw_name


def _self_signed_certificate(root: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 (openssl CLI); None when openssl is not there."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    os.chmod(key, 0o644)  # read by Dovecot's config parser, which may not run as root
    return cert, key


@dataclass
class DovecotServer:
    root: Path
    imap_port: int
    lmtp_port: int
    process: subprocess.Popen[bytes]
    password: str = ""
    imaps_port: int | None = None  # implicit TLS, with the self-signed ``certificate``
    certificate: Path | None = None
    users: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"

    @classmethod
    def start(
        cls,
        root: Path | None = None,
        *,
        imap_port: int | None = None,
        lmtp_port: int | None = None,
    ) -> DovecotServer:
        """Start in ``root`` (a fresh temp directory by default; an existing one keeps its
        mail), on the ports given or free ones."""
        binary = find_dovecot()
        if binary is None:
            raise DovecotUnavailable(
                "dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)"
            )
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="temoin-dovecot-"))
        root.mkdir(parents=True, exist_ok=True)
        # The mail user must be able to enter every directory on the way (see testing.md).
        os.chmod(root, 0o755)
        user, uid, gid, login_user = _mail_owner()
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(exist_ok=True)
        os.chown(root / "mail", uid, gid)
        password = secrets.token_urlsafe(16)
        imap_port, lmtp_port = imap_port or free_port(), lmtp_port or free_port()
        imaps_port = free_port()
        cert = _self_signed_certificate(root)
        internal = "dovecot" if os.geteuid() == 0 else user
        ssl_settings = (
            f"ssl = yes\nssl_cert = <{cert[0]}\nssl_key = <{cert[1]}" if cert else "ssl = no"
        )
        config = f"""
base_dir = {root}/run
state_dir = {root}/state
protocols = imap lmtp
listen = 127.0.0.1
{ssl_settings}
disable_plaintext_auth = no
# A wrong password in one test must not slow every later login from loopback down
# (Dovecot's auth penalty): the whole machine is trusted here.
login_trusted_networks = 127.0.0.0/8
auth_mechanisms = plain login
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%n/Maildir
default_internal_user = {internal}
default_login_user = {login_user}
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 0
protocol lmtp {{
  postmaster_address = postmaster@temoin.example
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Junk {{
    special_use = \\Junk
    auto = create
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%n allow_all_users=yes
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port if cert else 0}
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
service stats {{
  chroot =
}}
"""
        conf = root / "dovecot.conf"
        # It holds the mail password: its owner's only (Dovecot's master reads it as such).
        with os.fdopen(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write(config)
        os.chmod(conf, 0o600)  # also when a previous run left it with wider bits
        process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        server = cls(root, imap_port, lmtp_port, process, password=password)
        if cert:
            server.imaps_port, server.certificate = imaps_port, cert[0]
        try:
            server._wait_ready()
        except Exception:
            server.stop()
            raise
        return server

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                log = self.log()
                raise DovecotUnavailable(f"dovecot exited: {err.strip()} {log[-2000:]}")
            try:
                with socket.create_connection((self.host, self.imap_port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise DovecotUnavailable(
            f"dovecot did not greet on port {self.imap_port}: {self.log()[-2000:]}"
        )

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def add_user(self, user: str, password: str | None = None) -> str:
        """Register a mailbox user; returns its password (the server's shared one).

        Every user shares one random password and the static userdb accepts any name:
        Dovecot re-reads a passwd-file at most once a second, so users added in quick
        succession would otherwise be unknown for up to a second.
        """
        if password is not None and password != self.password:
            raise ValueError("this test server gives every user its shared password")
        self.users[user] = self.password
        return self.password

    def imap(self, user: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.imap_port, timeout=10)
        conn.login(user, self.users[user])
        return conn

    def deliver(self, user: str, raw: bytes, sender: str = "sender@mairie.example") -> None:
        """Deliver over LMTP, as a mail server would (Dovecot stamps INTERNALDATE = now)."""
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail(sender, [user], raw)

    def append(
        self,
        user: str,
        raw: bytes,
        *,
        mailbox: str = "INBOX",
        when: datetime | None = None,
        flags: str = "",
    ) -> tuple[int, int]:
        """IMAP APPEND with an INTERNALDATE; returns (UIDVALIDITY, UID) from APPENDUID."""
        conn = self.imap(user)
        try:
            date_time = imaplib.Time2Internaldate(when) if when is not None else None
            typ, data = conn.append(mailbox, flags or None, date_time, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
            text = data[0].decode() if data and isinstance(data[0], bytes) else ""
            # "[APPENDUID 1700000000 5] Append completed."
            parts = text.split("APPENDUID", 1)[1].split("]", 1)[0].split()
            return int(parts[0]), int(parts[1])
        finally:
            conn.logout()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stderr:
            self.process.stderr.close()

    def restart(self) -> None:
        """Stop and start again on the same ports and mail directory."""
        self.stop()
        binary = find_dovecot()
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_ready()
