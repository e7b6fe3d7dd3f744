"""`temoin personas`: upsert, list, and the account check against aiosmtpd and Dovecot."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

import temoin.cli.app
from sim.dovecot import DovecotServer, free_port
from sim.smtp_provider import SmtpProvider
from temoin.cli.personas import describe_failure
from temoin.cli.words import Words
from tests.conftest import DbTarget

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(temoin.cli.app.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def personas_json() -> list[dict[str, object]]:
    code, out, err = run("personas", "list", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, list)
    return data


def test_add_then_update_only_what_is_given(cli_env: DbTarget) -> None:
    code, out, err = run(
        "personas", "add", "claire", "--name", "Claire Martin",
        "--email", "claire.martin@persona.example", "--address", "12 rue des Lilas",
        "--postal-code", "57000", "--city", "Metz", "--smtp-host", "smtp.persona.example",
        "--imap-host", "imap.persona.example", "--password-ref", "env:CLAIRE_PW",
    )  # fmt: skip
    assert code == 0, err
    assert "persona claire créée" in out
    [p] = personas_json()
    assert (p["smtp_security"], p["smtp_port"]) == ("starttls", 587)
    assert (p["imap_security"], p["imap_port"]) == ("tls", 993)
    assert p["username"] == "claire.martin@persona.example"
    assert p["password_ref"] == "env:CLAIRE_PW"
    # Changing the security without a port moves the port to that security's default;
    # everything not given stays.
    code, out, err = run("personas", "add", "claire", "--smtp-security", "tls",
                         "--subaddress-separator", "+")  # fmt: skip
    assert code == 0, err
    assert "persona claire modifiée" in out
    [p] = personas_json()
    assert (p["smtp_security"], p["smtp_port"]) == ("tls", 465)
    assert p["subaddress_separator"] == "+"
    assert p["city"] == "Metz" and p["display_name"] == "Claire Martin"
    code, out, _ = run("personas", "list")
    assert code == 0 and "claire" in out and "env:CLAIRE_PW" in out


def test_a_plain_password_is_refused_and_never_echoed(cli_env: DbTarget) -> None:
    code, out, err = run("personas", "add", "paul", "--name", "Paul Durand", "--email",
                         "paul@persona.example", "--password-ref", "hunter2-Secret")  # fmt: skip
    assert code == 2
    assert "env:VARIABLE ou file:/chemin" in err
    assert "hunter2" not in out + err
    assert personas_json() == []


def test_add_refuses_incomplete_or_conflicting_personas(cli_env: DbTarget) -> None:
    code, _, err = run("personas", "add", "lucie", "--email", "lucie@persona.example")
    assert code == 1
    assert "la persona «\u202flucie\u202f» n’existe pas encore\u202f: --name obligatoire" in err
    assert run("personas", "add", "a", "--name", "A", "--email", "same@persona.example")[0] == 0
    code, _, err = run("personas", "add", "b", "--name", "B", "--email", "same@persona.example")
    assert code == 1 and "same@persona.example appartient déjà à la persona «\u202fa\u202f»" in err
    code, _, err = run("personas", "add", "Bad Key", "--name", "B", "--email", "b@x.example")
    assert code == 2 and "clé de persona" in err
    code, _, err = run("personas", "check", "nobody")
    assert code == 1 and "aucune persona «\u202fnobody\u202f»" in err


def test_refusals_are_said_in_english_when_asked(
    cli_env: DbTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("personas", "add", "a", "--name", "A", "--email", "same@persona.example")[0] == 0
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    code, _, err = run("personas", "add", "lucie", "--email", "lucie@persona.example")
    assert code == 1 and "persona lucie does not exist yet: --name required" in err
    code, _, err = run("personas", "add", "b", "--name", "B", "--email", "same@persona.example")
    assert code == 1 and "email same@persona.example already belongs to persona 'a'" in err


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("fr", "smtp sans chiffrement (none) enverrait le mot de passe en clair à "
               "mail.persona.example:25\u202f: utilisez starttls ou tls"),
        ("en", "smtp security none would send the password in clear to "
               "mail.persona.example:25: use starttls or tls"),
    ],
)  # fmt: skip
def test_a_clear_text_login_to_a_distant_server_is_refused(
    cli_env: DbTarget, monkeypatch: pytest.MonkeyPatch, locale: str, said: str
) -> None:
    monkeypatch.setenv("TEMOIN_LOCALE", locale)
    code, _, err = run("personas", "add", "remi", "--name", "Rémi", "--email",
                       "remi@persona.example", "--smtp-host", "mail.persona.example",
                       "--smtp-security", "none", "--password-ref", "env:REMI_PW")  # fmt: skip
    assert code == 1 and said in err, err
    assert personas_json() == []


@pytest.fixture
def account(
    cli_env: DbTarget,
    smtp_provider: SmtpProvider,
    dovecot_server: DovecotServer,
    mail_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    """A persona whose provider is aiosmtpd and whose mailbox is Dovecot; its `add` args."""
    password = dovecot_server.users[mail_user]
    smtp_provider.add_account(mail_user, password)
    monkeypatch.setenv("TEST_PERSONA_PW", password)
    return [
        "personas", "add", "claire", "--name", "Claire Martin",
        "--email", f"{mail_user}@persona.example", "--username", mail_user,
        "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_provider.port),
        "--smtp-security", "none", "--imap-host", "127.0.0.1",
        "--imap-port", str(dovecot_server.imap_port), "--imap-security", "none",
        "--password-ref", "env:TEST_PERSONA_PW",
    ]  # fmt: skip


def lines(out: str) -> dict[str, str]:
    """``what -> "state detail"`` from the check's lines."""
    found: dict[str, str] = {}
    for line in out.splitlines():
        state, _, rest = line.partition(" ")
        if state in ("ok", "ÉCHEC", "alerte", "omis", "FAIL", "warn", "skip"):
            what = rest.strip()[:17].strip()
            found[what] = f"{state} {rest.strip()[17:].strip()}"
    return found


