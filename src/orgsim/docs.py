"""Generate the parameter, output and intervention tables of docs/model.md.

The tables are written from the declarations (orgsim.parameters,
orgsim.outputs, orgsim.interventions) between marker comments,
so the documentation cannot drift from the code: ``orgsim docs --check``
(and a test) fails when the committed tables are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from orgsim.interventions import ACTIONS
from orgsim.outputs import OUTPUTS
from orgsim.parameters import GROUPS, parameters_in_group

MODEL_DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"
BEGIN, END = "<!-- BEGIN GENERATED TABLES (orgsim docs) -->", "<!-- END GENERATED TABLES -->"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def tables() -> str:
    lines = ["### Parameters", "", "One step is one week. Generated from `orgsim/parameters.py`.", ""]
    for group, title in GROUPS.items():
        lines += [f"**{title}** (`{group}`)", "", "| name | default | allowed | unit | claim | meaning |",
                  "|---|---|---|---|---|---|"]
        for p in parameters_in_group(group):
            default = str(p.default).lower() if p.kind is bool else p.default
            lines.append(f"| `{p.name}` | {_cell(default)} | {_cell(p.describe_range())} | {_cell(p.unit)} "
                         f"| {_cell(p.claim)} | {_cell(p.help)} |")
        lines.append("")
    lines += ["### Outputs (one row per week)", "", "| column | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{o.name}` | {_cell(o.unit)} | {_cell(o.help)} |" for o in OUTPUTS]
    lines += ["", "### Intervention actions", "", "| action | arguments (default, allowed) | claim | effect |",
              "|---|---|---|---|"]
    for a in ACTIONS.values():
        args = "; ".join(f"`{x.name}` = {x.default} ({x.describe_range()})" for x in a.arguments) or "none"
        lines.append(f"| `{a.name}` | {_cell(args)} | {_cell(a.claim)} | {_cell(a.help)} |")
    return "\n".join(lines) + "\n"


def render(document: str) -> str:
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{tables()}{END}{tail}"


def main(check: bool = False) -> int:
    current = MODEL_DOC.read_text()
    updated = render(current)
    if check:
        if current != updated:
            print(f"{MODEL_DOC} is stale: run `orgsim docs`", file=sys.stderr)
            return 1
        print(f"{MODEL_DOC} is up to date")
        return 0
    MODEL_DOC.write_text(updated)
    print(f"wrote the generated tables in {MODEL_DOC}")
    return 0
