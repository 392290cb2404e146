"""The pattern catalogue: every source claim the model reproduces, with its knockout.

Pattern-oriented modelling (Grimm et al. 2005): a claim counts as reproduced
only if the model shows it *through its mechanism*. Each :class:`Pattern`
names the claim, a scenario contrast (treatment against control, same seeds:
common random numbers), the KPI and the direction the claim predicts, and a
knockout — the overrides that switch the claim's mechanism off (or set its
parameter to the neutral end). The pattern holds when

* the paired effect (treatment − control) has a 95 % confidence interval on
  the claimed side of zero, over the pattern's seeds (``SEEDS``; twice as
  many where the effect is small against the noise, ``CLEAR_SEEDS`` where it
  is large), and
* with the knockout applied to both arms the effect is gone: at most 30 %
  of it is left in size (``KNOCKOUT_SHRINK``), or its confidence interval
  contains zero and reaches at most half the effect in the claimed
  direction, or it is significantly reversed (reported as such: without the
  claimed mechanism, the net of the remaining channels works against the
  claim).

``orgsim patterns`` (or ``make patterns``) runs the catalogue and writes
docs/patterns.md; tests/patterns/ checks every entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from orgsim import departments as dep
from orgsim.docs import link_claims
from orgsim.stats import MeanCI, mean_ci

SEEDS = 20
#: For effects more than ten standard errors from zero at 20 seeds: 10 seeds keep them above seven.
CLEAR_SEEDS = SEEDS // 2
KNOCKOUT_SHRINK = 0.7


@dataclass(frozen=True)
class Pattern:
    key: str
    claims: str
    statement: str  # the claim, in the project's words
    kpi: str  # an output name, or a key of CUSTOM_KPIS
    direction: int  # +1: treatment higher, -1: treatment lower
    treatment: dict[str, Any]
    knockout: dict[str, Any]
    mechanism: str  # what the knockout switches off
    control: dict[str, Any] = field(default_factory=dict)
    scenario: str = "base"
    weeks: int = 104
    summary: str = "final"  # "final": mean of the last 4 weeks; "mean": over weeks 1..end; "sum": total
    seeds: int = SEEDS  # more where the effect is small against the noise


def _left_brain_gap(model, frame: pd.DataFrame) -> float:
    """Mean attitude of R&D and controlling minus that of everyone else."""
    w = model.workforce
    left = np.isin(w.department, [dep.RND, dep.INDEX["controlling"]])
    return float(w.attitude[left].mean() - w.attitude[~left].mean())


def _lead_loss_share(model, frame: pd.DataFrame) -> float:
    """Share of marketing's leads lost at the marketing -> sales hand-off over the run."""
    return float(frame["lost_leads"].sum() / max(frame["leads"].sum(), 1.0))


CUSTOM_KPIS: dict[str, Callable[[Any, pd.DataFrame], float]] = {
    "left_brain_attitude_gap": _left_brain_gap,
    "lead_loss_share": _lead_loss_share,
}

