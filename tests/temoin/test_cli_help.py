"""``--help`` in the reader's language: every command's help from the catalogue.

The scan walks the whole command tree as typer builds it: a command, argument or option whose
help is not a ``cli.help.*`` key of both catalogues (a text left in the code, or a docstring
typer would show instead) fails, and so does a ``--help`` page that still shows an English
help text or the toolkit's English words when the locale is French.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import temoin.cli.app
from scenarios.i18n import load_catalogue
from scenarios.typography import violations
from temoin.cli.localized import help_locale


def _tree(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _tree(sub, (*path, name))


def _helps(command: Any) -> Iterator[tuple[str, str | None]]:
    yield "command", command.help
    for param in command.params:
        if param.name != "help":
            yield param.name, getattr(param, "help", None)


COMMANDS = sorted(_tree(typer.main.get_command(temoin.cli.app.app)), key=lambda pc: pc[0])


def invoke(args: list[str], locale: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TEMOIN_LOCALE", locale)
    monkeypatch.delenv("TEMOIN_CONFIG", raising=False)
    result = CliRunner().invoke(temoin.cli.app.app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_tree_is_the_whole_command_line() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    # a sample from every kind of registration: groups, their commands, root commands
    assert {"import services", "personas add", "worker", "demo", "web users add"} <= paths
    assert len(COMMANDS) > 50


def test_every_help_is_a_key_of_both_catalogues() -> None:
    fr, en = load_catalogue("fr"), load_catalogue("en")
    wrong = []
    for path, command in COMMANDS:
        for name, help_text in _helps(command):
            if getattr(command, "hidden", False):
                continue
            if not isinstance(help_text, str) or help_text not in fr or help_text not in en:
                wrong.append(f"temoin {' '.join(path)} ({name}): {help_text!r}")
    assert not wrong, "help not from the catalogue:\n" + "\n".join(wrong)


def _english_words() -> set[str]:
    """Every English help text (its first line): none may show in a French help page."""
    return {
        text.splitlines()[0]
        for key, text in load_catalogue("en").items()
        if key.startswith("cli.help.") and len(text) > 12 and text != load_catalogue("fr")[key]
    }


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "temoin")
def test_no_help_page_is_left_in_english(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = invoke(list(path), "fr", monkeypatch)
    english = [words for words in _english_words() if words in out]
    assert not english, out
    for toolkit in ("Usage:", "Options:", "Commands:", "Show this message", "[required]"):
        assert toolkit not in out
    assert "Utilisation\u202f:" in out
    assert "Affiche cette aide et s\u2019arrête." in out


def test_a_help_page_in_french_and_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    fr = invoke(["import", "services"], "fr", monkeypatch)
    assert "Importe des collectivités et leurs services (une ligne par service)." in fr
    assert "Vérifie seulement le fichier\u202f; ne touche pas à la base de données." in fr
    assert "Arguments\u202f:" in fr and "Options\u202f:" in fr
    assert "[obligatoire]" in fr

    en = invoke(["import", "services"], "en", monkeypatch)
    assert "Usage:" in en and "Options:" in en
    assert "Import collectivities and their services (one row per service)." in en
    assert "Validate the file only; do not touch the database." in en
    assert "[required]" in en
    assert "Importe" not in en and "Utilisation" not in en

    fr = invoke(["export"], "fr", monkeypatch)
    assert "[par défaut\u202f: contacts]" in fr
    en = invoke(["export"], "en", monkeypatch)
    assert "[default: contacts]" in en


def test_the_group_lists_its_commands_in_the_reader_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fr = invoke([], "fr", monkeypatch)
    assert "Commandes\u202f:" in fr
    assert "Témoin\u202f: audits «\u202fcitoyen mystère\u202f»" in fr
    en = invoke([], "en", monkeypatch)
    assert "Commands:" in en and "mystery-citizen audits" in en


def test_the_settings_file_chooses_the_help_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = tmp_path / "english.toml"
    english.write_text('locale = "en"\n', encoding="utf-8")
    monkeypatch.delenv("TEMOIN_LOCALE", raising=False)
    monkeypatch.delenv("TEMOIN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./temoin.toml here
    runner = CliRunner()

    result = runner.invoke(temoin.cli.app.app, ["--config", str(english), "db", "--help"])
    assert "Database schema" in result.output, result.output

    result = runner.invoke(temoin.cli.app.app, ["db", "--help"])
    assert "Schéma de la base de données" in result.output

    monkeypatch.setenv("TEMOIN_CONFIG", str(english))
    result = runner.invoke(temoin.cli.app.app, ["db", "--help"])
    assert "Database schema" in result.output
    monkeypatch.setenv("TEMOIN_LOCALE", "fr")  # the environment wins, as in the settings
    result = runner.invoke(temoin.cli.app.app, ["db", "--help"])
    assert "Schéma de la base de données" in result.output


def test_an_unreadable_settings_file_leaves_the_help_in_french(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("locale = \n", encoding="utf-8")
    assert help_locale(["--config", str(broken), "db"], {}) == "fr"
    assert help_locale([f"--config={tmp_path / 'missing.toml'}"], {}) == "fr"
    assert help_locale(["db"], {"TEMOIN_LOCALE": "de"}) == "fr"
    assert help_locale(["db"], {"TEMOIN_LOCALE": "en"}) == "en"


def test_one_tree_run_twice_follows_the_language_each_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo runs many commands on one command tree (``temoin.demo_outputs``): each run
    says its help in the language asked at that moment."""
    root = typer.main.get_command(temoin.cli.app.app)
    monkeypatch.delenv("TEMOIN_CONFIG", raising=False)
    for locale, said in (("fr", "Schéma de la base de données"), ("en", "Database schema"),
                         ("fr", "Schéma de la base de données")):  # fmt: skip
        monkeypatch.setenv("TEMOIN_LOCALE", locale)
        root.main(args=["db", "--help"], prog_name="temoin", standalone_mode=False)
        out = capsys.readouterr().out
        assert said in out, out


