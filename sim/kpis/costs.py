"""Cost KPIs: the components of :data:`COST_COMPONENTS`, their totals, per year and by year."""

from __future__ import annotations

from dataclasses import replace

from sim.kpis.registry import Kpi, _k

__all__ = [
    "COST_ASSESSMENT",
    "COST_CASES",
    "COST_CIN",
    "COST_COMPONENTS",
    "COST_CP",
    "COST_EARLY_HELP",
    "COST_EDGE_OF_CARE_SOCIAL_CARE",
    "COST_FOSTER",
    "COST_RESIDENTIAL",
    "COST_SOCIAL_CARE",
    "COST_SOCIAL_WORKERS",
    "COST_STAFF",
    "COST_TOTAL",
    "COST_TOTALS",
    "in_year",
    "per_year",
]


# --------------------------------------------------------------------------- costs
def _cost(name: str, label: str, text: str, part: str) -> Kpi:
    return _k(
        name,
        f"{label} cost",
        "£",
        "gbp",
        f"{text} In the window, price_year prices.",
        True,
        family="cost",
        subject=part,
    )


COST_STAFF = _cost(
    "cost_staff_gbp",
    "staff",
    "Early help staff in post (FTE x annual cost; vacant posts unpaid): teams, front door, and the MST, FGC and"
    " family mental health staff while their budget_line is early_help.",
    "early_help",
)
COST_CASES = _cost(
    "cost_cases_gbp",
    "per-case",
    "Per-case costs of Level 2/3 plans and parenting places, and of MST and FGC cases started while their"
    " budget_line is early_help.",
    "early_help",
)
COST_EDGE_OF_CARE_SOCIAL_CARE = _cost(
    "cost_edge_of_care_social_care_gbp",
    "edge-of-care services in social care",
    "Staff (FTE x annual cost) of the MST, FGC and family mental health services while their budget_line is"
    " social_care, and the per-case costs of MST and FGC cases started then.",
    "social_care",
)
COST_ASSESSMENT = _cost(
    "cost_assessment_gbp",
    "assessment",
    "Children whose social care assessment started x cost per assessment (per child).",
    "social_care",
)
COST_SOCIAL_WORKERS = replace(
    _cost(
        "cost_social_workers_gbp",
        "social worker",
        "Case-holding social worker FTE in post less costs.social_care.social_worker_fte_in_unit_costs (the FTE"
        " the per-child unit costs already pay for) x costs.social_care.social_worker_per_year x years"
        " (negative: fewer social workers than the unit costs assume).",
        "social_care",
    ),
    signed=True,  # negative when posts stand empty: its interval is not cut at zero
)
COST_CIN = _cost("cost_cin_gbp", "child in need", "Child in need child-days x cost per child-day.", "social_care")
COST_CP = _cost("cost_cp_gbp", "child protection", "Child protection child-days x cost per child-day.", "social_care")
COST_FOSTER = _cost(
    "cost_care_foster_gbp", "foster care", "Foster placement child-days / 7 x cost per child-week.", "social_care"
)
COST_RESIDENTIAL = _cost(
    "cost_care_residential_gbp",
    "residential care",
    "Residential placement child-days / 7 x cost per child-week.",
    "social_care",
)
COST_COMPONENTS = (
    COST_STAFF,
    COST_CASES,
    COST_EDGE_OF_CARE_SOCIAL_CARE,
    COST_ASSESSMENT,
    COST_SOCIAL_WORKERS,
    COST_CIN,
    COST_CP,
    COST_FOSTER,
    COST_RESIDENTIAL,
)
"""The cost components: they add up to :data:`COST_TOTAL` (tested); ``subject`` is the part."""
COST_EARLY_HELP = _k(
    "cost_early_help_gbp",
    "early help cost",
    "£",
    "gbp",
    "Staff plus per-case costs of the early help service, in the window, price_year prices.",
    True,
    family="cost_total",
    subject="early_help",
)
COST_SOCIAL_CARE = _k(
    "cost_social_care_gbp",
    "social care cost",
    "£",
    "gbp",
    "Edge-of-care services on the social care budget line, assessments, social workers above the unit costs'"
    " establishment, child in need, child protection and care, in the window, price_year prices.",
    True,
    family="cost_total",
    subject="social_care",
)
COST_TOTAL = _k(
    "cost_total_gbp",
    "total cost",
    "£",
    "gbp",
    "Early help plus social care cost, in the window, price_year prices.",
    True,
    family="cost_total",
    subject="total",
)
COST_TOTALS = (COST_EARLY_HELP, COST_SOCIAL_CARE, COST_TOTAL)


def per_year(total: Kpi) -> Kpi:
    """A cost total divided by the window's length in years (``<name>_per_year``)."""
    return _k(
        f"{total.name}_per_year",
        total.label,
        "£ a year",
        "gbp",
        f"{total.definition.split(', in the window')[0]}, a year: the window's total over its length in years.",
        family="cost_per_year",
        subject=total.subject,
    )


def in_year(total: Kpi, year: int) -> Kpi:
    """A cost total in whole year ``year`` (1, 2...) of the window, for projections."""
    return _k(
        f"{total.name}_year{year}",
        f"{total.label} in year {year}",
        "£",
        "gbp",
        f"{total.definition.split(', in the window')[0]}, in whole year {year} of the window.",
        family="cost_by_year",
        subject=f"{total.subject}",
    )