PATTERNS: tuple[Pattern, ...] = (
    Pattern("multipliers", "S0.2", "Willing, responsible multipliers with more reach win the firm over.",
            "mean_attitude", +1, {"multiplier_share": 0.1}, {"multiplier_weight": 1.0},
            "multipliers carry no extra weight (multiplier_weight = 1)", seeds=CLEAR_SEEDS),
    Pattern("responsible_multipliers", "S0.2", "Multipliers found by responsibility carry more than willing people picked at random.",
            "mean_attitude", +1, {"multiplier_share": 0.1, "multiplier_selection": "responsibility"},
            {"multiplier_weight": 1.0}, "multipliers carry no extra weight (multiplier_weight = 1)",
            control={"multiplier_share": 0.1, "multiplier_selection": "random"}),
    Pattern("leader", "S0.2, S1.8", "A leader who backs marketing is the strongest multiplier.",
            "mean_attitude", +1, {"leader_attitude": 0.9}, {"leader_weight": 1.0, "multiplier_weight": 1.0},
            "the leader weighs like a colleague (leader_weight = multiplier_weight = 1)", seeds=CLEAR_SEEDS),
    Pattern("knowledge_carriers", "S0.3", "Knowledge carriers in every department carry customer knowledge to the offer.",
            "offer_fit", +1, {"carriers_per_department": 2}, {"knowledge_diffusion_rate": 0.0},
            "nothing is passed on (knowledge_diffusion_rate = 0)", summary="mean", seeds=2 * SEEDS),
    Pattern("word_of_mouth", "S0.4", "Exceeded expectations make promoters who bring new customers.",
            "new_customers", +1, {"expectation_base": 0.3}, {"enable_referrals": False},
            "no word of mouth (enable_referrals = false)", summary="sum", seeds=CLEAR_SEEDS),
    Pattern("visible_results", "S0.5", "Measured, visible success wins support for marketing.",
            "mean_attitude", +1, {"results_visibility": 0.9}, {"success_weight": 0.0},
            "success does not move attitudes (success_weight = 0)", control={"results_visibility": 0.1}, seeds=CLEAR_SEEDS),
    Pattern("weakest_link", "S1.4", "One under-performer per team drags the service of all down: unequal capability hurts at the same mean (about a sixth remains without the weakest link: the concave contribution).",
            "service_quality", -1, {"capability_concentration": 3.0}, {"weakest_link_weight": 0.0},
            "quality is the team mean (weakest_link_weight = 0)", control={"capability_concentration": 30.0}, seeds=2 * SEEDS),
    Pattern("recognition", "S1.7, S0.5", "Sharing success keeps staff behind marketing: recognised staff engage, the overlooked withdraw (both parts of mechanism 8).",
            "mean_attitude", +1, {"recognition_rate": 0.6}, {"enable_recognition": False},
            "no recognition mechanism (enable_recognition = false)", control={"recognition_rate": 0.05}, seeds=CLEAR_SEEDS),
    Pattern("left_brained", "S1.9", "R&D and controlling stay the most critical of marketing (an input: the pattern checks that two years of diffusion do not erase it).",
            "left_brain_attitude_gap", -1, {"left_brain_scepticism": 0.3}, {"left_brain_scepticism": 0.0},
            "no extra scepticism (left_brain_scepticism = 0)", control={"left_brain_scepticism": 0.0}, seeds=CLEAR_SEEDS),
    Pattern("silos_fail_orders", "S2.1, S2.5", "Silos leave tasks undone: more orders fail.",
            "order_failure_rate", +1, {"silo_strength": 0.85}, {"handoff_silo_failure": 0.0, "handoff_distrust_failure": 0.0},
            "hand-offs do not depend on silos or distrust", weeks=52, seeds=CLEAR_SEEDS),
    Pattern("silos_lose_customers", "S2.5", "Chaotic work gives chaotic results that customers see: they leave.",
            "active_customers", -1, {"silo_strength": 0.85},
            {"enable_coordination": False, "knowledge_diffusion_rate": 0.0, "enable_trust": False},
            "hand-offs never fail, nothing is passed on, trust does not change", seeds=2 * SEEDS),
    Pattern("ad_spam", "S2.2", "Ad spam floods customers with promises the offer cannot keep: they turn away.",
            "net_promoter_score", -1, {"marketing_budget": 30000.0, "ad_share": 0.95},
            {"ad_hype": 0.0, "ad_annoyance": 0.0, "shielded_churn": 0.0},
            "no hype, no annoyance, no turning away", seeds=CLEAR_SEEDS),
    Pattern("touchpoints", "S2.3, S2.4, S0.6", "Personal touchpoints instead of advertising bond customers.",
            "net_promoter_score", +1, {"ad_share": 0.2}, {"touchpoint_bonus": 0.0, "ad_hype": 0.0, "ad_annoyance": 0.0},
            "touchpoints and ads leave experience alone", control={"ad_share": 0.8}, seeds=CLEAR_SEEDS),
    Pattern("trust_builds", "S3.2, S3.3", "Marketing that advocates, supports and buffers earns sales' trust (a check of mechanism 3 in the full model, where hand-offs also count).",
            "trust_sales_in_marketing", +1, {"marketing_advocacy": 0.9, "marketing_support": 0.9, "marketing_buffering": 0.9},
            {"enable_trust": False}, "no trust evidence (enable_trust = false)",
            control={"marketing_advocacy": 0.2, "marketing_support": 0.2, "marketing_buffering": 0.2}),
    Pattern("distrust_loses_leads", "S3.1", "Distrust causes communication deficits: sales drops marketing's leads.",
            "lead_loss_share", -1, {"marketing_advocacy": 0.9, "marketing_support": 0.9, "marketing_buffering": 0.9},
            {"handoff_distrust_failure": 0.0, "lead_distrust_loss": 0.0}, "hand-offs do not depend on trust",
            control={"marketing_advocacy": 0.2, "marketing_support": 0.2, "marketing_buffering": 0.2}),
    Pattern("trust_wins_customers", "S3.4, S3.1", "A trusting interface wins customers: sales follows up marketing's leads (in the base firm almost all of the effect; the knowledge path needs carriers).",
            "new_customers", +1, {"marketing_advocacy": 0.9, "marketing_support": 0.9, "marketing_buffering": 0.9},
            {"enable_trust": False}, "no trust evidence (enable_trust = false)",
            control={"marketing_advocacy": 0.2, "marketing_support": 0.2, "marketing_buffering": 0.2}, summary="sum"),
    Pattern("boundaries", "S4.2", "Open boundaries carry service's and sales' input to R&D.",
            "offer_fit", +1, {"silo_strength": 0.0}, {"knowledge_diffusion_rate": 0.0},
            "nothing is passed on (knowledge_diffusion_rate = 0)", control={"silo_strength": 0.95},
            scenario="knowledge_chain", summary="mean", seeds=2 * SEEDS),
    Pattern("purpose", "S4.3, S4.5", "Marketers who know the purpose promise what the firm offers: customers are not let down.",
            "net_promoter_score", +1, {"purpose_clarity": 0.95}, {"ad_hype": 0.0},
            "promises never exceed the offer (ad_hype = 0)", control={"purpose_clarity": 0.1}, seeds=CLEAR_SEEDS),
    Pattern("bottom_up", "S1.6, S1.3", "Innovation is maximised bottom-up: a code that learns from everyone fits customers better.",
            "offer_fit", +1, {"code_learns_from": "everyone"}, {"code_learning_rate": 0.0},
            "the code does not learn (code_learning_rate = 0)", summary="mean", seeds=CLEAR_SEEDS),
)
BY_KEY: dict[str, Pattern] = {p.key: p for p in PATTERNS}


