"""Errors that end the processing of one file, each with a one-line message."""

from __future__ import annotations


class CfnfixError(Exception):
    """Base class: ``str(error)`` is the one-line message shown to the user."""


class LoadError(CfnfixError):
    """A file that cannot be read or parsed as a template."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        where = f"{line}:{column}: " if line is not None else ""
        super().__init__(where + message)


class NotATemplate(LoadError):
    """A well-formed YAML/JSON document that is not a CloudFormation template."""


class ConfigError(CfnfixError):
    """An invalid configuration file or option."""


class FixError(CfnfixError):
    """A fix that cannot be rendered or would not produce the intended template."""
