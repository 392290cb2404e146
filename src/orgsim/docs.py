"""Generate the parameter, output and intervention tables of docs/model.md (and the claims digest).

The tables are written from the declarations (orgsim.parameters,
orgsim.outputs, orgsim.interventions) between marker comments,
so the documentation cannot drift from the code: ``orgsim docs --check``
(and a test) fails when the committed tables are stale. It is a command for
the repository: it rewrites ``docs/model.md`` of the current folder (the
repository's top folder), or the file given with ``--path``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from orgsim.errors import UserError
from orgsim.interventions import ACTIONS
from orgsim.outputs import OUTPUTS
from orgsim.parameters import (
    GROUPS,
    PARAMETER_TYPES_MODULE,
    parameter_types_source,
    parameters_in_group,
)

#: Relative to the current folder: run ``orgsim docs`` from the repository's top folder.
MODEL_DOC = Path("docs") / "model.md"
#: The typed Protocol of the parameters, generated beside this module (a source file of the package).
PARAMETER_TYPES = Path(__file__).resolve().parent / PARAMETER_TYPES_MODULE
BEGIN, END = "<!-- BEGIN GENERATED TABLES (orgsim docs) -->", "<!-- END GENERATED TABLES -->"
#: The claims register, and its digest in the package (ID -> title and statement) for the UI's tooltips.
CLAIMS_DOC = "claims.md"  # next to docs/model.md
CLAIMS_DIGEST = Path(__file__).resolve().parent / "claims.json"
CLAIM_ENTRY = re.compile(r"^\*\*(S\d\.\d[a-z]?) ([^*]+?)\.\*\* (.*?)(?:\*Model:\*|\n\n|\Z)", re.M | re.S)
#: A claim ID of docs/claims.md (S3.2; S3.2b is part b of S3.2), not already inside a link.
CLAIM_ID = re.compile(r"(?<![\[#\w])S(\d\.\d)[a-z]?\b")


def link_claims(text: str) -> str:
    """Claim IDs as links to their anchors in claims.md (a file next to docs/model.md)."""
    return CLAIM_ID.sub(lambda m: f"[{m[0]}](claims.md#S{m[1]})", text)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def _prose(text: object) -> str:
    return link_claims(_cell(text))


def tables() -> str:
    lines = ["### Parameters", "", "One step is one week. Generated from `orgsim/parameters.py`.", ""]
    for group, title in GROUPS.items():
        lines += [f"**{title}** (`{group}`)", "", "| name | default | allowed | unit | claim | meaning |",
                  "|---|---|---|---|---|---|"]
        for p in parameters_in_group(group):
            default = str(p.default).lower() if p.kind is bool else p.default
            lines.append(f"| `{p.name}` | {_cell(default)} | {_cell(p.describe_range())} | {_cell(p.unit)} "
                         f"| {_prose(p.claim)} | {_prose(p.help)} |")
        lines.append("")
    lines += ["### Outputs (one row per week)", "", "| column | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{o.name}` | {_cell(o.unit)} | {_prose(o.help)} |" for o in OUTPUTS]
    lines += ["", "### Intervention actions", "", "| action | arguments (default, allowed) | claim | effect |",
              "|---|---|---|---|"]
    for a in ACTIONS.values():
        args = "; ".join(f"`{x.name}` = {x.default} ({x.describe_range()})" for x in a.arguments) or "none"
        lines.append(f"| `{a.name}` | {_cell(args)} | {_prose(a.claim)} | {_prose(a.help)} |")
    return "\n".join(lines) + "\n"


def claims_digest(register: str) -> str:
    """Each claim of docs/claims.md as {"S0.2": {"title": ..., "text": ...}} (JSON, for the UI)."""
    claims = {m[1]: {"title": m[2].strip(), "text": " ".join(m[3].split())} for m in CLAIM_ENTRY.finditer(register)}
    return json.dumps(claims, indent=1, ensure_ascii=False) + "\n"


def render(document: str) -> str:
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{tables()}{END}{tail}"


def main(check: bool = False, path: str | Path | None = None) -> int:
    doc = Path(path) if path is not None else MODEL_DOC
    if not doc.is_file():
        raise UserError(f"{doc}: no such file; `orgsim docs` rewrites the tables of the repository's "
                        "docs/model.md: run it in the repository's top folder, or give the file with --path")
    current = doc.read_text()
    if BEGIN not in current or END not in current:
        raise UserError(f"{doc}: has no generated tables; allowed: a file with the markers {BEGIN} and {END}")
    updated = render(current)
    types_current = PARAMETER_TYPES.read_text() if PARAMETER_TYPES.is_file() else ""
    types_updated = parameter_types_source()
    claims_doc = doc.parent / CLAIMS_DOC
    digest_current = CLAIMS_DIGEST.read_text() if CLAIMS_DIGEST.is_file() else ""
    digest_updated = claims_digest(claims_doc.read_text()) if claims_doc.is_file() else digest_current
    if check:
        stale = [str(f) for f, old, new in ((doc, current, updated), (PARAMETER_TYPES, types_current, types_updated),
                                            (CLAIMS_DIGEST, digest_current, digest_updated)) if old != new]
        for file in stale:
            print(f"{file} is stale: run `orgsim docs`", file=sys.stderr)
        if not stale:
            print(f"{doc} and {PARAMETER_TYPES.name} are up to date")
        return 1 if stale else 0
    doc.write_text(updated)
    print(f"wrote the generated tables in {doc}")
    if types_current != types_updated:  # only in a source checkout: an installed package is current
        PARAMETER_TYPES.write_text(types_updated)
        print(f"wrote {PARAMETER_TYPES}")
    if digest_current != digest_updated:
        CLAIMS_DIGEST.write_text(digest_updated)
        print(f"wrote {CLAIMS_DIGEST}")
    return 0
