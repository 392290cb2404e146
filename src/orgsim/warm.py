"""Importing this module loads every compiled pass of the model (from numba's cache, or compiles it).

A process that forks workers (the experiment's fork server, ``orgsim ui --workers``) imports it
first, so that the workers inherit the machine code instead of each loading it again (about half a
second per process): one tiny firm, one week, touches every pass.
"""

from orgsim.model import OrgModel

OrgModel(n_employees=30, n_customers=300, customer_views=False, seed=0).run(1)
