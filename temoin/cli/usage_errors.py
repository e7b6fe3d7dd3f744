"""A command line the parser refuses, said in the reader's language (``cli.usage.*``).

    temoin web --port abc
    Utilisation : temoin web [OPTIONS] COMMANDE [ARGUMENTS]…
    Essayez « temoin web --help » pour l’aide.

    Erreur : valeur invalide pour --port : un nombre entier est attendu (« abc »)

Typer vendors click's parser without its gettext hooks: its messages are English f-strings
built where the error is raised, so there is no catalogue to install. ``LocalizedGroup``
(``temoin.cli.localized``) catches every ``UsageError`` of the root context instead and
raises ``LocalizedUsageError``, which says the same thing from the catalogue: the case is
read from the exception's class and fields (the parameter, the option name, the
possibilities), and from click's fixed wording only where a class covers several cases
(``ctx.fail``). A message we do not recognise keeps click's words inside our frame, so a
new typer can only make one line English, never hide the error. ``NoArgsIsHelpError``
(a group called alone prints its help) passes untouched.
"""

from __future__ import annotations

import re
from typing import IO, Any

from typer._click import exceptions as click_errors
from typer._click.utils import echo

from scenarios.i18n import Translator

_KEY = "cli.usage"

# ctx.fail() texts of click and typer, and the messages of the value checks typer makes
# (its own and pydantic's), by the catalogue key that says them.
_FAILS = (
    (re.compile(r"No such command '(?P<name>.*)'\.\Z", re.S), "no_command"),
    (re.compile(r"Missing command\.\Z"), "missing_command"),
    (re.compile(r"Got unexpected extra argument\(s\) \((?P<extra>.*)\)\Z", re.S), "extra"),
)
_VALUES = (
    (re.compile(r"Input should be a valid integer\b"), "integer"),
    (re.compile(r"Input should be a valid (number|decimal)\b"), "number"),
    (re.compile(r"Input should be a valid boolean\b"), "boolean"),
    (re.compile(r"Input should be greater than or equal to (?P<n>\S+)\Z"), "at_least"),
    (re.compile(r"Input should be less than or equal to (?P<n>\S+)\Z"), "at_most"),
    (re.compile(r"Input should be greater than (?P<n>\S+)\Z"), "above"),
    (re.compile(r"Input should be less than (?P<n>\S+)\Z"), "below"),
    (re.compile(r"(?P<value>.*) is not one of (?P<choices>.*)\.\Z", re.S), "choice"),
    (re.compile(r"(?P<value>.*) does not match the formats (?P<formats>.*)\.\Z", re.S), "formats"),
    (re.compile(r"\w+ (?P<path>'.*') does not exist\.\Z", re.S), "missing_path"),
    (re.compile(r"\w+ (?P<path>'.*') is a file\.\Z", re.S), "is_file"),
    (re.compile(r"\w+ (?P<path>'.*') is a directory\.\Z", re.S), "is_directory"),
    (re.compile(r"\w+ (?P<path>'.*') is not readable\.\Z", re.S), "not_readable"),
    (re.compile(r"\w+ (?P<path>'.*') is not writable\.\Z", re.S), "not_writable"),
)


def _hint(param: Any) -> str:
    """``--name`` for an option, ``login`` for an argument (no quotes: the catalogue's)."""
    opts = [o for o in getattr(param, "opts", ()) if o.startswith("-")]
    if opts:
        return " / ".join(opts)
    return str(getattr(param, "display_name_raw", None) or getattr(param, "name", "") or "")


def _given(exc: BaseException) -> str | None:
    """The value typed, when typer checked it with pydantic (its error keeps the input)."""
    errors = getattr(exc.__cause__, "errors", None)
    if callable(errors):
        try:
            value = errors()[0].get("input")
        except (IndexError, AttributeError, TypeError):
            return None
        return value if isinstance(value, str) else None
    return None


_QUOTED = re.compile(r"'([^']*)'")
# strftime's directives as a reader writes them (« AAAA-MM-JJ », "YYYY-MM-DD")
_DIRECTIVES = ("%Y", "%m", "%d", "%H", "%M", "%S")


