"""User-facing errors: the CLI and UI show their message, never a stack trace."""


class CoursemateError(Exception):
    """An error whose message is meant for the user (bad input, missing file, unreachable server...)."""
