"""Which KPIs a scenario produces, the selections shown first, and the data dictionary."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from sim.config import timeline
from sim.kpis.costs import (
    COST_COMPONENTS,
    COST_EARLY_HELP,
    COST_SOCIAL_CARE,
    COST_TOTAL,
    COST_TOTALS,
    in_year,
    per_year,
)
from sim.kpis.flows import flow_kpis
from sim.kpis.registry import (
    _EXIT_KPIS,
    ASSESSMENTS,
    BUDGET,
    CARE_ENTRIES,
    CARE_ENTRIES_FOSTER,
    CARE_ENTRIES_RESIDENTIAL,
    COST_PER_FAMILY,
    DAYS_PER_YEAR,
    FAMILIES_REFERRED,
    IN_EARLY_HELP_AT_END,
    OVER_BUDGET,
    REFERRALS_TOTAL,
    SOCIAL_CARE_ROUTES,
    STEP_UPS_TOTAL,
    TO_SC_TOTAL,
    WINDOW_DAYS,
    WITHDRAWN_TOTAL,
    Kpi,
    agency_share,
    caseload,
    closed,
    escalated,
    open_at_end,
    open_mean,
    queue_mean,
    referrals_from,
    referrals_in_year,
    role_caseload,
    routed,
    served,
    staff_fte,
    starts,
    utilisation,
    vacancy_rate,
    wait,
    waited_at_end,
    waiting_at_end,
    withdrawn,
)
from sim.kpis.statutory import (
    ASSESSMENT_DAYS,
    ASSESSMENTS_ON_TIME,
    CARE_ENTRIES_CHILDREN,
    CIN_STARTS,
    CP_LONG,
    CP_REPEAT,
    CP_STARTS,
    ICPCS,
    S47_ENQUIRIES,
    SC_REFERRALS,
    SC_REREFERRALS,
    SW_CASELOAD,
    SW_UTILISATION,
    SW_WAIT,
    SW_WAIT_P90,
    SW_WAITING_AT_END,
    per_10k,
)
from sim.vocab import (
    KEY_WORKER_STAGES,
    MODEL_SOURCES,
    PANEL_DECISIONS,
    PLAN_STAGES,
    QUEUE_STAGES,
    STAGE_SETTINGS,
    TRIAGE_DECISIONS,
    Exit,
    Stage,
    stage_info,
)

if TYPE_CHECKING:
    from sim.config import Scenario

__all__ = [
    "ABSOLUTE_ENOUGH",
    "BY_LOCALITY",
    "COMPARE",
    "DICTIONARY_COLUMNS",
    "HEADLINE",
    "PRECISION",
    "SWEEP",
    "WARMUP_MEASURE",
    "caseload_services",
    "catalogue",
    "dictionary_rows",
    "enough",
    "enough_words",
    "from_row",
    "has_budget",
    "has_stage",
    "in_locality",
    "key_worker_lists",
    "key_worker_slots",
    "locality_kpis",
    "merged",
    "place_label",
    "senior_lists",
    "statutory_kpis",
    "summary_bounds",
    "team_label",
    "whole_years",
    "workforce_lists",
]

# --------------------------------------------------------------------------- lists
HEADLINE: tuple[Kpi, ...] = (
    REFERRALS_TOTAL,
    wait(Stage.FRONT_DOOR, "mean"),
    wait(Stage.PANEL, "mean"),
    wait(Stage.LEVEL3, "mean"),
    wait(Stage.LEVEL3, "p90"),
    open_at_end(Stage.LEVEL3),
    open_at_end(Stage.LEVEL2),
    closed(Exit.OUTCOMES_MET),
    STEP_UPS_TOTAL,
    WITHDRAWN_TOTAL,
    CARE_ENTRIES,
    CARE_ENTRIES_CHILDREN,
    wait(Stage.MST, "mean"),
    queue_mean(Stage.MST),
    per_year(COST_TOTAL),
)
"""What the CLI prints and the report's tables lead with (a KPI a scenario does not have, such
as children entering care without the statutory path, is left out where it is shown)."""
COMPARE: tuple[Kpi, ...] = (
    wait(Stage.LEVEL3, "mean"),
    wait(Stage.LEVEL2, "mean"),
    wait(Stage.PANEL, "mean"),
    wait(Stage.MST, "mean"),
    WITHDRAWN_TOTAL,
    STEP_UPS_TOTAL,
    SW_CASELOAD,
    SW_UTILISATION,
    SW_WAIT,
    SW_WAIT_P90,
    SW_WAITING_AT_END,
    TO_SC_TOTAL,
    CARE_ENTRIES,
    CARE_ENTRIES_CHILDREN,
    open_mean(Stage.LEVEL3),
    per_year(COST_EARLY_HELP),
    per_year(COST_SOCIAL_CARE),
    per_year(COST_TOTAL),
)
"""Paired differences shown in a comparison's forest plot and summary."""
PRECISION: tuple[Kpi, ...] = (
    wait(Stage.LEVEL3, "mean"),
    STEP_UPS_TOTAL,
    CARE_ENTRIES,
    per_year(COST_TOTAL),
)
"""KPIs whose confidence-interval precision is checked after a batch."""
SWEEP: tuple[Kpi, ...] = (
    wait(Stage.LEVEL3, "mean"),
    wait(Stage.PANEL, "mean"),
    wait(Stage.MST, "mean"),
    STEP_UPS_TOTAL,
    CARE_ENTRIES,
    WITHDRAWN_TOTAL,
    per_year(COST_TOTAL),
)
"""KPIs plotted and described for a sweep."""
_LISTS = {"headline": HEADLINE, "compare": COMPARE, "precision": PRECISION, "sweep": SWEEP}