def _unquoted(text: str) -> str:
    """``'a', 'b'`` -> ``a, b``: the catalogue puts its own quotes."""
    return _QUOTED.sub(r"\1", text)


def _formats(text: str, t: Translator) -> str:
    for directive in _DIRECTIVES:
        text = text.replace(directive, t(f"{_KEY}.value.directive.{directive[1]}"))
    return _unquoted(text)


def _value_reason(exc: click_errors.BadParameter, t: Translator) -> str:
    # typer reports its own checks through pydantic, which prefixes them
    message = exc.message.rstrip().removeprefix("Value error, ")
    for pattern, key in _VALUES:
        found = pattern.match(message)
        if found:
            params = {k: _unquoted(v) for k, v in found.groupdict().items()}
            if "formats" in params:
                params["formats"] = _formats(found["formats"], t)
            reason = t(f"{_KEY}.value.{key}", **params)
            given = _given(exc)
            if given is None or "value" in params:  # the value said once
                return reason
            return t(f"{_KEY}.value.given", reason=reason, value=given)
    return message  # our own checks raise BadParameter with catalogue text already


def usage_message(exc: click_errors.UsageError, t: Translator) -> str:
    """What was wrong with the command line, in ``t``'s language."""
    if isinstance(exc, click_errors.MissingParameter):
        kind = "option" if _hint(exc.param).startswith("-") else "argument"
        return t(f"{_KEY}.missing_{kind}", name=_hint(exc.param) or exc.param_hint or "")
    if isinstance(exc, click_errors.BadParameter):
        reason = _value_reason(exc, t)
        name = _hint(exc.param) if exc.param is not None else None
        if exc.param_hint is not None and name is None:
            hint = exc.param_hint
            name = hint if isinstance(hint, str) else " / ".join(hint)
        if name:
            return t(f"{_KEY}.invalid_for", name=name, reason=reason)
        return t(f"{_KEY}.invalid", reason=reason)
    if isinstance(exc, click_errors.NoSuchOption):
        said = t(f"{_KEY}.no_option", name=exc.option_name)
        if exc.possibilities:
            said = t(f"{_KEY}.possible", said=said, names=", ".join(sorted(exc.possibilities)))
        return said
    if isinstance(exc, click_errors.BadOptionUsage):
        if exc.message.endswith("does not take a value."):
            return t(f"{_KEY}.takes_no_value", name=exc.option_name)
        if " requires " in exc.message:
            return t(f"{_KEY}.needs_value", name=exc.option_name)
    for pattern, key in _FAILS:
        found = pattern.match(exc.message)
        if found:
            return t(f"{_KEY}.{key}", **found.groupdict())
    return exc.format_message()


class LocalizedUsageError(click_errors.UsageError):
    """``cause`` said in ``t``'s language, with the usage line and the hint, like click."""

    def __init__(self, cause: click_errors.UsageError, t: Translator) -> None:
        super().__init__(usage_message(cause, t), cause.ctx)
        self.exit_code = cause.exit_code
        self.t = t

    def format_message(self) -> str:
        return self.message

    def show(self, file: IO[Any] | None = None) -> None:
        err = file is None
        if self.ctx is not None:
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                command = f"{self.ctx.command_path} {self.ctx.help_option_names[0]}"
                hint = self.t(f"{_KEY}.try_help", command=command) + "\n"
            echo(f"{self.ctx.get_usage()}\n{hint}", file=file, err=err, color=self.ctx.color)
        line = self.t(f"{_KEY}.error", message=self.message)
        echo(line, file=file, err=err, color=self.ctx.color if self.ctx else None)


def localized(exc: click_errors.UsageError, t: Translator) -> click_errors.UsageError:
    """The error to raise instead of ``exc`` (itself when it is a help page, or already said)."""
    if isinstance(exc, (click_errors.NoArgsIsHelpError, LocalizedUsageError)):
        return exc
    return LocalizedUsageError(exc, t)