# --- a command line the parser refuses ------------------------------------------------------

# click's own English, none of which may reach a French reader
_TOOLKIT_ERRORS = ("Error:", "Try '", "Missing ", "No such", "Invalid value", "Got unexpected",
                   "requires an argument", "Possible options", "[ARGS]")  # fmt: skip


def refused(args: list[str], locale: str, monkeypatch: pytest.MonkeyPatch, where: Path) -> str:
    monkeypatch.setenv("TEMOIN_LOCALE", locale)
    monkeypatch.delenv("TEMOIN_CONFIG", raising=False)
    monkeypatch.chdir(where)  # were a command to run, it would touch nothing of the tree
    result = CliRunner().invoke(temoin.cli.app.app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.stderr


def _error_line(out: str, prefix: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, out
    return lines[0]


def _strict(command: Any) -> bool:
    """A command that refuses unknown options (``db downgrade`` takes ``-1`` as a revision)."""
    settings = getattr(command, "context_settings", None) or {}
    return not getattr(command, "commands", None) and not settings.get("ignore_unknown_options")


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if p and _strict(c)], ids=" ".join)
def test_every_command_refuses_an_unknown_option_in_french(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = refused([*path, "--pas-une-option"], "fr", monkeypatch, tmp_path)
    line = _error_line(out, "Erreur\u202f:")
    assert line.startswith("Erreur\u202f: option inconnue\u202f: --pas-une-option"), out
    assert f"Essayez «\u202ftemoin {' '.join(path)} --help\u202f» pour l’aide." in out
    assert "Utilisation\u202f: temoin " + " ".join(path) in out
    assert not [w for w in _TOOLKIT_ERRORS if w in out], out
    assert not violations(out), out


def _required(command: Any) -> bool:
    return any(p.required for p in command.params)


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if p and _required(c)], ids=" ".join)
def test_every_missing_parameter_is_said_in_french(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    command = dict(COMMANDS)[path]
    first = next(p for p in command.params if p.required)
    out = refused(list(path), "fr", monkeypatch, tmp_path)
    line = _error_line(out, "Erreur\u202f:")
    if first.param_type_name == "option":
        assert line == f"Erreur\u202f: option manquante\u202f: {first.opts[0]}", out
    else:
        assert line.startswith("Erreur\u202f: argument manquant\u202f: "), out
    assert not [w for w in _TOOLKIT_ERRORS if w in out], out
    assert not violations(out), out


@pytest.mark.parametrize(
    ("args", "fr", "en"),
    [
        (["pas-une-commande"], "commande inconnue\u202f: pas-une-commande",
         "no such command: pas-une-commande"),
        (["web", "--port", "abc"],
         "valeur invalide pour --port\u202f: un nombre entier est attendu («\u202fabc\u202f»)",
         "invalid value for --port: a whole number is expected ('abc')"),
        (["web", "--port", "0"], "valeur invalide pour --port\u202f: au moins 1 («\u202f0\u202f»)",
         "invalid value for --port: at least 1 ('0')"),
        (["web", "--port"], "l’option --port attend une valeur", "option --port requires a value"),
        (["--version=1"], "l’option --version ne prend pas de valeur",
         "option --version does not take a value"),
        (["web", "users", "add", "x@y.example"], "option manquante\u202f: --name",
         "missing option: --name"),
        (["web", "users", "add"], "argument manquant\u202f: login", "missing argument: login"),
        (["import", "services", "a.csv", "b.csv"], "argument(s) en trop\u202f: b.csv",
         "unexpected extra argument(s): b.csv"),
        (["web", "--bogus"], "option inconnue\u202f: --bogus (options possibles\u202f: --host)",
         "no such option: --bogus (possible options: --host)"),
        (["auditors", "invite", "x", "y", "--role", "chef"],
         "valeur invalide pour --role\u202f: «\u202fchef\u202f» n’est pas l’un de auditor, "
         "coordinator",
         "invalid value for --role: 'chef' is not one of auditor, coordinator"),
        (["letters", "print", "x", "--out", "o", "--until", "demain"],
         "valeur invalide pour --until\u202f: «\u202fdemain\u202f» n’est pas de la forme "
         "AAAA-MM-JJ",
         "invalid value for --until: 'demain' is not of the form YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_usage_errors_in_french_and_in_english(
    args: list[str], fr: str, en: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = refused(args, "fr", monkeypatch, tmp_path)
    assert _error_line(out, "Erreur") == f"Erreur\u202f: {fr}", out
    assert not [w for w in _TOOLKIT_ERRORS if w in out], out
    assert not violations(out), out
    out = refused(args, "en", monkeypatch, tmp_path)
    assert _error_line(out, "Error") == f"Error: {en}", out
    assert "Utilisation" not in out and "Erreur" not in out


def test_the_settings_file_chooses_the_usage_error_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = tmp_path / "english.toml"
    english.write_text('locale = "en"\n', encoding="utf-8")
    monkeypatch.delenv("TEMOIN_LOCALE", raising=False)
    monkeypatch.setenv("TEMOIN_CONFIG", str(english))
    result = CliRunner().invoke(temoin.cli.app.app, ["db", "upgrade", "--nope"])
    assert result.exit_code == 2
    assert "Error: no such option: --nope" in result.stderr
    assert "Usage: temoin db upgrade [OPTIONS]" in result.stderr
    assert "Try 'temoin db upgrade --help' for help." in result.stderr


def _typed(command: Any) -> Iterator[Any]:
    """The options of ``command`` whose value typer checks: numbers, choices, dates."""
    for param in command.params:
        d = getattr(param, "type_descriptor", None)
        if param.param_type_name != "option" or d is None or not param.opts:
            continue
        if d.is_choice or d.is_datetime or d.annotation in (int, float):
            yield param


TYPED = [(path, param.opts[0]) for path, c in COMMANDS if path for param in _typed(c)]


@pytest.mark.parametrize(
    ("path", "option"), TYPED, ids=lambda x: " ".join(x) if isinstance(x, tuple) else x
)
def test_every_checked_value_is_refused_in_french(
    path: tuple[str, ...], option: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No value typer checks says its reason in English (pydantic's or typer's words)."""
    assert len(TYPED) > 15  # numbers, choices and dates all over the tree
    out = refused([*path, option, "zzz"], "fr", monkeypatch, tmp_path)
    line = _error_line(out, "Erreur\u202f:")
    assert line.startswith(f"Erreur\u202f: valeur invalide pour {option}\u202f: "), out
    assert "zzz" in line
    assert not re.search(r"\b(?:Input|should|Value error|is not|does not)\b", line), line
    assert not violations(out), out
