"""Where an experiment's finished runs live, and how they are read back.

A results folder holds::

    experiment.json                   the manifest (design, provenance; its size does not grow with runs)
    design.parquet                    the sampled design points (a [grid] is rebuilt from its lists)
    runs/<scenario>/part-*.parquet    finished runs, many per file, one folder per scenario
    runs/.journal-*.arrows            runs finished by a session that has not compacted them yet

While an experiment runs, each finished run is appended to the session's
*journal*, an Arrow IPC stream, and flushed to the operating system at once:
a run is kept from the moment its rows are appended, even if orgsim is then
killed with SIGKILL. When the session ends (done, Ctrl-C, SIGTERM, an error)
and again when a later session starts, journals are *compacted*: their runs
are written per scenario into one Parquet file each (atomically: complete or
absent), then the journals are deleted. A journal cut short by a kill is read
up to its last complete run. A run present twice (a kill between writing a
part and deleting its journal) is read once.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from orgsim.errors import UserError
from orgsim.io import atomic_write, temporary_files

RUNS = "runs"
JOURNALS = ".journal-*.arrows"
PARTS = "*/part-*.parquet"
#: The key of a row: the run's index in the experiment's fixed order, and the week.
KEY = ["run", "step"]


def journals(out: Path) -> list[Path]:
    return sorted((out / RUNS).glob(JOURNALS))


def parts(out: Path) -> list[Path]:
    return sorted((out / RUNS).glob(PARTS))


class Journal:
    """The runs this session finished, appended one by one to an Arrow IPC stream."""

    def __init__(self, out: Path, schema: pa.Schema) -> None:
        folder = out / RUNS
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f".journal-{time.time_ns()}-{os.getpid()}.arrows"
        self.schema = schema
        self._file: BinaryIO | None = None
        self._writer: ipc.RecordBatchStreamWriter | None = None
        #: Runs appended by this session.
        self.appended = 0

    def append(self, frame: pd.DataFrame) -> None:
        """Keep one run's rows; they survive a kill of this process from the moment this returns."""
        batch = pa.RecordBatch.from_pandas(frame, schema=self.schema, preserve_index=False)
        if self._writer is None:  # the file is created with the first run, not before
            self._file = self.path.open("xb")
            self._writer = ipc.new_stream(self._file, self.schema)
        self._writer.write_batch(batch)
        assert self._file is not None
        self._file.flush()
        self.appended += 1

    def close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                assert self._file is not None
                self._file.close()
                self._writer = self._file = None


def read_journal(path: Path) -> pa.Table | None:
    """The complete runs of a journal (a kill may have cut its last one short); None if it holds none."""
    batches = []
    try:
        with path.open("rb") as handle, ipc.open_stream(handle) as reader:
            schema = reader.schema
            while True:
                try:
                    batches.append(reader.read_next_batch())
                except StopIteration:
                    break
    except (pa.ArrowInvalid, OSError, EOFError):
        if not batches:
            return None
    return pa.Table.from_batches(batches, schema=schema) if batches else None


def _read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError) as error:
        raise UserError(f"{path}: damaged results file ({error}); move it out of the folder and run the "
                        "experiment again: its runs are then run anew") from None


def _finished_run_indices(paths: list[Path]) -> Iterator[np.ndarray]:
    for path in paths:
        yield _read_part(path, ["run"]).column("run").to_numpy()


def finished(out: Path, n_runs: int) -> np.ndarray:
    """A boolean mask over the experiment's runs: True where the run is kept (in a part or a journal)."""
    done = np.zeros(n_runs, dtype=bool)
    for runs in _finished_run_indices(parts(out)):
        done[runs[runs < n_runs]] = True
    for path in journals(out):
        table = read_journal(path)
        if table is not None:
            runs = table.column("run").to_numpy()
            done[runs[runs < n_runs]] = True
    return done


def compact(out: Path) -> int:
    """Move the runs of every journal into Parquet parts (one per scenario); return the runs moved."""
    paths = journals(out)
    tables = [t for t in map(read_journal, paths) if t is not None]
    moved = 0
    if tables:
        frame = pd.concat([t.to_pandas() for t in tables], ignore_index=True)
        kept = np.concatenate(list(_finished_run_indices(parts(out))) or [np.empty(0, np.int64)])
        frame = frame[~frame["run"].isin(kept)].drop_duplicates(KEY).sort_values(KEY, kind="stable")
        stamp = time.time_ns()
        for scenario, rows in frame.groupby("scenario", sort=False):
            path = out / RUNS / str(scenario) / f"part-{stamp}.parquet"
            atomic_write(path, functools.partial(_write_part, pa.Table.from_pandas(
                rows, schema=tables[0].schema, preserve_index=False)))
        moved = int(frame["run"].nunique())
    for path in paths:  # only after every part is in place: a kill before this leaves duplicates, never losses
        path.unlink()
    return moved


def _write_part(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd")


def read(out: Path) -> pd.DataFrame:
    """Every kept run's rows, in run and week order (empty if none)."""
    tables = [_read_part(path) for path in parts(out)]
    tables += [t for t in map(read_journal, journals(out)) if t is not None]
    if not tables:
        return pd.DataFrame()
    frame = pa.concat_tables(tables, promote_options="default").to_pandas()
    return frame.drop_duplicates(KEY).sort_values(KEY, kind="stable").reset_index(drop=True)


#: The temporary files of the writers above, for the sweep on resume and ``--fresh``.
TEMPORARY_PARTS = f"{RUNS}/*/{temporary_files('part-*.parquet')}"
