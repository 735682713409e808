"""The one exception type a command shows to its user: a sentence that says what happened and what to do.

Code raises `ObservatoireError` where a user can act on the cause (a server that does not answer, a
migration that failed, a port already taken); the CLI prints its message on one line and exits non-zero
instead of showing a traceback.
"""


class ObservatoireError(Exception):
    """A failure the user can act on; its message is one sentence, shown as is."""

    exit_code = 1