def test_check_succeeds_against_a_working_account(
    account: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(*account)[0] == 0
    code, out, err = run("personas", "check", "claire", "--timeout", "5")
    assert code == 0, out + err
    got = lines(out)
    assert got["mot de passe"] == "ok env:TEST_PERSONA_PW est lisible"
    assert got["smtp"].startswith("ok 127.0.0.1:") and "répond à EHLO, sans TLS" in got["smtp"]
    assert got["smtp connexion"].startswith("ok identifiant accepté pour ")
    assert got["imap"].startswith("ok ") and "identifiant accepté" in got["imap"]
    assert got["imap réception"] == "ok INBOX"
    assert got["imap envoyés"] == "ok 'Sent'"
    assert got["imap indésirables"] == "ok 'Junk'"
    assert "persona claire\u202f: prête à envoyer et à relever" in out

    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    code, out, err = run("personas", "check", "claire", "--timeout", "5")
    assert code == 0, out + err
    got = lines(out)
    assert got["password"] == "ok env:TEST_PERSONA_PW is readable"
    assert got["smtp"].startswith("ok 127.0.0.1:") and "answers EHLO, no TLS" in got["smtp"]
    assert got["smtp auth"].startswith("ok login accepted for ")
    assert got["imap junk"] == "ok 'Junk'"
    assert "persona claire: ready to send and watch" in out


def test_check_says_what_fails_and_why(account: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(*account)[0] == 0
    smtp_port = account[account.index("--smtp-port") + 1]
    # A wrong password, and nothing listening on the IMAP port. (No wrong IMAP password:
    # Dovecot's auth penalty would slow every login from 127.0.0.1 for the rest of the run.)
    monkeypatch.setenv("TEST_PERSONA_PW", "not-the-password")
    assert run("personas", "add", "claire", "--imap-port", str(free_port()))[0] == 0
    code, out, err = run("personas", "check", "claire", "--timeout", "5")
    assert code == 1 and "2 vérifications ont échoué" in err
    got = lines(out)
    assert got["mot de passe"].startswith("ok ")
    assert got["smtp"].startswith("ok ")
    assert got["smtp connexion"].startswith("ÉCHEC")
    assert "authentication refused" in got["smtp connexion"]
    assert got["imap"].startswith("ÉCHEC") and "connexion refusée" in got["imap"]
    assert "not-the-password" not in out + err
    # The variable is missing and nothing listens on the SMTP port either.
    monkeypatch.delenv("TEST_PERSONA_PW")
    assert run("personas", "add", "claire", "--smtp-port", str(free_port()))[0] == 0
    code, out, err = run("personas", "check", "claire", "--timeout", "5")
    assert code == 1
    got = lines(out)
    assert got["mot de passe"].startswith("ÉCHEC")
    assert (
        "env:TEST_PERSONA_PW\u202f: la variable d’environnement TEST_PERSONA_PW n’est pas définie"
        in got["mot de passe"]
    ), got["mot de passe"]
    assert got["smtp"].startswith("ÉCHEC") and "connexion refusée" in got["smtp"]
    assert got["imap"].startswith("omis")  # no password: no login to try
    # Implicit TLS spoken to a plain-text SMTP server.
    assert run("personas", "add", "claire", "--smtp-port", smtp_port,
               "--smtp-security", "tls")[0] == 0  # fmt: skip
    code, out, _ = run("personas", "check", "claire", "--timeout", "5")
    assert code == 1
    assert "échec TLS" in lines(out)["smtp"], out


def test_failure_reasons_come_from_the_cause_chain() -> None:
    try:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as exc:
            raise RuntimeError("cannot connect") from exc
    except RuntimeError as outer:
        assert describe_failure(outer, 5, Words("en")).startswith("DNS: the name does not resolve")
        assert describe_failure(outer, 5, Words("fr")).startswith(
            "DNS\u202f: le nom ne se résout pas"
        )
    try:
        raise RuntimeError("slow") from TimeoutError()
    except RuntimeError as outer:
        assert describe_failure(outer, 5, Words("en")) == "no answer within 5 s"
        assert describe_failure(outer, 2.5, Words("fr")) == "pas de réponse en 2,5 s"