ABSOLUTE_ENOUGH = 0.5
"""A CI half-width this small, in the unit a KPI is shown in (:attr:`Kpi.display_unit`), passes the
precision check whatever the mean: half a day, half a family a year, 50p, half a percentage point
is precise enough for any decision. :func:`enough` gives it in the stored unit, for
:func:`sim.analysis.replications_needed`, which counts the replications meeting it or the
relative target, whichever comes first."""
_HALF_A_UNIT = {
    "days": "half a day",
    "working days": "half a working day",
    "families": "half a family",
    "children": "half a child",
    "£": "50p",
    "£ a year": "50p a year",
    "fraction": "half a percentage point",
}
""":data:`ABSOLUTE_ENOUGH` of each unit in words."""


def enough(kpi: Kpi, window_days: float) -> float:
    """:data:`ABSOLUTE_ENOUGH` of what is shown, in ``kpi``'s stored unit (a ``per_year`` total
    over a window of ``window_days``: half a family a year is ``0.5 * window_days / 365`` over the
    window; a share: half a percentage point is 0.005); 0 (no absolute target) if the window is unknown."""
    scale = kpi.scale(window_days)
    return ABSOLUTE_ENOUGH / scale if math.isfinite(scale) and scale > 0 else 0.0


def enough_words(kpi: Kpi) -> str:
    """:data:`ABSOLUTE_ENOUGH` of ``kpi`` in words, in the unit it is shown in: "half a day",
    "half a family a year" (a ``per_year`` total), "50p a year", "half a percentage point"."""
    words = _HALF_A_UNIT.get(kpi.unit, f"{ABSOLUTE_ENOUGH:g} {kpi.display_unit}")
    return f"{words} a year" if kpi.per_year and kpi.unit in _HALF_A_UNIT else words


WARMUP_MEASURE = open_mean(Stage.LEVEL3)
"""The series the MSER-5 warm-up check runs on (monthly open Level 3 plans)."""


# --------------------------------------------------------------------------- by locality
BY_LOCALITY: tuple[Kpi, ...] = (
    REFERRALS_TOTAL,
    wait(Stage.LEVEL3, "mean"),
    served(Stage.LEVEL3),
    withdrawn(Stage.LEVEL3),
    escalated(Stage.LEVEL3),
    STEP_UPS_TOTAL,
    CARE_ENTRIES,
)
"""KPIs broken down by locality (``--by-locality``)."""


def place_label(locality: str) -> str:
    """``Malvern Hills`` for a locality, ``the most deprived 40% of localities`` for a group."""
    from sim.vocab import DEPRIVATION_GROUP_LABELS

    return DEPRIVATION_GROUP_LABELS.get(locality) or locality.replace("_", " ").title()


def in_locality(kpi: Kpi, locality: str) -> Kpi:
    """``kpi`` counted over the families of one locality (or group of localities)."""
    return replace(
        kpi,
        name=f"{kpi.name}_in_{locality}",
        label=f"{kpi.label} in {place_label(locality)}",
        definition=f"{kpi.definition[:-1]}; families of locality {locality} only.",
        lists=frozenset(),
        group=locality,
    )