@lru_cache(maxsize=4096)
def run_once(scenario: str, overrides: tuple[tuple[str, Any], ...], seed: int, weeks: int) -> tuple[pd.DataFrame, dict]:
    """One run's weekly outputs and custom KPIs, shared by every pattern that needs the same run
    (several patterns share arms: only the KPI differs)."""
    from orgsim import load_scenario

    model = load_scenario(scenario).with_overrides({**dict(overrides), "steps": weeks}).model(
        seed=seed, customer_views=False)
    frame = model.run(weeks)
    return frame, {name: kpi(model, frame) for name, kpi in CUSTOM_KPIS.items()}


def _kpi_value(scenario: str, overrides: tuple[tuple[str, Any], ...], seed: int, weeks: int, kpi: str,
               summary: str) -> float:
    frame, custom = run_once(scenario, overrides, seed, weeks)
    if kpi in custom:
        return custom[kpi]
    column = frame[kpi]
    if summary == "sum":
        return float(column.sum())
    return float(column.iloc[1:].mean() if summary == "mean" else column.iloc[-4:].mean())


def paired_effects(pattern: Pattern, knockout: bool, seeds: int = SEEDS) -> np.ndarray:
    """Treatment − control per seed (common random numbers), optionally with the knockout."""
    extra = pattern.knockout if knockout else {}

    def value(arm: dict[str, Any], seed: int) -> float:
        overrides = tuple(sorted({**arm, **extra}.items()))
        return _kpi_value(pattern.scenario, overrides, seed, pattern.weeks, pattern.kpi, pattern.summary)

    return np.array([value(pattern.treatment, s) - value(pattern.control, s) for s in range(seeds)])


