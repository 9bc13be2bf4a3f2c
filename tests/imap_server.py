"""A real IMAP server for tests: Debian's dovecot (package dovecot-imapd), our own instance with its own config.

It listens on a free loopback port, keeps its mail, sockets, state and log in a folder of its own, knows one
user with a plain password, and stops when the block ends. The system's dovecot, if any, is never touched.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from tests.smtp_sink import free_port

DOVECOT = "/usr/sbin/dovecot"
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = {uid}
first_valid_gid = {gid}
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """A dovecot instance of our own on 127.0.0.1 with one mailbox user."""

    def __init__(self, user: str = "bounces", password: str = "imap-test-password") -> None:
        self.user, self.password = user, password
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="congvan-dovecot-")
        self.process: subprocess.Popen | None = None

    def write_config(self) -> str:
        """Write the instance's config and password file; return the config's path."""
        uid, gid = os.getuid(), os.getgid()
        user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
        if uid == 0:  # dovecot serves no mail as root: its Debian package's users run the instance
            user, group = "dovecot", "dovecot"
            uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
        names = {"internal": user, "internal_group": group, "login": "dovenull" if os.getuid() == 0 else user}
        os.chmod(self.root, 0o755)  # those users reach the sockets and the mail under it
        for folder in ("run", "state", "mail", "home"):
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
            if os.getuid() == 0:
                os.chown(os.path.join(self.root, folder), uid, gid)
        with open(os.path.join(self.root, "users"), "w") as users:
            users.write(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        path = os.path.join(self.root, "dovecot.conf")
        with open(path, "w") as config:
            config.write(CONFIG.format(root=self.root, port=self.port, uid=uid, gid=gid, **names))
        return path

    def __enter__(self) -> Dovecot:
        config = self.write_config()
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", config], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)  # fmt: skip
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Wait until a client can log in; fail with dovecot's own words when it cannot start."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.client():
                    return
            except (OSError, imaplib.IMAP4.error):
                assert self.process is not None
                if self.process.poll() is not None or time.monotonic() > deadline:
                    words = self.log()
                    self.stop()
                    raise RuntimeError(f"dovecot did not start: {words}") from None
                time.sleep(0.1)

    def log(self) -> str:
        """Return what dovecot wrote (its log file and its output)."""
        path, text = os.path.join(self.root, "dovecot.log"), ""
        if os.path.exists(path):
            with open(path, errors="replace") as log:
                text = log.read()
        if self.process is not None and self.process.stdout is not None and self.process.poll() is not None:
            text += self.process.stdout.read().decode(errors="replace")
        return text[-3000:]

    def client(self) -> imaplib.IMAP4:
        """Return a logged-in IMAP client (a context manager that logs out)."""
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message into a folder of the mailbox (IMAP APPEND)."""
        with self.client() as imap:
            kind, data = imap.append(folder, "", None, raw)
            assert kind == "OK", data

    def messages(self, folder: str) -> list[tuple[bytes, bytes]]:
        """Return (flags, raw bytes) of every message in a folder, without marking them seen."""
        with self.client() as imap:
            kind, _ = imap.select(folder, readonly=True)
            if kind != "OK":
                return []
            _, found = imap.uid("SEARCH", "ALL")
            result = []
            for uid in found[0].split():
                _, data = imap.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                result.append((data[0][0], data[0][1]))
            return result

    def stop(self) -> None:
        """Stop our dovecot (only the process we started) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __exit__(self, *exc) -> None:
        self.stop()
