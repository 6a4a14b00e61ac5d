"""Errors with a message meant for the user (one line, no traceback)."""


class NianbaoError(Exception):
    """Base class: the message is shown to the user as is."""


class ExtractError(NianbaoError):
    """The file cannot be read: corrupt, encrypted, empty, unsupported or too large."""


class ConfigError(NianbaoError):
    """A configuration file is invalid; the message names file, line and reason."""
