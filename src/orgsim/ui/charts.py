"""Browser-drawn charts: ECharts options built from running models.

Every function returns a plain ``dict`` (an ECharts ``option``); the browser
draws it (ECharts, served locally, no CDN: ``orgsim.ui.app.ChartWidget``), so a
frame costs the server only these dicts and their JSON: a few milliseconds,
measured by ``benchmarks/ui_frame.py``. Each chart keeps its widget across
frames; a frame's option is merged into the chart.

The week axis is fixed at 0 … the scenario's last week (or the current week once
a run continues past it), so lines grow from left to right and nothing jumps.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from orgsim import departments as dep
from orgsim.interventions import ACTIONS
from orgsim.mechanisms import customers
from orgsim.model import OrgModel
from orgsim.outputs import OUTPUTS
from orgsim.state import ACTIVE, LOST, PROSPECT

OUTPUTS_BY_NAME = {output.name: output for output in OUTPUTS}


@dataclass(frozen=True)
class Panel:
    title: str
    columns: tuple[str, ...]

    @property
    def unit(self) -> str:
        """The declared units of its outputs (orgsim.outputs)."""
        return " / ".join(dict.fromkeys(OUTPUTS_BY_NAME[column].unit for column in self.columns))


#: The KPI panels of the main view, in reading order; the first four are the presentation's 2x2.
KPI_PANELS: tuple[Panel, ...] = (
    Panel("Active customers", ("active_customers",)),
    Panel("Net promoter score", ("net_promoter_score",)),
    Panel("Attitude toward marketing", ("mean_attitude",)),
    Panel("Trust of sales in marketing", ("trust_sales_in_marketing",)),
    Panel("Offer fit", ("offer_fit",)),
    Panel("Revenue", ("revenue",)),
    Panel("Referrals, negative reviews", ("referrals", "negative_reviews")),
    Panel("Service quality", ("service_quality",)),
)
PRESENTATION_PANELS = KPI_PANELS[:4]
#: Firm A and firm B: colour and line style (B dashed, so the two read apart in black and white too).
FIRM_COLOURS = ("#1f77b4", "#ff7f0e")
FIRM_LINES = ("solid", "dashed")
#: Two-column panels: a second colour per column (referrals green, negative reviews red).
COLUMN_COLOURS = ("#2ca02c", "#d62728")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def short_label(action: str) -> str:
    """An intervention's name for a chart marker: its button label in lower case."""
    return ACTIONS[action].label[0].lower() + ACTIONS[action].label[1:] if action in ACTIONS else action


