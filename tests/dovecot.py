"""A real IMAP server for tests: Debian's dovecot on a free loopback port with a throwaway config.

Everything dovecot needs (config, passwd-file, maildirs, sockets, log) lives in one temporary
directory, so the server never touches /etc/dovecot or the system's port 143. Run as root (CI)
the mail processes run as ``nobody`` because dovecot refuses mail access as uid 0; run as an
ordinary user, every dovecot process runs as that user.
"""

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
USER = "desk@example.test"
PASSWORD = "imap-secret"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    """One dovecot process; ``stop()`` and ``start()`` again keep the port, the mail and the user."""

    def __init__(self, root: Path | None = None, port: int | None = None, *, tls: bool = False) -> None:
        """``tls`` adds a self-signed certificate for 127.0.0.1 (``ca_file``): STARTTLS on
        ``port`` and implicit TLS on ``tls_port``."""
        self.root = root or Path(tempfile.mkdtemp(prefix="vuoro-dovecot-"))
        self.port = port or free_port()
        self.tls = tls
        self.tls_port = free_port() if tls else 0
        self.ca_file = self.root / "cert.pem"
        self.host = "127.0.0.1"
        self.user = USER
        self.password = PASSWORD
        self._process: subprocess.Popen | None = None
        self._write_config()

    def _write_config(self) -> None:
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:
            mail_owner = pwd.getpwnam("nobody")
            internal_user, internal_group, login_user = "dovecot", "dovecot", "dovenull"
        else:
            mail_owner = pwd.getpwuid(os.getuid())
            internal_user = login_user = mail_owner.pw_name
            internal_group = grp.getgrgid(os.getgid()).gr_name
        mail = self.root / "mail"
        mail.mkdir(exist_ok=True)
        os.chown(mail, mail_owner.pw_uid, mail_owner.pw_gid)
        (self.root / "passwd").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{mail_owner.pw_uid}:{mail_owner.pw_gid}::{mail}/{self.user}::\n"
        )
        ssl = "ssl = no"
        if self.tls:
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                 "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                 "-keyout", str(self.root / "key.pem"), "-out", str(self.ca_file)],
                check=True, capture_output=True)
            ssl = f"ssl = yes\nssl_cert = <{self.ca_file}\nssl_key = <{self.root / 'key.pem'}"
        self.config = self.root / "dovecot.conf"
        self.config.write_text(CONFIG.format(
            root=self.root, port=self.port, tls_port=self.tls_port, ssl=ssl,
            internal_user=internal_user, internal_group=internal_group, login_user=login_user,
        ))

    def start(self, timeout: float = 10.0) -> "Dovecot":
        """Start in the foreground (``-F``) and return once the port answers with an IMAP greeting."""
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self._process.stderr.read().decode()} {self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)  # waiting for a process to bind its port, not for a clock
        self.stop()
        raise RuntimeError(f"dovecot did not answer on {self.port}: {self.log()}")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
        # The master's children go with it; wait until the port no longer takes connections.
        for _ in range(200):
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.02)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def client(self, folder: str = "INBOX") -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        client.select(folder)
        return client

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        """APPEND raw messages, unseen, as a mail server's delivery would leave them."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            client.login(self.user, self.password)
            for raw in messages:
                status, data = client.append(folder, "", None, raw)
                if status != "OK":
                    raise RuntimeError(f"APPEND failed: {data!r}")
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> dict[str, set[str]]:
        """Message-ID → flags of every message in the folder, read without setting \\Seen."""
        client = self.client(folder)
        try:
            status, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            found: dict[str, set[str]] = {}
            for item in data:
                if not isinstance(item, tuple):
                    continue
                flags = set(imaplib.ParseFlags(item[0]))
                message_id = item[1].decode().split(":", 1)[1].strip() if b":" in item[1] else ""
                found[message_id] = {flag.decode() for flag in flags}
            return found
        finally:
            client.logout()

    def unseen_count(self, folder: str = "INBOX") -> int:
        return sum(1 for flags in self.flags(folder).values() if "\\Seen" not in flags)


@pytest.fixture
def dovecot():
    """A started dovecot with one user and an empty INBOX; removed after the test."""
    server = Dovecot().start()
    try:
        yield server
    finally:
        server.cleanup()
