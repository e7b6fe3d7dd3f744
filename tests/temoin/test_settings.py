"""Settings: defaults, TOML file, environment overrides, clean errors, secret references."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runners.secrets import SecretError, resolve_secret
from scenarios.typography import violations
from temoin.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TEMOIN_* variable from the caller, and a working directory without temoin.toml."""
    for key in [
        k for k in os.environ if k.startswith("TEMOIN_") and not k.startswith("TEMOIN_TEST")
    ]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- sources -------------------------------------------------------------------------------


def test_defaults() -> None:
    s = load_settings()
    assert type(s) is Settings
    assert s.database_url == "sqlite:///var/temoin.db"
    assert s.database_schema is None
    assert s.database_password is None
    assert s.data_dir == Path("var")
    assert s.timezone == "Europe/Paris"
    assert s.locale == "fr"
    assert s.bot_token is None
    assert (s.dispatch.batch_size, s.dispatch.interval_seconds, s.dispatch.lease_seconds) == (
        50,
        30.0,
        300,
    )


FILE = """
database_url = "postgresql://temoin@db.example/temoin"
database_schema = "barometre"
timezone = "America/Cayenne"
locale = "en"
bot_token = "file:/run/secrets/bot_token"

[dispatch]
batch_size = 10
interval_seconds = 5
"""


def _assert_from_file(s: Settings) -> None:
    assert s.database_url == "postgresql://temoin@db.example/temoin"
    assert s.database_schema == "barometre"
    assert s.timezone == "America/Cayenne"
    assert s.locale == "en"
    assert s.bot_token == "file:/run/secrets/bot_token"
    assert s.dispatch.batch_size == 10
    assert s.dispatch.interval_seconds == 5.0
    assert s.dispatch.lease_seconds == 300  # default kept beside the file's values


def test_file_given_explicitly(tmp_path: Path) -> None:
    _assert_from_file(load_settings(write(tmp_path / "conf.toml", FILE)))


def test_file_from_temoin_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMOIN_CONFIG", str(write(tmp_path / "conf.toml", FILE)))
    _assert_from_file(load_settings())


def test_temoin_toml_in_working_directory(clean_env: Path) -> None:
    write(clean_env / "temoin.toml", FILE)
    _assert_from_file(load_settings())


def test_explicit_file_beats_temoin_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMOIN_CONFIG", str(write(tmp_path / "other.toml", 'locale = "fr"\n')))
    assert load_settings(write(tmp_path / "conf.toml", FILE)).locale == "en"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMOIN_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("TEMOIN_DISPATCH__BATCH_SIZE", "7")
    s = load_settings(write(tmp_path / "conf.toml", FILE))
    assert s.database_url == "sqlite:///elsewhere.db"
    assert s.dispatch.batch_size == 7
    assert s.dispatch.interval_seconds == 5.0  # the rest of [dispatch] still from the file
    assert s.timezone == "America/Cayenne"


def test_config_file_is_used_by_the_cli(tmp_path: Path) -> None:
    """--config and TEMOIN_CONFIG reach the real program: the database lands where it says."""
    for how in ("option", "env"):
        db = tmp_path / how / "chosen.db"
        conf = write(tmp_path / f"{how}.toml", f'database_url = "sqlite:///{db}"\n')
        args = ["--config", str(conf)] if how == "option" else []
        env = {"TEMOIN_CONFIG": str(conf)} if how == "env" else {}
        done = run_temoin(*args, "db", "current", env=env)
        assert done.returncode == 0, done.stderr
        assert "vide (aucune révision)" in done.stdout
        assert db.exists()


# --- errors: one line naming the setting, exit code 2, no traceback --------------------------


def run_temoin(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real program in a subprocess, as ``python -m temoin``."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TEMOIN_") or k.startswith("TEMOIN_TEST")
    }
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "temoin", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