def storm_periods(model: OrgModel) -> list[tuple[int, int]]:
    """(first week, last week) of each run of consecutive shitstorm weeks."""
    storm = np.array(weekly_columns(model, ("shitstorm",))["shitstorm"]) > 0
    if not storm.any():
        return []
    edges = np.diff(np.concatenate([[0], storm.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def kpi_option(models: Sequence[OrgModel], labels: Sequence[str], last_week: int,
               panels: Sequence[Panel] = KPI_PANELS, columns: int = 4, big: bool = False) -> dict[str, Any]:
    """Line charts of the KPIs over the weeks, A solid and B dashed, in a grid of ``columns`` panels a row.

    Intervention markers carry a code (``A1``) above each panel's line, explained by
    :func:`marker_legend`; shitstorm weeks are shaded in the colour of the firm they hit.
    """
    title_size, axis_size = (22, 18) if big else (13, 11)
    x_max = max(last_week, *(m.steps for m in models))
    option: dict[str, Any] = {
        "animation": False,
        "textStyle": {"fontFamily": FONT},
        "title": [], "grid": [], "xAxis": [], "yAxis": [], "series": [],
        "tooltip": {"trigger": "axis", "textStyle": {"fontSize": axis_size}},
        # bottom right, below the last panel's axis: at the top the buttons sat on the fourth title
        "toolbox": {"feature": {"saveAsImage": {"title": "PNG", "name": "orgsim_kpis", "pixelRatio": 2}},
                    "right": 8, "bottom": 0, "itemSize": 14, "padding": [2, 5]},
        # one table per firm, a column per output: flat lists are a third of the JSON of a
        # [week, value] pair per point and series
        "dataset": [{"source": weekly_columns(model, ("step", *dict.fromkeys(c for p in panels for c in p.columns)))}
                    for model in models],
    }
    layout = _panel_layout(len(panels), columns, big)
    for index, panel in enumerate(panels):
        option["title"].append({"text": panel.title, "subtext": panel.unit, "itemGap": 6 if big else 3,
                                "textStyle": {"fontSize": title_size, "fontWeight": 600},
                                "subtextStyle": {"fontSize": axis_size - 1, "color": "#555"}, **layout["title"][index]})
        option["grid"].append({"containLabel": True, **layout["grid"][index]})
        option["xAxis"].append({"type": "value", "gridIndex": index, "min": 0, "max": x_max, "minInterval": 1,
                                "nameLocation": "middle", "nameGap": axis_size + 10,
                                "nameTextStyle": {"fontSize": axis_size}, "axisLabel": {"fontSize": axis_size},
                                "splitLine": {"show": False}, **layout["xAxis"][index]})
        option["yAxis"].append({"type": "value", "gridIndex": index, "scale": True,
                                "axisLabel": {"fontSize": axis_size}, "splitNumber": 3})
        for firm, (model, label) in enumerate(zip(models, labels, strict=True)):
            for c, column in enumerate(panel.columns):
                colour = COLUMN_COLOURS[c] if len(panel.columns) > 1 else FIRM_COLOURS[firm]
                name = label if len(panel.columns) == 1 else f"{label[0]}: {column.replace('_', ' ')}"
                series: dict[str, Any] = {
                    "type": "line", "name": name, "xAxisIndex": index, "yAxisIndex": index,
                    "showSymbol": False, "datasetIndex": firm, "encode": {"x": "step", "y": column},
                    "lineStyle": {"width": 3 if big else 2, "type": FIRM_LINES[firm], "color": colour},
                    "itemStyle": {"color": colour},
                }
                if c == 0:
                    series["markLine"] = _intervention_marks(model, label, firm, axis_size, labelled=True)
                    series["markArea"] = _storm_marks(model, label, firm, axis_size, labelled=index == 0 or big)
                option["series"].append(series)
    if columns <= 2:
        return option
    # a narrow chart (a laptop at 1024 px with the sidebar open) lays the panels out two a row
    return {"baseOption": option, "media": [{"query": {"maxWidth": 760}, "option": _panel_layout(len(panels), 2, big)}]}


_COLUMNS: weakref.WeakKeyDictionary[OrgModel, dict[str, list[float]]] = weakref.WeakKeyDictionary()


def weekly_columns(model: OrgModel, columns: Sequence[str]) -> dict[str, list[float]]:
    """The model's weekly records as a list per column, rounded for the page. Kept between frames
    (a record never changes once written), so a frame rounds only the weeks that are new. The lists
    are the kept ones themselves: an option built from them is sent, never changed."""
    kept = _COLUMNS.setdefault(model, {})
    records = model.records
    for column in columns:
        values = kept.setdefault(column, [])
        values.extend(round(float(record[column]), 4) for record in records[len(values):])
    return {column: kept[column] for column in columns}


def _panel_layout(n_panels: int, columns: int, big: bool) -> dict[str, list[dict[str, Any]]]:
    """Where each panel's title and plot go in a grid of ``columns`` panels a row (percentages)."""
    rows = -(-n_panels // columns)
    width, height = 100 / columns, 100 / rows
    layout: dict[str, list[dict[str, Any]]] = {"title": [], "grid": [], "xAxis": []}
    for index in range(n_panels):
        row, col = divmod(index, columns)
        left, top = col * width, row * height
        layout["title"].append({"left": f"{left + 1:.1f}%", "top": f"{top:.1f}%"})
        layout["grid"].append({"left": f"{left + 1:.1f}%", "width": f"{width - 3:.1f}%",
                               "top": f"{top + height * (0.3 if big else 0.28):.1f}%", "height": f"{height * 0.56:.1f}%"})
        layout["xAxis"].append({"name": "week" if row == rows - 1 else " "})  # "" would not clear it
    return layout


def intervention_markers(model: OrgModel, letter: str) -> list[tuple[str, int, str]]:
    """(code, week, what) per week with interventions: ``("A1", 26, "appoint multipliers, leader commits")``."""
    weeks: dict[int, list[str]] = {}
    for entry in model.applied_interventions:
        weeks.setdefault(entry.week, []).append(short_label(entry.action))
    return [(f"{letter}{number}", week, ", ".join(dict.fromkeys(actions)))
            for number, (week, actions) in enumerate(sorted(weeks.items()), start=1)]


def marker_legend(models: Sequence[OrgModel], labels: Sequence[str]) -> list[str]:
    """The intervention markers in words, one per line: "A1, week 26: appoint multipliers"."""
    return [f"{code}, week {week}: {what}" for model, label in zip(models, labels, strict=True)
            for code, week, what in intervention_markers(model, label[0])]


def _intervention_marks(model: OrgModel, label: str, firm: int, size: int, labelled: bool) -> dict[str, Any]:
    data = [{"xAxis": week, "name": code,
             "label": {"show": labelled, "formatter": "{b}", "fontSize": size, "fontWeight": 600,
                       "color": FIRM_COLOURS[firm], "position": "end", "distance": 2 + 2 * firm * size // 2}}
            for code, week, _ in intervention_markers(model, label[0])]
    return {"silent": True, "symbol": "none", "data": data,
            "lineStyle": {"color": FIRM_COLOURS[firm], "type": "solid", "width": 2}}


def _storm_marks(model: OrgModel, label: str, firm: int, size: int, labelled: bool) -> dict[str, Any]:
    data = [[{"xAxis": start - 0.5, "name": f"{label[0]}: shitstorm",
              "label": {"show": labelled and number == 0, "fontSize": size - 2, "color": FIRM_COLOURS[firm],
                        "position": "insideBottomLeft" if firm == 0 else "insideTopLeft"}},
             {"xAxis": end + 0.5}] for number, (start, end) in enumerate(storm_periods(model))]
    return {"silent": True, "data": data, "itemStyle": {"color": FIRM_COLOURS[firm], "opacity": 0.13}}


def org_layout(model: OrgModel, seed: int = 0) -> np.ndarray:
    """Positions: departments on a circle, members in a disc around their centre (O(n))."""
    rng = np.random.default_rng(seed)
    department = model.workforce.department
    angle = 2 * np.pi * np.arange(dep.N_DEPARTMENTS) / dep.N_DEPARTMENTS
    centres = np.column_stack([np.cos(angle), np.sin(angle)]) * 3.0
    sizes = np.bincount(department, minlength=dep.N_DEPARTMENTS)
    radius = 0.35 + 0.12 * np.sqrt(sizes)
    r = radius[department] * np.sqrt(rng.random(department.size))
    theta = 2 * np.pi * rng.random(department.size)
    return centres[department] + np.column_stack([r * np.cos(theta), r * np.sin(theta)])


#: Roles drawn with their own symbol (attitude stays the colour).
ROLES = (("employee", "circle", 7), ("multiplier", "diamond", 13), ("knowledge carrier", "rect", 11),
         ("leader", "triangle", 22))


def org_option(models: Sequence[OrgModel], layouts: Sequence[np.ndarray], labels: Sequence[str]) -> dict[str, Any]:
    """Employees at their place, coloured by attitude (red resist … green support), roles by symbol."""
    n = len(models)
    option: dict[str, Any] = {
        "animation": False, "textStyle": {"fontFamily": FONT}, "title": [], "grid": [], "xAxis": [],
        "yAxis": [], "series": [], "legend": {"bottom": 0, "textStyle": {"fontSize": 12}},
        "tooltip": {"trigger": "item", "formatter": "{a}: attitude {@[2]}"},
        "visualMap": {"min": -1, "max": 1, "dimension": 2, "calculable": False, "orient": "vertical",
                      "right": 0, "top": "middle", "text": ["support +1", "resist −1"], "itemHeight": 120,
                      "textStyle": {"fontSize": 12},
                      "inRange": {"color": ["#d73027", "#fee08b", "#1a9850"]}},
        "toolbox": {"feature": {"saveAsImage": {"title": "PNG", "name": "orgsim_staff", "pixelRatio": 2}},
                    "right": 8, "top": 0},
    }
    angle = 2 * np.pi * np.arange(dep.N_DEPARTMENTS) / dep.N_DEPARTMENTS
    for index, (model, layout, label) in enumerate(zip(models, layouts, labels, strict=True)):
        w = model.workforce
        width = 90 / n
        option["title"].append({"text": f"{label}: staff attitudes", "left": f"{index * width + 2:.0f}%", "top": 0,
                                "textStyle": {"fontSize": 14}})
        option["grid"].append({"left": f"{index * width + 2:.0f}%", "width": f"{width - 4:.0f}%", "top": 34,
                               "bottom": 34})
        for axis in ("xAxis", "yAxis"):
            option[axis].append({"type": "value", "gridIndex": index, "min": -5.4, "max": 5.4, "show": False})
        attitude = np.round(w.attitude, 2)
        roles = (~(w.is_leader | w.is_multiplier | w.is_knowledge_carrier), w.is_multiplier & ~w.is_leader,
                 w.is_knowledge_carrier & ~w.is_leader, w.is_leader)
        for (name, symbol, size), mask in zip(ROLES, roles, strict=True):
            points = np.column_stack([np.round(layout[mask], 2), attitude[mask]]).tolist()
            option["series"].append({"type": "scatter", "name": name, "xAxisIndex": index, "yAxisIndex": index,
                                     "symbol": symbol, "symbolSize": size, "data": points,
                                     "itemStyle": {"borderColor": "#222", "borderWidth": 0 if name == "employee" else 1}})
        option["series"].append({
            "type": "scatter", "name": "departments", "xAxisIndex": index, "yAxisIndex": index, "symbolSize": 0,
            "silent": True, "legendHoverLink": False,
            "data": [{"name": name, "value": [round(4.5 * np.cos(a), 2), round(4.5 * np.sin(a), 2), 0]}
                     for name, a in zip(dep.NAMES, angle, strict=True)],
            "label": {"show": True, "formatter": "{b}", "fontSize": 12, "color": "#333"},
            "itemStyle": {"opacity": 0}})
    option["legend"]["data"] = [name for name, _, _ in ROLES]
    return option


def trust_option(models: Sequence[OrgModel], labels: Sequence[str]) -> dict[str, Any]:
    """Trust of each row department in each column department, with the numbers written in."""
    n = len(models)
    names = list(dep.NAMES)
    option: dict[str, Any] = {
        "animation": False, "textStyle": {"fontFamily": FONT}, "title": [], "grid": [], "xAxis": [],
        "yAxis": [], "series": [], "tooltip": {"trigger": "item"},
        "visualMap": {"min": 0, "max": 1, "show": False, "inRange": {"color": ["#f7fbff", "#6baed6", "#08306b"]}},
        "toolbox": {"feature": {"saveAsImage": {"title": "PNG", "name": "orgsim_trust", "pixelRatio": 2}},
                    "right": 8, "top": 0},
    }
    for index, (model, label) in enumerate(zip(models, labels, strict=True)):
        width = 100 / n
        trust = model.trust_matrix
        option["title"].append({"text": f"{label}: trust of row in column", "left": f"{index * width + 1:.0f}%",
                                "textStyle": {"fontSize": 14}})
        option["grid"].append({"left": f"{index * width + 1:.0f}%", "width": f"{width - 4:.0f}%", "top": 40,
                               "bottom": 8, "containLabel": True})
        option["xAxis"].append({"type": "category", "data": names, "gridIndex": index,
                                "axisLabel": {"rotate": 35, "fontSize": 12, "interval": 0}})
        option["yAxis"].append({"type": "category", "data": names, "gridIndex": index, "inverse": True,
                                "axisLabel": {"fontSize": 12, "interval": 0}})
        rows = np.round(trust, 2).tolist()  # one conversion, not a numpy scalar per cell
        data = [[j, i, value] for i, row in enumerate(rows) for j, value in enumerate(row)]
        option["series"].append({"type": "heatmap", "name": label, "xAxisIndex": index, "yAxisIndex": index,
                                 "data": data, "label": {"show": True, "fontSize": 12}})
    return option


def market_option(models: Sequence[OrgModel], labels: Sequence[str]) -> dict[str, Any]:
    """The market now: prospects, active customers by how they see the firm, and lost customers."""
    parts = (("prospects", "#bdbdbd"), ("active, positive", "#2ca02c"), ("active, neutral", "#e6b800"),
             ("active, negative", "#d62728"), ("lost", "#222222"))
    counts = []
    for model in models:
        m = model.market
        status = np.bincount(m.status, minlength=3)
        perceived = customers.perception(m.satisfaction[m.status == ACTIVE], model.params)
        by_view = np.bincount(perceived + 1, minlength=3)  # negative, neutral, positive
        counts.append([int(status[PROSPECT]), int(by_view[2]), int(by_view[1]), int(by_view[0]), int(status[LOST])])
    return {
        "animation": False, "textStyle": {"fontFamily": FONT},
        "title": {"text": "Customers now", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"bottom": 0, "textStyle": {"fontSize": 12}},
        "grid": {"left": 8, "right": 24, "top": 36, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "value", "max": max(m.market.size for m in models), "axisLabel": {"fontSize": 12}},
        "yAxis": {"type": "category", "data": list(labels), "inverse": True, "axisLabel": {"fontSize": 13}},
        "series": [{"type": "bar", "stack": "market", "name": name, "itemStyle": {"color": colour},
                    "label": {"show": True, "fontSize": 12, "color": "#fff" if name != "prospects" else "#222",
                              "formatter": "{c}"},
                    "data": [c[i] for c in counts]} for i, (name, colour) in enumerate(parts)],
        "toolbox": {"feature": {"saveAsImage": {"title": "PNG", "name": "orgsim_market", "pixelRatio": 2}},
                    "right": 8, "top": 0},
    }
