"""User-facing errors: raised for a user's mistake, printed by the CLI as one line."""

from __future__ import annotations

import contextlib
import difflib
import errno
from collections.abc import Iterable, Iterator


class UserError(Exception):
    """A mistake in the user's input (a file, a key, a value).

    The CLI prints ``str(error)`` and exits with status 2; it never shows a
    traceback for these.
    """


class EnvironmentProblem(Exception):
    """Something outside the user's input stopped orgsim: a full disk, a lost Dask scheduler.

    The CLI prints ``str(error)`` and exits with status 1; what was finished is kept.
    """


class Interrupted(Exception):
    """Ctrl-C or SIGTERM stopped an experiment; what was finished is kept."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


def raised_by_a_signal(error: BaseException) -> BaseException | None:
    """The exception a signal handler raised, if numba's compiled code wrapped it in ``error``; else None.

    A signal handler runs at the next line of Python, and a compiled pass runs a little Python
    (numba loading its constants). An exception raised there (Ctrl-C's ``KeyboardInterrupt`` or
    :class:`Interrupted`, SIGTERM's ``SystemExit``) reaches the caller as a ``SystemError``,
    "returned a result with an exception set", whose chain of causes ends in it.
    """
    while isinstance(error, SystemError) and error.__cause__ is not None:
        error = error.__cause__
    return error if isinstance(error, (Interrupted, KeyboardInterrupt, SystemExit)) else None


@contextlib.contextmanager
def signals_unwrapped() -> Iterator[None]:
    """Inside, a signal handler's exception that a compiled pass wrapped (:func:`raised_by_a_signal`)
    comes out as itself; any other ``SystemError`` as it was."""
    try:
        yield
    except SystemError as error:
        if (interruption := raised_by_a_signal(error)) is None:
            raise
        raise interruption from None


#: Errors of the file system that a user's choice of place causes (exit 2); all others are the
#: environment's (exit 1): a full disk, an I/O error.
USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENOENT}


def describe_os_error(error: OSError) -> tuple[str, int]:
    """One line for a failed file operation, and the CLI's exit status for it (2 user, 1 environment)."""
    where = error.filename or "a file"
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        reason = "no space left on the device"
    elif error.errno == errno.EROFS:
        reason = "the file system is read-only"
    return f"{where}: {reason}", 2 if error.errno in USER_ERRNOS else 1


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ' (did you mean "x"?)' for the closest candidate, or ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def check_keys(table: dict, allowed: Iterable[str], where: str) -> None:
    """Raise UserError for the first key of ``table`` that is not allowed."""
    allowed = set(allowed)
    for key in table:
        if key not in allowed:
            raise UserError(f"{where}: unknown key {key!r}{did_you_mean(key, allowed)}; "
                            f"allowed: {', '.join(sorted(allowed))}")


def check_int(value: object, key: str, where: str, low: int, high: int) -> int:
    """``value`` if it is an integer in [low, high], else a UserError naming where and key."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UserError(f"{where}: {key} = {value!r} is not allowed; allowed: an integer in [{low}, {high}]")
    return value