@dataclass(frozen=True)
class Result:
    pattern: Pattern
    effect: MeanCI
    knockout: MeanCI

    @property
    def reproduced(self) -> bool:
        return self.effect.low > 0 if self.pattern.direction > 0 else self.effect.high < 0

    @property
    def shrink(self) -> float:
        """How much of the effect the knockout removes (1 = all; above 1 if it reverses)."""
        return 1.0 - self.knockout.mean / self.effect.mean if self.effect.mean else 0.0

    @property
    def reversed(self) -> bool:
        """With the knockout the contrast points significantly the other way: without the claimed
        mechanism, the net of the model's remaining channels works against the claim."""
        return self.knockout.high < 0 if self.pattern.direction > 0 else self.knockout.low > 0

    @property
    def knocked_out(self) -> bool:
        """The knockout removes the effect: at most 30 % of it is left in size, or its CI contains 0 and
        reaches at most half the effect in the claimed direction, or it is significantly reversed."""
        if self.reversed or abs(self.knockout.mean) <= (1.0 - KNOCKOUT_SHRINK) * abs(self.effect.mean):
            return True
        bound = self.knockout.high if self.pattern.direction > 0 else -self.knockout.low
        return self.knockout.low <= 0.0 <= self.knockout.high and bound <= 0.5 * abs(self.effect.mean)

    @property
    def holds(self) -> bool:
        return self.reproduced and self.knocked_out


def evaluate(pattern: Pattern, seeds: int | None = None) -> Result:
    """The pattern's effect and knockout effect over ``seeds`` seeds (default: the pattern's own)."""
    n = pattern.seeds if seeds is None else seeds
    return Result(pattern, mean_ci(paired_effects(pattern, False, n)), mean_ci(paired_effects(pattern, True, n)))


def _fmt(value: float) -> str:
    return f"{value:+.3g}" if abs(value) < 1000 else f"{value:+,.0f}"


def _ci(ci: MeanCI) -> str:
    return f"{_fmt(ci.mean)} [{_fmt(ci.low)}, {_fmt(ci.high)}]"


def _arm(arm: dict[str, Any]) -> str:
    return ", ".join(f"`{k} = {v}`" for k, v in arm.items()) or "as the scenario"


def markdown(results: list[Result], seeds: int | None) -> str:
    """The catalogue as docs/patterns.md."""
    lines = [
        "# Pattern catalogue",
        "",
        "<!-- Generated by `orgsim patterns` from src/orgsim/patterns.py; do not edit by hand. -->",
        "",
        "Every claim of the source texts that the model reproduces is a pattern (Grimm et al. 2005):",
        "a contrast between two configurations of one scenario, run with the same seeds (common random",
        "numbers), the KPI the claim predicts and its direction, and a **knockout** that switches the",
        "claim's mechanism off. A pattern holds when the paired effect's 95 % confidence interval lies on",
        "the claimed side of zero and, with the knockout applied to both arms, the effect disappears",
        f"(its CI contains 0 within half the effect) or shrinks by at least {KNOCKOUT_SHRINK:.0%}. Where the knockout",
        "leaves a significant effect the *other* way, the row says **reversed**: without the claimed mechanism,",
        "the net of the model's remaining channels works against the claim (read the note in",
        "[validation](validation.md)).",
        f"Seeds per arm: {seeds or f'{SEEDS} (40 where an effect is small against the noise, {CLEAR_SEEDS} where it is more than ten standard errors from zero)'}. KPI values are the mean of the last four weeks (\"final\"),",
        "the mean over all weeks (\"mean\") or the total over the run (\"sum\").",
        "Claim IDs link to [the list of claims](claims.md).",
        "",
        "| claim | pattern | scenario, weeks | treatment vs control | KPI (direction) | effect [95 % CI] | knockout | effect with knockout [95 % CI] | removed | holds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        p = r.pattern
        direction = "higher" if p.direction > 0 else "lower"
        lines.append(
            f"| {link_claims(p.claims)} | {p.statement} | `{p.scenario}`, {p.weeks} | {_arm(p.treatment)} vs {_arm(p.control)} "
            f"| `{p.kpi}` ({p.summary}, {direction}) | {_ci(r.effect)} | {p.mechanism} | {_ci(r.knockout)} "
            f"| {min(max(r.shrink, 0), 1):.0%}{' (**reversed**)' if r.reversed else ''} "
            f"| {'yes' if r.holds else '**no**'} |"
        )
    lines += ["", f"{sum(r.holds for r in results)} of {len(results)} patterns hold.", ""]
    return "\n".join(lines)


def run_catalogue(seeds: int | None = None, workers: int = 1, progress: bool = True) -> list[Result]:
    """Evaluate every pattern (in parallel processes when workers > 1)."""
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    if workers <= 1:
        return [evaluate(p, seeds) for p in tqdm(PATTERNS, desc="patterns", disable=not progress)]
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(evaluate, p, seeds) for p in PATTERNS]
        return [f.result() for f in tqdm(futures, desc="patterns", disable=not progress)]
