"""``orgsim ui``: serve the Solara app on a loopback address, all assets local.

One worker (the default): the server (``solara run``, i.e. uvicorn) runs inside this process, so
there is no child to leave behind. On SIGTERM or SIGINT (Ctrl-C) uvicorn shuts down gracefully and
closes the port, then raises the signal again; the handler installed here then runs the exit
handlers (so a coverage measurement started by ``COVERAGE_PROCESS_START``, as in ``make coverage``,
saves its data) and ends the process at once, status 0 for SIGTERM and 130 for SIGINT, without
waiting for the threads of browser sessions that went away with the server.

``--workers N`` (a classroom): one Python process draws only so many frames a second whatever the
cores (the GIL), so N worker processes share one listening socket that this process opens; the
operating system hands each new connection to one of them, and a browser session lives in the
worker that accepted its websocket. This process only supervises: a stop signal is passed on to the
workers, it waits for them and ends with the status above. A worker that is killed or stopped is
replaced (up to five a minute); the pages of its sessions ask to be refreshed and come back with
their link's setup. A page that reconnects after its network dropped may reach another worker and
is asked to refresh too, where a single process would have given it its session back.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import importlib.util
import os
import signal
import socket
import sys
import time
import traceback
from typing import NoReturn

from orgsim.errors import UserError

#: orgsim's classroom app, and OrgModel in Mesa's SolaraViz (``orgsim ui --mesa``).
APP, MESA_APP = "orgsim.ui.app", "orgsim.ui.mesa_viz"
#: Set by ``orgsim ui --present``: every session starts in presentation mode (read by orgsim.ui.app).
PRESENT_ENV = "ORGSIM_UI_PRESENT"
#: The exit status for each stop signal.
STOP_STATUS = {signal.SIGTERM: 0, signal.SIGINT: 130}
#: More workers than this ending on their own within a minute: something is wrong, the server stops.
WORKER_RESTARTS_PER_MINUTE = 5
#: A worker that exits with an error status sooner than this after its start could not start: the server stops.
WORKER_START_SECONDS = 30.0
#: prctl(2): the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1
#: How long the workers get to shut down gracefully after a stop signal before they are killed.
WORKER_STOP_SECONDS = 10.0


def _stop(signum: int, frame: object) -> None:
    """Exit now: before the server started, or after uvicorn's graceful shutdown raised the signal again."""
    if os.environ.get("ORGSIM_UI_WORKER") is None:
        print(f"orgsim UI stopped ({signal.Signals(signum).name})", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()  # what a normal exit runs; os._exit then skips joining session threads
    os._exit(STOP_STATUS[signal.Signals(signum)])


def serve(host: str = "127.0.0.1", port: int = 8765, app: str = APP, present: bool = False, workers: int = 1) -> int:
    if not 1 <= port <= 65535:
        raise UserError(f"--port {port} is not allowed; allowed: an integer in [1, 65535]")
    if workers < 1:
        raise UserError(f"--workers {workers} is not allowed; allowed: an integer >= 1 (one per core serves most)")
    # no calls home: the UI must work in a classroom without internet (read when solara starts)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_TELEMETRY_SENTRY_ENABLE"] = "False"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"  # the badge would cover the charts' corner
    # A closed tab's models are freed after this long (Solara keeps them 24 h by default, so a
    # classroom's server grew by ~30 MB a session); a reload within it gets its session back.
    os.environ.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "2m")
    if present:
        os.environ[PRESENT_ENV] = "1"
    if importlib.util.find_spec("solara") is None:  # not imported here: the workers are forked without it
        raise UserError("solara is not installed in this environment; run `make demo` or `pip install -e .`")
    if workers == 1:
        print(f"orgsim UI on http://{host}:{port}  (Ctrl-C stops it)", flush=True)
        return _run(host, port, app)
    return _supervise(_listen(host, port), workers, host, port, app)


