"""Importing this module loads every compiled pass of the model (from numba's cache, or compiles it).

A process that forks workers (the experiment's fork server, ``orgsim ui --workers``) imports it
first, so that the workers inherit the machine code instead of each loading it again (about half a
second per process). One tiny firm for two weeks touches every pass: the second week is the first
to update the promoter-tie counts instead of making them.
"""

import contextlib
import gc


def warm() -> None:
    """Run every compiled pass once; if that fails, the real runs report it (this is only a head start)."""
    from orgsim.model import OrgModel

    # A worker that cannot run a model says why on its own runs.
    with contextlib.suppress(Exception):
        OrgModel(n_employees=30, n_customers=300, customer_views=False, seed=0).run(2)
    gc.collect()  # the tiny model's cycles, before a fork server or supervisor freezes what it holds


warm()
