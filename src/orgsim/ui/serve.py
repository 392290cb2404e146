"""``orgsim ui``: serve the Solara app on a loopback address, all assets local.

The server (``solara run``, i.e. uvicorn) runs inside this process: there is no
child to leave behind. On SIGTERM or SIGINT (Ctrl-C) uvicorn shuts down
gracefully and closes the port, then raises the signal again; the handler
installed here then runs the exit handlers (so a coverage measurement started
by ``COVERAGE_PROCESS_START``, as in ``make coverage``, saves its data) and
ends the process at once, status 0 for SIGTERM and 130 for SIGINT, without
waiting for the threads of browser sessions that went away with the server.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys

from orgsim.errors import UserError

#: orgsim's classroom app, and OrgModel in Mesa's SolaraViz (``orgsim ui --mesa``).
APP, MESA_APP = "orgsim.ui.app", "orgsim.ui.mesa_viz"
#: Set by ``orgsim ui --present``: every session starts in presentation mode (read by orgsim.ui.app).
PRESENT_ENV = "ORGSIM_UI_PRESENT"
#: The exit status for each stop signal.
STOP_STATUS = {signal.SIGTERM: 0, signal.SIGINT: 130}


def _stop(signum: int, frame: object) -> None:
    """Exit now: before the server started, or after uvicorn's graceful shutdown raised the signal again."""
    print(f"orgsim UI stopped ({signal.Signals(signum).name})", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()  # what a normal exit runs; os._exit then skips joining session threads
    os._exit(STOP_STATUS[signal.Signals(signum)])


def serve(host: str = "127.0.0.1", port: int = 8765, app: str = APP, present: bool = False) -> int:
    if not 1 <= port <= 65535:
        raise UserError(f"--port {port} is not allowed; allowed: an integer in [1, 65535]")
    # no calls home: the UI must work in a classroom without internet (read when solara starts)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_TELEMETRY_SENTRY_ENABLE"] = "False"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"  # the badge would cover the charts' corner
    # A closed tab's models are freed after this long (Solara keeps them 24 h by default, so a
    # classroom's server grew by ~30 MB a session); a reload within it gets its session back.
    os.environ.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "2m")
    if present:
        os.environ[PRESENT_ENV] = "1"
    try:
        import solara  # noqa: F401
    except ImportError:
        raise UserError("solara is not installed in this environment; run `make demo` or `pip install -e .`") from None
    # uvicorn takes these signals over while it serves and gives them back to _stop afterwards
    for signum in STOP_STATUS:
        signal.signal(signum, _stop)
    from solara.__main__ import cli

    print(f"orgsim UI on http://{host}:{port}  (Ctrl-C stops it)", flush=True)
    cli.main(["run", app, "--host", host, "--port", str(port), "--production", "--no-open",
              "--no-check-version"], prog_name="solara", standalone_mode=False)
    return 1  # the server ended without a stop signal: it failed to start (its message is printed)
