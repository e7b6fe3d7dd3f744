"""`temoin sim mailbox` and `temoin sim provider` as an operator runs them, until Ctrl-C."""

from __future__ import annotations

import imaplib
import json
import os
import shutil
import signal
import smtplib
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from sim.dovecot import find_dovecot, free_port
from tests.conftest import REQUIRE_SERVERS

ROOT = Path(__file__).resolve().parents[2]


def start(tmp: Path, name: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMOIN_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "temoin", "sim", name, "--dir", str(tmp / "sim"), *args],
        cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def read_until_ready(process: subprocess.Popen[str]) -> None:
    """Until « Ctrl-C pour arrêter. » on stderr (printed once listening)."""
    assert process.stderr is not None and process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if "Ctrl-C pour arrêter." in line:
            return
        if not line and process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}: {process.stdout.read()}")
    raise AssertionError("not ready within 30 s")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    out, _err = process.communicate(timeout=20)
    return process.returncode, out


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A directory the mail user can enter (pytest's own is 0700; see shared/testing.md)."""
    path = Path(tempfile.mkdtemp(prefix="temoin-sim-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_simulated_mailbox_and_provider_run_alone_until_ctrl_c(
    open_tmp: Path, processes: list[subprocess.Popen[str]]
) -> None:
    tmp_path = open_tmp
    if find_dovecot() is None:
        if REQUIRE_SERVERS:
            pytest.fail("dovecot is not installed (TEMOIN_TEST_REQUIRE_SERVERS=1)")
        pytest.skip("dovecot is not installed")
    imap_port, lmtp_port, smtp_port = free_port(), free_port(), free_port()
    mailbox = start(tmp_path, "mailbox", "--imap-port", str(imap_port),
                    "--lmtp-port", str(lmtp_port))  # fmt: skip
    processes.append(mailbox)
    read_until_ready(mailbox)
    password_file = tmp_path / "sim" / "password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    state = json.loads((tmp_path / "sim" / "mailbox.json").read_text())
    assert (state["imap_port"], state["lmtp_port"]) == (imap_port, lmtp_port)
    provider = start(tmp_path, "provider", "--port", str(smtp_port),
                     "--deliver", "claire@persona.example=claire")  # fmt: skip
    processes.append(provider)
    read_until_ready(provider)

    message = EmailMessage()
    message["From"] = "claire@persona.example"
    message["To"] = "accueil@mairie.example"
    message["Subject"] = "Répétition"
    message["Message-ID"] = "<repetition.1@persona.example>"
    message.set_content("Bonjour")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.login("claire", password)
        smtp.send_message(message, to_addrs=["accueil@mairie.example", "claire@persona.example"])
    imap = imaplib.IMAP4("127.0.0.1", imap_port, timeout=10)
    try:
        imap.login("claire", password)
        imap.select("INBOX", readonly=True)
        _typ, data = imap.uid("SEARCH", "HEADER", "Message-ID", "<repetition.1@persona.example>")
        assert data[0].split() == [b"1"]  # the blind copy, delivered over LMTP
    finally:
        imap.logout()

    code, out = stop(provider)
    assert code == 0
    assert f"sur 127.0.0.1:{smtp_port}" in out and "--smtp-port" in out
    assert "accepté <repetition.1@persona.example> de claire@persona.example" in out
    code, out = stop(mailbox)
    assert code == 0
    assert f"IMAP {imap_port}, LMTP {lmtp_port}" in out
    assert f"--password-ref file:{password_file}" in out and password not in out


def test_a_mailbox_directory_its_mail_user_cannot_enter_is_refused_clearly(
    tmp_path: Path,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root hands the mail to another user")
    done = subprocess.run(
        [sys.executable, "-m", "temoin", "sim", "mailbox", "--dir", str(tmp_path / "sim")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 1
    assert "est fermé aux autres utilisateurs" in done.stderr and "chmod o+x" in done.stderr