def locality_kpis(scenario: Scenario) -> list[Kpi]:
    """The KPIs ``--by-locality`` adds, in column order: :data:`BY_LOCALITY` per locality,
    then per group of :data:`sim.vocab.DEPRIVATION_GROUPS` when some localities are deprived."""
    from sim.vocab import DEPRIVATION_GROUPS

    groups = [*scenario.localities]
    if any(loc.deprived for loc in scenario.localities.values()):
        groups += list(DEPRIVATION_GROUPS)
    return [in_locality(kpi, group) for group in groups for kpi in BY_LOCALITY]


# --------------------------------------------------------------------------- catalogue
def team_label(team: str) -> str:
    return f"{team.replace('_', ' ').title()} team"


def _stage_kpis() -> Iterator[Kpi]:
    for stage in QUEUE_STAGES:
        yield wait(stage, "mean")
        yield wait(stage, "median")
        yield wait(stage, "p90")
        yield served(stage)
        yield withdrawn(stage)
        yield escalated(stage)
        yield waiting_at_end(stage)
        yield waited_at_end(stage)
        yield queue_mean(stage)
    for stage in PLAN_STAGES:
        yield open_mean(stage)
        yield open_at_end(stage)
        yield starts(stage)


def caseload_services(scenario: Scenario) -> dict[str, tuple[str, float]]:
    """Caseload services with utilisation: service name -> (label, slots)."""
    from sim.vocab import PARTNER_SERVICE, POOLED_SERVICE, team_service

    out: dict[str, tuple[str, float]] = {}
    if scenario.early_help.allocation == "pooled":
        out[POOLED_SERVICE] = ("the pooled key worker list", float(sum(t.slots for t in scenario.teams.values())))
    else:
        out.update({team_service(n): (team_label(n), float(t.slots)) for n, t in scenario.teams.items()})
    pp = scenario.partner_plans
    if pp is not None and pp.capacity is not None:
        out[PARTNER_SERVICE] = ("partner-led plans", float(pp.capacity))
    for stage, svc in (
        (Stage.MST, scenario.mst),
        (Stage.FGC, scenario.fgc),
        (Stage.FMH, scenario.family_mental_health),
    ):
        if svc is not None:
            out[str(stage)] = (stage_info(stage).label, float(svc.slots))
    return out


def key_worker_lists(scenario: Scenario) -> dict[str, str]:
    """The key worker lists (one per team, or the pool): service name -> label."""
    from sim.vocab import POOLED_SERVICE, team_service

    if scenario.early_help.allocation == "pooled":
        return {POOLED_SERVICE: "the pooled key worker list"}
    return {team_service(n): team_label(n) for n in scenario.teams}


def workforce_lists(scenario: Scenario) -> dict[str, str]:
    """The caseload lists under workforce dynamics (:func:`sim.model.workforce.staffed_lists`):
    service name -> label."""
    from sim.model.workforce import staffed_lists  # the model reads the catalogue's lists

    return {service: sl.label for service, sl in staffed_lists(scenario).items()}


def senior_lists(scenario: Scenario) -> list[str]:
    """The key worker lists with senior key worker posts at some time of the run (they get a
    caseload per role, :func:`~sim.kpis.registry.role_caseload`)."""
    from sim.vocab import POOLED_SERVICE, team_service

    pooled = scenario.early_help.allocation == "pooled"
    out: list[str] = []
    for name in scenario.teams:
        service = POOLED_SERVICE if pooled else team_service(name)
        if service not in out and any(state.teams[name].senior_workers > 0 for _, state in timeline(scenario)):
            out.append(service)
    return [s for s in key_worker_lists(scenario) if s in out]


def statutory_kpis(scenario: Scenario) -> Iterator[Kpi]:
    """The KPIs of the statutory social care path (none without ``social_care.statutory``):
    the measures councils report, counted in children."""
    st = scenario.social_care.statutory if scenario.social_care is not None else None
    if st is None:
        return
    yield from (SC_REFERRALS, SC_REREFERRALS, ASSESSMENTS_ON_TIME, ASSESSMENT_DAYS, S47_ENQUIRIES, ICPCS)
    yield from (CP_STARTS, CIN_STARTS, CARE_ENTRIES_CHILDREN, CP_LONG, CP_REPEAT)
    yield from (SW_WAIT, SW_WAIT_P90, SW_WAITING_AT_END, SW_CASELOAD)
    if st.social_workers is not None:
        yield SW_UTILISATION
    if st.population_0_17 is not None:
        for when in ("start", "end"):
            for state in ("cin", "cp", "lac"):
                yield per_10k(state, when)


