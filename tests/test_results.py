"""Finished runs kept in a journal, compacted into Parquet parts, read back once each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from orgsim import results

SCHEMA = pa.schema([("run", pa.int64()), ("scenario", pa.string()), ("step", pa.int64()), ("kpi", pa.float64())])


def run_rows(run: int, scenario: str = "a", weeks: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"run": run, "scenario": scenario, "step": range(weeks), "kpi": np.arange(weeks) + run / 10})


def test_a_run_is_kept_from_the_moment_it_is_appended(tmp_path):
    journal = results.Journal(tmp_path, SCHEMA)
    assert not journal.path.exists()  # nothing is written before the first run
    journal.append(run_rows(0))
    journal.append(run_rows(1, "b"))
    # no close: as if the process were killed now
    assert results.finished(tmp_path, 3).tolist() == [True, True, False]
    pd.testing.assert_frame_equal(results.read(tmp_path), pd.concat([run_rows(0), run_rows(1, "b")], ignore_index=True))
    journal.close()


def test_a_journal_cut_short_keeps_its_complete_runs(tmp_path):
    journal = results.Journal(tmp_path, SCHEMA)
    for run in range(3):
        journal.append(run_rows(run))
    journal.close()
    data = journal.path.read_bytes()
    journal.path.write_bytes(data[: len(data) - 100])  # a kill in the middle of the last run's write
    table = results.read_journal(journal.path)
    assert table is not None and sorted(set(table.column("run").to_pylist())) == [0, 1]
    journal.path.write_bytes(data[:20])  # not even a whole header
    assert results.read_journal(journal.path) is None


def test_compaction_writes_one_part_per_scenario_and_removes_the_journals(tmp_path):
    for runs in ([0, 2], [1, 3]):
        journal = results.Journal(tmp_path, SCHEMA)
        for run in runs:
            journal.append(run_rows(run, "a" if run % 2 == 0 else "b"))
        journal.close()
    assert results.compact(tmp_path) == 4
    assert not results.journals(tmp_path)
    assert [p.parent.name for p in results.parts(tmp_path)] == ["a", "b"]
    frame = results.read(tmp_path)
    assert frame["run"].tolist() == [r for r in range(4) for _ in range(3)]
    assert results.compact(tmp_path) == 0  # nothing left to move


def test_a_run_kept_twice_is_read_once(tmp_path):
    """A kill after a part was written but before its journal was deleted leaves the runs twice."""
    journal = results.Journal(tmp_path, SCHEMA)
    journal.append(run_rows(0))
    journal.close()
    kept = journal.path.read_bytes()
    results.compact(tmp_path)
    journal.path.write_bytes(kept)  # the journal "survived"
    assert results.finished(tmp_path, 1).tolist() == [True]
    assert len(results.read(tmp_path)) == 3
    assert results.compact(tmp_path) == 0 and len(results.read(tmp_path)) == 3 and len(results.parts(tmp_path)) == 1


def test_an_empty_folder_has_no_runs(tmp_path):
    assert results.read(tmp_path).empty and not results.finished(tmp_path, 5).any()
