"""`orgsim ui` as a process: it stops cleanly on SIGTERM/SIGINT, frees its port, leaves no child,
and a coverage run inside it can write its data (so the UI's lines count in `make coverage`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ui.conftest import Session, _free_port, patience, running_ui

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _session_members(session_id: int) -> list[int]:
    """Every live process of a session (started with start_new_session: its id is the leader's pid)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[3]) == session_id and fields[0] != "Z":  # fields: state ppid pgrp session ...
            members.append(int(stat.parent.name))
    return members


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _start(port: int, env: dict[str, str] | None = None, workers: int = 1) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "orgsim.cli", "ui", "--port", str(port), "--workers", str(workers)],
                               cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.time() + patience(60) / 1000
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                assert response.status == 200
            return process
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                os.killpg(process.pid, signal.SIGKILL)
                raise RuntimeError(f"orgsim ui did not start: {process.communicate()[1][-2000:]}") from None
            time.sleep(0.3)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("sent", "status"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_a_signal_stops_orgsim_ui_and_frees_its_port(sent, status, workers):
    port = _free_port()
    process = _start(port, workers=workers)
    try:
        assert len(_session_members(process.pid)) == (1 if workers == 1 else 1 + workers)
        os.kill(process.pid, sent)  # the process only, not its group: stopping what it started is its job
        _, stderr = process.communicate(timeout=20)  # workers get 10 s to stop before they are killed
        assert process.returncode == status, stderr[-2000:]
        assert "Traceback" not in stderr and "Aborted" not in stderr, stderr[-2000:]
        assert not _listening(port)
        assert _session_members(process.pid) == []  # no child left serving
    finally:
        if process.poll() is None or _session_members(process.pid):
            os.killpg(process.pid, signal.SIGKILL)


def test_coverage_of_the_ui_server_is_written_when_it_stops(tmp_path):
    """With COVERAGE_PROCESS_START (what `make coverage` sets) the server runs under coverage and
    saves its data when SIGTERM stops it: the lines of orgsim/ui/ count."""
    coverage = pytest.importorskip("coverage")
    env = {key: value for key, value in os.environ.items() if not key.startswith("COVERAGE_")}
    env |= {"COVERAGE_PROCESS_START": str(ROOT / "pyproject.toml"), "COVERAGE_FILE": str(tmp_path / ".coverage")}
    port = _free_port()
    process = _start(port, env)
    try:
        os.kill(process.pid, signal.SIGTERM)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    files = list(tmp_path.glob(".coverage*"))
    assert files, "the server wrote no coverage data"
    combined = coverage.Coverage(data_file=str(tmp_path / "combined"), config_file=False)
    combined.combine([str(f) for f in files])
    data = combined.get_data()
    measured = {Path(name).relative_to(ROOT / "src").as_posix(): name for name in data.measured_files()
                if Path(name).is_relative_to(ROOT / "src")}
    for module in ("orgsim/ui/serve.py", "orgsim/ui/app.py", "orgsim/ui/charts.py"):
        assert module in measured and data.lines(measured[module]), f"{module} not measured: {sorted(measured)}"


def _replaced(process: subprocess.Popen, gone: int) -> set[int]:
    """The workers once ``gone`` has been replaced by a new one."""
    deadline = time.time() + patience(60) / 1000
    while True:
        now = set(_session_members(process.pid)) - {process.pid}
        if len(now) == 2 and gone not in now:
            return now
        assert time.time() < deadline, f"no worker replaced {gone}: {now}"
        time.sleep(0.3)


def test_workers_share_the_port_and_one_that_dies_is_replaced():
    """With --workers 2 a worker killed (a crash) or stopped is replaced, and the new one serves."""
    port = _free_port()
    process = _start(port, workers=2)
    try:
        first, second = sorted(set(_session_members(process.pid)) - {process.pid})
        os.kill(first, signal.SIGKILL)
        replacement = (_replaced(process, first) - {second}).pop()
        os.kill(second, signal.SIGTERM)  # stopped on its own: replaced too
        _replaced(process, second)
        deadline = time.time() + patience(60) / 1000
        while True:  # the replacement of the first now serves (the second's is still starting)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
                    assert response.status == 200
                break
            except OSError:
                assert time.time() < deadline, "no replacement serves"
                time.sleep(0.3)
        assert replacement in _session_members(process.pid)
        os.kill(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0, stderr[-2000:]
        assert f"worker {first} ended (signal 9)" in stderr and f"worker {second} ended (status 0)" in stderr
        assert not _listening(port) and _session_members(process.pid) == []
    finally:
        if process.poll() is None or _session_members(process.pid):
            os.killpg(process.pid, signal.SIGKILL)


def _catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler of its own for ``signum`` (SigCgt in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def test_a_stop_signal_while_the_workers_start_stops_them_all():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "orgsim.cli", "ui", "--port", str(port), "--workers", "2"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        deadline = time.time() + patience(60) / 1000
        while not _catches(process.pid, signal.SIGTERM):  # the supervisor's handler, before the workers
            assert process.poll() is None and time.time() < deadline
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0 and "Traceback" not in stderr, stderr[-2000:]
        assert not _listening(port) and _session_members(process.pid) == []
    finally:
        if process.poll() is None or _session_members(process.pid):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.parametrize(("argument", "says"), [("0", "--workers 0 is not allowed"), ("x", "invalid int value")])
def test_a_bad_worker_count_is_refused_in_one_line(argument, says):
    result = subprocess.run([sys.executable, "-m", "orgsim.cli", "ui", "--workers", argument], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr


def _workers_of(port: int) -> list[int]:
    """The worker processes of the `orgsim ui --port PORT` whose supervisor runs here."""
    processes = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
            parent = int((cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue
        if b"ui" in words and str(port).encode() in words:
            processes[int(cmdline.parent.name)] = parent
    return [pid for pid, parent in processes.items() if parent in processes]


@pytest.mark.browser
def test_a_page_whose_worker_died_says_so_and_a_reload_brings_back_its_setup(browser):
    """A killed worker takes its sessions with it: the page says it must be refreshed (Solara's
    dialog), and the reload, served by a new worker, has the setup of the link."""
    with running_ui("--workers", "2") as url:
        session = Session(browser, url + "?mode=compare&a=siloed&b=multiplier_led&seed=7")
        session.click("Step")
        session.wait_week(1)
        workers = _workers_of(int(url.rstrip("/").rsplit(":", 1)[1]))
        assert len(workers) == 2
        for pid in workers:  # whichever holds this page's session
            os.kill(pid, signal.SIGKILL)
        session.page.get_by_text("Please refresh the page").first.wait_for(timeout=patience(30))
        session.page.reload()
        session.page.get_by_text("Week 0", exact=True).wait_for(timeout=patience(60))
        assert session.page.get_by_label("Seed").input_value() == "7"
        assert session.page.get_by_text("B: multiplier_led", exact=False).count() > 0
        session.click("Step")
        session.wait_week(1)
        session.context.close()