def bad_config_cases(tmp: Path) -> dict[str, tuple[list[str], dict[str, str], list[str]]]:
    """name -> (arguments, environment, words the error line must contain)."""
    missing = tmp / "nowhere" / "temoin.toml"
    invalid = write(tmp / "invalid.toml", "database_url = \n")
    unknown = write(tmp / "unknown.toml", 'colour = "blue"\n')
    nested = write(tmp / "nested.toml", "[dispatch]\nbatchsize = 3\n")
    zone = write(tmp / "zone.toml", 'timezone = "Europe/Pariss"\n')
    token = write(tmp / "token.toml", 'bot_token = "123:abc"\n')
    return {
        "missing file": (
            ["--config", str(missing)],
            {},
            [str(missing), "\u202f: fichier introuvable"],
        ),
        "missing TEMOIN_CONFIG": ([], {"TEMOIN_CONFIG": str(missing)}, [str(missing)]),
        "invalid TOML": (
            ["--config", str(invalid)],
            {},
            [str(invalid), "ligne 1, colonne 16\u202f: ce n’est pas du TOML valide"],
        ),
        "unknown key": (["--config", str(unknown)], {}, ["réglage inconnu colour (dans "]),
        "unknown nested key": (
            ["--config", str(nested)],
            {},
            ["réglage inconnu dispatch.batchsize"],
        ),
        "bad URL scheme": (
            [],
            {"TEMOIN_DATABASE_URL": "mysql://db/temoin"},
            [
                "réglage database_url\u202f: doit commencer par sqlite:///",
                "(variable TEMOIN_DATABASE_URL)",
            ],
        ),
        "bad time zone": (
            ["--config", str(zone)],
            {},
            ["réglage timezone\u202f: fuseau horaire inconnu «\u00a0Europe/Pariss\u00a0»"],
        ),
        "plain secret": (
            ["--config", str(token)],
            {},
            ["réglage bot_token\u202f: doit être une référence"],
        ),
        "bad number": (
            [],
            {"TEMOIN_DISPATCH__BATCH_SIZE": "many"},
            ["réglage dispatch.batch_size\u202f: un nombre entier est attendu"],
        ),
        "bad schema": (
            [],
            {"TEMOIN_DATABASE_SCHEMA": "Robert'); DROP"},
            ["réglage database_schema\u202f: doit être un nom SQL en minuscules"],
        ),
    }


CASES = [
    "missing file",
    "missing TEMOIN_CONFIG",
    "invalid TOML",
    "unknown key",
    "unknown nested key",
    "bad URL scheme",
    "bad time zone",
    "plain secret",
    "bad number",
    "bad schema",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_configuration_exits_2_naming_the_setting(case: str, tmp_path: Path) -> None:
    args, env, words = bad_config_cases(tmp_path)[case]
    done = run_temoin(*args, "db", "current", env=env)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr  # long paths included: no terminal wrapping
    line = lines[0]
    assert line.startswith("temoin: ")
    for word in words:
        assert word in line
    assert not violations(line.removeprefix("temoin: ")), line
    assert "123:abc" not in done.stderr  # a secret given inline is not echoed


def test_bad_configuration_in_english_when_the_locale_says_so(tmp_path: Path) -> None:
    zone = write(tmp_path / "zone.toml", 'locale = "en"\ntimezone = "Europe/Pariss"\n')
    done = run_temoin("--config", str(zone), "db", "current")
    assert done.returncode == 2
    assert done.stderr == (
        f"temoin: setting timezone: unknown time zone 'Europe/Pariss' (in {zone})\n"
    )
    missing = tmp_path / "nowhere.toml"
    done = run_temoin("--config", str(missing), "db", "current", env={"TEMOIN_LOCALE": "en"})
    assert done.stderr == f"temoin: config file {missing}: no such file\n"
    # the locale itself wrong: said in French, the default
    done = run_temoin("db", "current", env={"TEMOIN_LOCALE": "de"})
    assert (
        done.stderr == "temoin: réglage locale\u202f: doit être fr ou en (variable TEMOIN_LOCALE)\n"
    )


def test_messages_name_setting_and_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = write(tmp_path / "c.toml", 'database_url = "mysql://x/y"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(conf)
    assert str(caught.value) == (
        f"setting database_url: must start with sqlite:/// or postgresql:// (in {conf})"
    )
    monkeypatch.setenv("TEMOIN_DATABASE_URL", "nonsense")
    with pytest.raises(SettingsError, match=r"database_url: .*\(from TEMOIN_DATABASE_URL\)$"):
        load_settings(conf)
    monkeypatch.delenv("TEMOIN_DATABASE_URL")
    monkeypatch.setenv("TEMOIN_DISPATCH", "{not json")
    with pytest.raises(SettingsError, match="setting dispatch: TEMOIN_DISPATCH is not valid"):
        load_settings()


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("[dispatch]\nbatch_size = 0\n", "dispatch.batch_size"),
        ('locale = "de"\n', "locale"),
        ("dispatch = 5\n", "dispatch"),
        ('database_url = "sqlite"\n', "database_url"),
    ],
)
def test_invalid_values_refused(text: str, name: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=f"^setting {name}: "):
        load_settings(write(tmp_path / "c.toml", text))


