"""``orgsim ui``: serve the Solara app on a loopback address, all assets local."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from orgsim.errors import UserError


def serve(host: str = "127.0.0.1", port: int = 8765) -> int:
    if not 1 <= port <= 65535:
        raise UserError(f"--port {port} is not allowed; allowed: an integer in [1, 65535]")
    solara = Path(sys.executable).parent / "solara"
    if not solara.exists():
        raise UserError("solara is not installed in this environment; run `make demo` or `pip install -e .`")
    env = {
        **os.environ,
        # no calls home: the UI must work in a classroom without internet
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_TELEMETRY_SENTRY_ENABLE": "False",
    }
    print(f"orgsim UI on http://{host}:{port}  (Ctrl-C stops it)", flush=True)
    os.execve(str(solara), [str(solara), "run", "orgsim.ui.app", "--host", host, "--port", str(port),
                            "--production", "--no-open", "--no-check-version"], env)
    return 0  # not reached