def _run(host: str, port: int, app: str, listener: socket.socket | None = None) -> int:
    """Serve in this process (a worker's: on ``listener``, the socket the supervisor opened)."""
    # uvicorn takes these signals over while it serves and gives them back to _stop afterwards
    for signum in STOP_STATUS:
        signal.signal(signum, _stop)
    import uvicorn
    from solara.__main__ import cli

    if listener is not None:
        # `solara run` starts uvicorn.Server.run() itself and has no option for an open socket
        run = uvicorn.Server.run
        uvicorn.Server.run = lambda server, sockets=None: run(server, sockets=[listener])  # type: ignore[method-assign,assignment]
    cli.main(["run", app, "--host", host, "--port", str(port), "--production", "--no-open",
              "--no-check-version"], prog_name="solara", standalone_mode=False)
    return 1  # the server ended without a stop signal: it failed to start (its message is printed)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket the workers share (what uvicorn would open: reusable address, IPv4 or IPv6)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror}; choose another --port or --host") from None
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _supervise(listener: socket.socket, workers: int, host: str, port: int, app: str) -> int:
    """Fork ``workers`` servers on ``listener``; pass a stop signal on to them, replace one that ends."""
    started: dict[int, float] = {}  # worker pid -> when it started
    ended: list[float] = []  # when workers ended on their own
    stopping: list[int] = []  # the stop signal, once one came
    supervisor = os.getpid()

    def start_worker() -> None:
        # Stop signals wait until the worker is registered (and, in the worker, until its own
        # handler is installed): a signal in between would be lost, or reach the wrong handler.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_STATUS)
        try:
            pid = os.fork()
            if pid == 0:
                _work(host, port, app, listener, supervisor)  # never returns
            started[pid] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_STATUS)

    def stop(signum: int, frame: object) -> None:
        if not stopping:
            stopping.append(signum)
        for pid in started:
            _signal(pid, signal.SIGTERM)

    for signum in STOP_STATUS:
        signal.signal(signum, stop)
    failed = False
    try:
        _preload()
        for _ in range(workers):
            if not stopping:
                start_worker()
        if not stopping:
            print(f"orgsim UI on http://{host}:{port}  ({workers} worker processes; Ctrl-C stops it)", flush=True)
        deadline = None
        while started:
            if stopping and deadline is None:
                deadline = time.monotonic() + WORKER_STOP_SECONDS
            if deadline is not None and time.monotonic() > deadline:
                for pid in started:
                    _signal(pid, signal.SIGKILL)
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(0.1)
                continue
            began = started.pop(pid, None)
            if began is None or stopping or failed:
                continue
            code = os.waitstatus_to_exitcode(status)
            how = f"status {code}" if code >= 0 else f"signal {-code}"
            now = time.monotonic()
            ended.append(now)
            if code > 0 and now - began < WORKER_START_SECONDS:
                print(f"orgsim UI: a worker could not start ({how}); stopping", file=sys.stderr)
            elif len([t for t in ended if t > now - 60]) > WORKER_RESTARTS_PER_MINUTE:
                print(f"orgsim UI: more than {WORKER_RESTARTS_PER_MINUTE} workers ended within a minute "
                      f"(the last: {how}); stopping", file=sys.stderr)
            else:
                print(f"orgsim UI: worker {pid} ended ({how}); starting another", file=sys.stderr, flush=True)
                start_worker()
                continue
            failed = True
            stop(signal.SIGTERM, None)
    finally:
        for pid in started:  # only if the supervisor itself failed: no worker outlives it
            _signal(pid, signal.SIGKILL)
        listener.close()
    if failed or not stopping:
        return 1
    print(f"orgsim UI stopped ({signal.Signals(stopping[0]).name})", file=sys.stderr)
    return STOP_STATUS[signal.Signals(stopping[0])]


def _work(host: str, port: int, app: str, listener: socket.socket, supervisor: int) -> NoReturn:
    """A worker, just forked (stop signals blocked): serve until stopped, then exit."""
    for signum in STOP_STATUS:  # not the supervisor's handler, inherited with the fork
        signal.signal(signum, _stop)
    os.environ["ORGSIM_UI_WORKER"] = "1"
    with contextlib.suppress(OSError, AttributeError):  # Linux: SIGTERM when the supervisor dies
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    status = 1
    try:
        if os.getppid() == supervisor:  # it did not die before prctl took effect
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_STATUS)
            status = _run(host, port, app, listener)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _preload() -> None:
    """Import before forking what every worker imports, so that the workers share those pages with
    this process instead of each holding a copy. Only libraries that start no thread when imported:
    a fork copies no thread but the one calling it (Solara's server modules start threads)."""
    import mesa  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import scipy.sparse  # noqa: F401
    import solara  # noqa: F401
    import solara.components.echarts  # noqa: F401
    import solara.lab  # noqa: F401

    import orgsim.model  # noqa: F401
    import orgsim.ui.charts  # noqa: F401
    import orgsim.ui.info  # noqa: F401
    import orgsim.warm  # noqa: F401 - the model's compiled passes, loaded once for all workers

    gc.freeze()  # the collector would otherwise write to every shared object, and so copy its page


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # ended meanwhile
        os.kill(pid, signum)
