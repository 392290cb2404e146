"""User-facing errors: raised for a user's mistake, printed by the CLI as one line."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """A mistake in the user's input (a file, a key, a value).

    The CLI prints ``str(error)`` and exits with status 2; it never shows a
    traceback for these.
    """


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