def test_config_path_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings(tmp_path)


# --- secrets ---------------------------------------------------------------------------------


def test_env_reference_resolves(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOT_TOKEN_FOR_TEST", "123:abc")
    s = load_settings(write(tmp_path / "c.toml", 'bot_token = "env:BOT_TOKEN_FOR_TEST"\n'))
    assert s.bot_token == "env:BOT_TOKEN_FOR_TEST"  # the settings hold the reference only
    assert s.bot_token is not None and resolve_secret(s.bot_token) == "123:abc"


def test_file_reference_resolves(tmp_path: Path) -> None:
    secret = write(tmp_path / "bot_token", "123:abc\n")  # docker secret files end with \n
    assert resolve_secret(f"file:{secret}") == "123:abc"


def test_plain_value_in_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="bot_token: must be a reference") as caught:
        load_settings(write(tmp_path / "c.toml", 'bot_token = "123:abc"\n'))
    assert "123:abc" not in str(caught.value)


def test_missing_env_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET_VAR", raising=False)
    with pytest.raises(SecretError, match="environment variable NO_SUCH_SECRET_VAR is not set"):
        resolve_secret("env:NO_SUCH_SECRET_VAR")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match=r"secret file .*missing cannot be read: No such file"):
        resolve_secret(f"file:{tmp_path / 'missing'}")
    with pytest.raises(SecretError, match="Is a directory"):
        resolve_secret(f"file:{tmp_path}")


def test_empty_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPTY_SECRET_VAR", "")
    with pytest.raises(SecretError, match="EMPTY_SECRET_VAR is empty"):
        resolve_secret("env:EMPTY_SECRET_VAR")
    with pytest.raises(SecretError, match="is empty"):
        resolve_secret("file:" + str(write(tmp_path / "s", "\n")))


def test_resolving_a_non_reference_does_not_echo_it() -> None:
    with pytest.raises(SecretError) as caught:
        resolve_secret("123:abc")
    assert "123:abc" not in str(caught.value)


def test_database_password_is_joined_at_connection_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = write(tmp_path / "pg", "p@ss/w:rd\n")
    monkeypatch.setenv("TEMOIN_DATABASE_URL", "postgresql://temoin@db:5432/temoin")
    monkeypatch.setenv("TEMOIN_DATABASE_PASSWORD", f"file:{secret}")
    s = load_settings()
    assert "p@ss" not in repr(s)
    assert s.connection_url() == "postgresql://temoin:p%40ss%2Fw%3Ard@db:5432/temoin"
    secret.unlink()
    with pytest.raises(SecretError):
        s.connection_url()


def test_database_password_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMOIN_DATABASE_URL", "postgresql://temoin:inline@db/temoin")
    monkeypatch.setenv("TEMOIN_DATABASE_PASSWORD", "env:PGPASS")
    with pytest.raises(SettingsError, match="already carries a password"):
        load_settings()


def test_without_password_reference_the_url_is_used_as_is() -> None:
    assert load_settings().connection_url() == "sqlite:///var/temoin.db"
