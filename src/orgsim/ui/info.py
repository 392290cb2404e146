"""What the UI says in words: labels, claim tooltips, the Info panel, a summary of a run, setups as TOML.

Everything here is a pure function of declarations and models, so it is tested
without a browser (tests/ui/test_info.py).
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from orgsim.errors import UserError
from orgsim.model import OrgModel
from orgsim.parameters import PARAMS_BY_NAME, Param
from orgsim.scenario import SEED_MAX

#: Words a parameter's code name spells in a way people would not.
WORDS = {"n": "number of", "rnd": "R&D", "nps": "NPS", "ad": "ad", "eur": "EUR"}


def label(name: str) -> str:
    """A parameter's name as people say it: ``n_customers`` -> "Number of customers"."""
    words = [WORDS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


@cache
def claims() -> dict[str, dict[str, str]]:
    """The claims register's digest (``orgsim docs`` writes it from docs/claims.md): ID -> title, text."""
    return json.loads((resources.files("orgsim") / "claims.json").read_text(encoding="utf-8"))


CLAIM_ID = re.compile(r"S\d\.\d")


def explain_claims(codes: str) -> str:
    """The claims cited by ``codes`` ("S2.1, S4.2") in words: "S2.1 Silos …: statement" per line."""
    lines = []
    for code in dict.fromkeys(CLAIM_ID.findall(codes)):
        claim = claims().get(code)
        if claim:
            lines.append(f"{code} {claim['title']}: {claim['text']}")
    return "\n\n".join(lines)


def tooltip(param: Param) -> str:
    """What a control's tooltip says: code name, meaning, allowed values, and the claim it models."""
    text = f"{param.name}: {param.help} Allowed: {param.describe_range()}."
    if param.claim:
        text += "\n\n" + explain_claims(param.claim)
    return text


def parse_value(param: Param, text: str) -> Any:
    """What someone typed for ``param`` (a model parameter or an intervention argument), typed and checked
    against its declaration; ValueError saying what is allowed otherwise."""
    allowed = ValueError(f"allowed: {param.describe_range()}")
    text = text.strip()
    if param.kind is bool:
        if text.lower() not in ("true", "false"):
            raise allowed
        return text.lower() == "true"
    if param.choices:
        if text not in param.choices:
            raise allowed
        return text
    try:
        number = float(text)
    except ValueError:
        raise allowed from None
    assert param.low is not None and param.high is not None
    if param.kind is int:
        if number != int(number):
            raise allowed
        number = int(number)
    if not param.low <= number <= param.high:
        raise allowed
    return number


def parse_seed(text: str) -> int:
    """A seed someone typed; ValueError saying what is allowed otherwise."""
    text = text.strip()
    if not text.isdigit() or int(text) > SEED_MAX:
        raise ValueError("a whole number from 0 to 2^63−1")
    return int(text)


def slider_step(param: Param) -> float:
    """A linear slider's step: a round power of ten, about a hundredth of the range, so that the
    declared values (0.3, 0.85, …) lie on its grid and a slider does not move them when it appears."""
    assert param.low is not None and param.high is not None
    return float(10 ** math.floor(math.log10((param.high - param.low) / 100)))


def same_value(param: Param, value: Any, other: Any) -> bool:
    """Whether a control's ``value`` is ``other``: for numbers, within half a slider step."""
    if isinstance(value, float) and isinstance(other, int | float) and not isinstance(other, bool):
        return math.isclose(value, other, abs_tol=slider_step(param) / 2)
    return bool(value == other)


def log_scaled(param: Param) -> bool:
    """Whether a slider moves on a logarithmic scale: the range spans orders of magnitude around the default."""
    assert param.low is not None and param.high is not None
    return isinstance(param.default, int | float) and param.default > 0 and (param.high - param.low) / param.default >= 100


#: Slider positions of a log-scaled slider: 0 … LOG_POSITIONS.
LOG_POSITIONS = 1000


def to_position(param: Param, value: float) -> int:
    """The slider position of ``value`` on a log-scaled slider (inverse of :func:`from_position`)."""
    low, _, unit, span = _log_scale(param)
    return round(LOG_POSITIONS * math.log10(1 + (value - low) / unit) / span)


def from_position(param: Param, position: int) -> float | int:
    """The value at a log-scaled slider's ``position``: the low end at 0, the high end at LOG_POSITIONS."""
    low, high, unit, span = _log_scale(param)
    value = min(max(low + unit * (10 ** (span * position / LOG_POSITIONS) - 1), low), high)
    return round(value) if param.kind is int else float(f"{value:.3g}")


def _log_scale(param: Param) -> tuple[float, float, float, float]:
    """Low end, high end, the value where the scale turns from linear to logarithmic (a hundredth of
    the default), and the decades the slider spans."""
    assert param.low is not None and param.high is not None
    unit = float(param.default) / 100
    return param.low, param.high, unit, math.log10(1 + (param.high - param.low) / unit)


# ---------------------------------------------------------------- the Info panel
ABOUT = """\
orgsim simulates a firm as its employees, in seven departments, and its market of customers. Every week
employees influence each other's attitude toward marketing, customer knowledge travels (or not) from the
front line to R&D, departments hand orders to each other and learn whom to trust, and customers buy,
compare what they get with what they were promised, recommend, complain and leave. Nothing in the model
says "silos are bad": the outcomes in the charts come out of these rules. Each rule models a claim of five
practitioner texts about marketing inside firms (IDs such as S2.1; hover a control to read the claim)."""

#: What each mechanism does, in the order the model applies them each week (orgsim.model.SCHEDULE).
MECHANISMS: tuple[tuple[str, str, str], ...] = (
    ("recognition", "Recognition and freedom",
     "Recognised, free employees engage more; engagement makes them more willing to support marketing."),
    ("attitude", "Attitudes, multipliers and resistance",
     "Each employee's attitude moves toward those of colleagues they are tied to, weighted by influence and "
     "anchored to their own past view. The leader and appointed multipliers have more reach."),
    ("knowledge", "The internal knowledge chain",
     "Customer-facing staff learn what customers need; knowledge carriers pass it on across departments "
     "(silos block it) until it reaches R&D and shapes the offer."),
    ("marketing_mix", "Advertising and personal touchpoints",
     "The budget buys leads: mass advertising reaches many but tires them and makes promises; personal "
     "touchpoints reach fewer and build trust."),
    ("coordination", "Hand-offs between departments",
     "Orders pass from sales to the back office and production; distrust and silos make hand-offs fail or be "
     "done twice."),
    ("quality", "Service quality", "What customers get depends on capable, engaged staff and failed hand-offs."),
    ("customers", "Customers: experience, referrals, reviews, churn",
     "Customers compare what they get with what was promised. Delighted customers recommend the firm to "
     "their contacts; disappointed ones write reviews (many at once: a shitstorm) and leave."),
    ("trust", "Trust between departments",
     "Each department trusts another by the evidence of their hand-offs: marketing's support for sales "
     "builds sales' trust in marketing."),
)

NOTICE_AND_TRY: dict[str, tuple[str, str]] = {
    "siloed": ("Attitude stays below zero, knowledge hardly reaches R&D, so offer fit and NPS stay low and "
               "customers leave.",
               "Open silos at week 26, or appoint multipliers after the leader commits: which KPI moves first?"),
    "multiplier_led": ("Attitude climbs for months (not weeks); offer fit follows the knowledge chain; "
                       "referrals grow the customer base.",
                       "Compare it with 'siloed' and the same seed: when do the two firms' customer lines part?"),
    "siloed_turnaround": ("Everything changes at week 26, but customers respond only after knowledge and trust "
                          "have caught up: a lag of months.",
                          "Compare with 'siloed': how long until the turnaround firm has more customers?"),
    "ad_spam": ("Many leads, but promises the offer cannot keep: disappointed customers, reviews, churn.",
                "Lower the ad share or the budget: fewer leads, but do more customers stay?"),
    "ad_blitz": ("Leads jump from week 13 and fall back at 39, but the disappointed customers of the blitz "
                 "keep writing reviews.", "Compare with 'base': is the firm better off after the blitz?"),
    "trust_marketing": ("Slower growth at first, then referrals from satisfied customers carry it.",
                        "Compare with 'ad_spam' over two years."),
    "knowledge_chain": ("Knowledge reach in R&D and then offer fit rise; NPS follows.",
                        "Set carriers per department to 0 and reset: what stops?"),
    "sales_marketing_partnership": ("Sales' trust in marketing rises and fewer hand-offs fail.",
                                    "Compare with 'base': how much of the difference shows in revenue?"),
    "purpose_led": ("Promises match the offer: fewer disappointed customers and reviews.",
                    "Lower purpose clarity and reset."),
    "everything_is_marketing": ("Every employee aligned: the strongest firm of the presets.",
                                "Compare with 'siloed' and look at the trust grid."),
    "base": ("An average firm: the reference for every preset.", "Start an ad blitz and stop it later."),
}


def notice_and_try(preset: str) -> tuple[str, str]:
    return NOTICE_AND_TRY.get(preset, ("Watch the customer line and the NPS together.",
                                       "Change one parameter, press Reset, and compare with the same seed."))


# ------------------------------------------------------------- what happened
def summary(models: Sequence[OrgModel], labels: Sequence[str]) -> str:
    """A few sentences in plain language on what happened so far, from the KPIs (and A against B)."""
    if not models or models[0].steps == 0:
        return "Week 0: nothing has happened yet. Press Play or Step."
    sentences = []
    for model, name in zip(models, labels, strict=True):
        first, now = model.records[0], model.records[-1]
        storm_weeks = sum(r["shitstorm"] > 0 for r in model.records)
        change = now["active_customers"] - first["active_customers"]
        attitude = now["mean_attitude"] - first["mean_attitude"]
        sentences.append(
            f"{name}: {now['active_customers']:,.0f} active customers after {model.steps} weeks "
            f"({'+' if change >= 0 else '−'}{abs(change):,.0f} since week 0), NPS {now['net_promoter_score']:+.0f}, "
            f"attitude {'up' if attitude > 0.005 else 'down' if attitude < -0.005 else 'unchanged'} "
            f"({first['mean_attitude']:+.2f} → {now['mean_attitude']:+.2f})"
            + (f", {storm_weeks} shitstorm weeks" if storm_weeks else "") + ".")
    if len(models) == 2:
        a, b = (m.records[-1] for m in models)
        lead = a["active_customers"] - b["active_customers"]
        ahead, behind = (labels[0], labels[1]) if lead >= 0 else (labels[1], labels[0])
        nps_gap = a["net_promoter_score"] - b["net_promoter_score"]
        sentences.append(
            f"{ahead[:1]} is ahead by {abs(lead):,.0f} customers; "
            f"{'A' if nps_gap >= 0 else 'B'}'s customers recommend it more (NPS gap {abs(nps_gap):.0f} points)."
            if abs(lead) >= 1 else f"{ahead[:1]} and {behind[:1]} have the same number of customers.")
    return " ".join(sentences)


# ------------------------------------------------------------- setups as files
@dataclass
class Setup:
    """What a scenario TOML saved from the UI holds: a preset, changed values, seed, weeks, interventions."""

    preset: str
    seed: int
    steps: int
    overrides: dict[str, Any] = field(default_factory=dict)
    interventions: list[dict[str, Any]] = field(default_factory=list)  # week, action, arguments

    def to_toml(self, note: str = "") -> str:
        lines = [f"# orgsim scenario saved from the browser UI{': ' + note if note else ''}",
                 "# run it with: orgsim run THIS_FILE", f"description = {json.dumps(f'{self.preset} as set up in the UI')}",
                 f"extends = {json.dumps(self.preset)}", f"seed = {self.seed}", f"steps = {self.steps}", ""]
        if self.overrides:
            lines.append("[parameters]")
            lines += [f"{name} = {_toml_value(value)}" for name, value in sorted(self.overrides.items())]
            lines.append("")
        for entry in self.interventions:
            lines += ["[[interventions]]", f"week = {entry['week']}", f"action = {json.dumps(entry['action'])}"]
            if entry.get("arguments"):
                args = ", ".join(f"{k} = {_toml_value(v)}" for k, v in entry["arguments"].items())
                lines.append(f"arguments = {{ {args} }}")
            lines.append("")
        return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def read_setup(text: str, source: str, presets: Sequence[str]) -> Setup:
    """A setup from a scenario TOML the UI saved (or any that extends a preset); UserError if not usable."""
    from orgsim.scenario import load

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{source}: not a TOML file ({error})") from None
    preset = data.get("extends")
    if not isinstance(preset, str) or preset not in presets:
        raise UserError(f"{source}: the UI loads scenarios that extend a preset (extends = \"siloed\", …); "
                        f"this one has extends = {preset!r}")
    # validate the whole file as `orgsim run` would, naming the file in any error
    with tempfile.TemporaryDirectory(prefix="orgsim-upload-") as folder:
        path = (Path(folder) / Path(source).name).with_suffix(".toml")
        path.write_text(text, encoding="utf-8")
        scenario = load(path)
    base = load(preset)
    own = [entry for entry in data.get("interventions", []) if isinstance(entry, dict)]
    return Setup(preset=preset, seed=scenario.seed, steps=scenario.steps,
                 overrides={k: v for k, v in dict(data.get("parameters", {})).items()
                            if getattr(base.params, k) != v},
                 interventions=[{"week": e["week"], "action": e["action"], "arguments": dict(e.get("arguments", {}))}
                                for e in own])


# ------------------------------------------------------------- the URL
def to_query(mode: str, a: str, b: str, seed: int, overrides: Mapping[str, Any], present: bool) -> str:
    """The setup as a query string: ``?a=siloed&b=multiplier_led&mode=compare&seed=42&set.freedom=0.7``."""
    from urllib.parse import urlencode

    query = {"mode": mode, "a": a, **({"b": b} if mode == "compare" else {}), "seed": seed}
    query.update({f"set.{name}": _toml_value(value).strip('"') for name, value in sorted(overrides.items())})
    if present:
        query["present"] = 1
    return "?" + urlencode(query)


@dataclass
class Query:
    mode: str | None = None
    a: str | None = None
    b: str | None = None
    seed: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    present: bool = False
    problems: list[str] = field(default_factory=list)


def from_query(search: str | None, presets: Sequence[str]) -> Query:
    """Read a query string back; anything not allowed is left out and named in ``problems``."""
    from urllib.parse import parse_qsl

    query = Query()
    for key, value in parse_qsl((search or "").lstrip("?")):
        if key == "mode" and value in ("single", "compare"):
            query.mode = value
        elif key in ("a", "b") and value in presets:
            setattr(query, key, value)
        elif key == "present":
            query.present = value not in ("0", "false", "")
        else:
            try:
                if key == "seed":
                    query.seed = parse_seed(value)
                elif key.startswith("set.") and key[4:] in PARAMS_BY_NAME:
                    query.overrides[key[4:]] = parse_value(PARAMS_BY_NAME[key[4:]], value)
                else:
                    raise ValueError
            except ValueError:
                query.problems.append(f"{key}={value}")
    return query


