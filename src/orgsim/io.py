"""Files: atomic output (a file is either complete or absent, never half-written) and the one reader of
scenario and experiment files."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orgsim.errors import UserError

if TYPE_CHECKING:
    import pandas as pd


def temporary_files(name: str) -> str:
    """Glob pattern of the temporary files :func:`atomic_write` makes for a file called ``name``."""
    return f".{name}.*.tmp"


def _file_mode() -> int:
    """The mode a newly created file gets under the process's umask (0o644 under the usual 022)."""
    try:  # Linux says it without changing it (os.umask would, for a moment, for every thread)
        status = Path("/proc/self/status").read_text()
        umask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Umask:")), 8)
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0)
        os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    The file gets the permissions any new file would (the umask's), not the owner-only mode of
    the temporary file, so a group can read an experiment's results as it reads other files.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = temporary_files(path.name).split("*")
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _file_mode())
        with tmp.open("rb") as written:  # on disk before it replaces anything (a power cut, not only a kill)
            os.fsync(written.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n"))


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """Parquet or CSV by the file's suffix."""
    if path.suffix == ".csv":
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


def read_toml(path: Path) -> dict[str, Any]:
    """A scenario or experiment file's table; a UserError naming the file if it cannot be read as
    UTF-8 TOML (the one reader of both kinds of file)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text (byte {error.start} is {error.object[error.start]:#04x}); "
                        "save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: malformed TOML: {error}") from None
    except OSError as error:
        raise UserError(f"{path}: cannot read: {error.strerror}") from None