def whole_years(scenario: Scenario) -> int:
    """Whole years in the results window (for the per-year projections)."""
    return int((scenario.run.duration_days - scenario.run.warmup_days) // DAYS_PER_YEAR)


def _slots_never_fall(states: list[Scenario]) -> dict[str, bool]:
    """Each caseload list of the run's states (``timeline``): whether its utilisation is at
    most 1: its slots never fall from one state of the run to the next (a list a state lacks
    has none there) and it has no workforce dynamics (a family keeps its worker when capacity
    falls, so busy slots can then exceed the slots)."""
    slots = [caseload_services(s) for s in states]
    staffed = {service for s in states for service in workforce_lists(s)}
    out = {}
    for service in {service for per in slots for service in per} | staffed:
        over_run = [per.get(service, ("", 0.0))[1] for per in slots]
        out[service] = service not in staffed and all(b >= a for a, b in pairwise(over_run))
    return out


def key_worker_slots(states: list[Scenario], never_fall: Mapping[str, bool]) -> float:
    """The most open Level 3 plans there can be (each holds a key worker's slot until it ends):
    the key-worker lists' slots at the end of the run, while no list's slots ever fall and none
    has workforce dynamics; ``inf`` else. ``states``: the scenario's (``timeline``, day 0
    first); ``never_fall``: :func:`_slots_never_fall` of them."""
    lists = key_worker_lists(states[0])
    if not all(never_fall.get(service, True) for service in lists):
        return math.inf
    end = caseload_services(states[-1])
    return sum(end.get(service, ("", math.inf))[1] for service in lists)


def _scenario_kpis(scenario: Scenario) -> Iterator[Kpi]:
    yield WINDOW_DAYS
    yield REFERRALS_TOTAL
    for src in (*scenario.referrals.sources, *MODEL_SOURCES):
        yield referrals_from(src)
    yield FAMILIES_REFERRED
    states = [state for _, state in timeline(scenario)]
    never_fall = _slots_never_fall(states)
    held = {open_at_end(Stage.LEVEL3).name, open_mean(Stage.LEVEL3).name}  # plans holding a key worker's slot
    slots = key_worker_slots(states, never_fall)
    yield from (replace(k, at_most=slots) if k.name in held else k for k in _stage_kpis())
    if scenario.front_door is not None and scenario.front_door.staff > 0:
        # busy staff over the day-0 staff: at most 1 unless staff rise later
        most = max(s.front_door.staff if s.front_door is not None else 0 for s in states)
        yield utilisation(str(Stage.FRONT_DOOR), "the front door", most <= scenario.front_door.staff)
    for service, (label, _slots) in caseload_services(scenario).items():
        yield utilisation(service, label, never_fall[service])
    lists = key_worker_lists(scenario)
    for service, label in lists.items():
        yield caseload(service, label)
    for service in senior_lists(scenario):
        for role in KEY_WORKER_STAGES:
            yield role_caseload(service, role, lists[service])
    for service, label in workforce_lists(scenario).items():
        yield staff_fte(service, label)
        yield vacancy_rate(service, label)
        yield agency_share(service, label)
    for d in TRIAGE_DECISIONS:
        yield routed(Stage.FRONT_DOOR, d)
    for d in PANEL_DECISIONS:
        yield routed(Stage.PANEL, d)
    for reason in _EXIT_KPIS:
        yield closed(reason)
    yield WITHDRAWN_TOTAL
    yield from SOCIAL_CARE_ROUTES.values()
    yield STEP_UPS_TOTAL
    yield TO_SC_TOTAL
    yield CARE_ENTRIES
    yield CARE_ENTRIES_FOSTER
    yield CARE_ENTRIES_RESIDENTIAL
    yield IN_EARLY_HELP_AT_END
    yield ASSESSMENTS
    yield from statutory_kpis(scenario)
    yield from flow_kpis()
    years = whole_years(scenario)
    for i in range(1, years + 1):
        yield referrals_in_year(i)
    yield from COST_COMPONENTS
    yield from COST_TOTALS
    for total in COST_TOTALS:
        yield per_year(total)
    yield COST_PER_FAMILY
    if has_budget(scenario):
        yield BUDGET
        yield OVER_BUDGET
    for i in range(1, years + 1):
        for total in COST_TOTALS:
            yield in_year(total, i)


def _with_lists(kpis: Iterable[Kpi]) -> Iterator[Kpi]:
    member = {
        name: {lst for lst, members in _LISTS.items() if any(m.name == name for m in members)}
        for name in {m.name for ms in _LISTS.values() for m in ms}
    }
    for k in kpis:
        yield replace(k, lists=frozenset(member.get(k.name, ()))) if k.name in member else k


def has_budget(scenario: Scenario) -> bool:
    """Whether a budget envelope is set at any time of the run (then the budget KPIs exist)."""
    return any(state.costs.budget_gbp_per_year is not None for _, state in timeline(scenario))


def has_stage(settings: Mapping[str, Any], stage: Stage) -> bool:
    """Whether a scenario, as its resolved settings (``scenarios/NAME.yaml`` of a results folder),
    has ``stage``: one of :data:`sim.vocab.STAGE_SETTINGS` only when it sets that block (a
    scenario without ``panel`` has no panel, though its catalogue lists the panel's wait);
    every other stage always."""
    block = STAGE_SETTINGS.get(stage)
    return block is None or settings.get(block) is not None


def catalogue(scenario: Scenario) -> dict[str, Kpi]:
    """Every KPI ``scenario`` produces, in column order: name -> :class:`Kpi`."""
    return {k.name: k for k in _with_lists(_scenario_kpis(scenario))}


DICTIONARY_COLUMNS: tuple[str, ...] = (
    "name",
    "label",
    "unit",
    "display_unit",
    "kind",
    "per_year",
    "family",
    "subject",
    "lists",
    "signed",
    "group",
    "at_most_one",
    "at_most",
    "definition",
)


def merged(catalogues: Iterable[Mapping[str, Kpi]]) -> dict[str, Kpi]:
    """The KPIs of several scenarios' catalogues, one entry per name (the last scenario's),
    at most one only where it is so in every scenario that has it (a list whose capacity
    falls in one scenario can exceed its slots there), at most the largest ``at_most`` of them."""
    out: dict[str, Kpi] = {}
    for cat in catalogues:
        for name, kpi in cat.items():
            was = out.get(name)
            if was is not None:
                whole, most = kpi.at_most_one and was.at_most_one, max(kpi.at_most, was.at_most)
                kpi = replace(kpi, at_most_one=whole, at_most=most)
            out[name] = kpi
    return out


def summary_bounds(catalogue: Mapping[str, Kpi]) -> dict[str, Any]:
    """The bounds of a catalogue's KPIs as :func:`sim.analysis.summarise` takes them (its
    ``nonnegative``, ``at_most_one`` and ``at_most`` arguments)."""
    return {
        "nonnegative": [n for n, k in catalogue.items() if k.nonnegative],
        "at_most_one": [n for n, k in catalogue.items() if k.at_most_one],
        "at_most": {n: k.at_most for n, k in catalogue.items() if math.isfinite(k.at_most)},
    }


def dictionary_rows(kpis: Iterable[Kpi]) -> list[dict[str, object]]:
    """The data dictionary: one row per KPI (what ``kpis.csv`` and ``ehsim kpis`` hold)."""
    return [
        {
            "name": k.name,
            "label": k.label,
            "unit": k.unit,
            "display_unit": k.display_unit,
            "kind": k.kind,
            "per_year": k.per_year,
            "family": k.family,
            "subject": k.subject,
            "lists": " ".join(sorted(k.lists)),
            "signed": k.signed,
            "group": k.group,
            "at_most_one": k.at_most_one,
            "at_most": k.at_most if math.isfinite(k.at_most) else None,
            "definition": k.definition,
        }
        for k in kpis
    ]


def from_row(row: Mapping[Any, Any]) -> Kpi:
    """A :class:`Kpi` back from a data dictionary row (``kpis.csv``)."""
    lists = str(row.get("lists") or "")
    return Kpi(
        name=str(row["name"]),
        label=str(row["label"]),
        unit=str(row["unit"]),
        kind=str(row["kind"]),  # type: ignore[arg-type]
        definition=str(row["definition"]),
        per_year=_true(row.get("per_year")),
        family=str(row.get("family") or ""),
        subject=str(row.get("subject") or ""),
        lists=frozenset(lists.split()) if lists else frozenset(),
        signed=_true(row.get("signed")),
        group=str(row.get("group") or ""),
        at_most_one=_true(row.get("at_most_one")),
        at_most=_bound(row.get("at_most")),
    )


def _bound(value: object) -> float:
    """A dictionary row's ``at_most``: ``inf`` when blank (or from a folder written before it)."""
    try:
        most = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.inf
    return most if math.isfinite(most) else math.inf


def _true(value: object) -> bool:
    return value is True or str(value).lower() == "true"
