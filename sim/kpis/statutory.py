"""KPIs of statutory social care (scenarios with ``social_care.statutory``; counted in
children): the measures councils report (timeliness, re-referrals, CP plans, rates per
10,000, caseloads and waits for a social worker)."""

from __future__ import annotations

from sim.kpis.registry import Kpi, _k

__all__ = [
    "ASSESSMENTS_ON_TIME",
    "ASSESSMENT_DAYS",
    "CARE_ENTRIES_CHILDREN",
    "CIN_STARTS",
    "CP_LONG",
    "CP_REPEAT",
    "CP_STARTS",
    "ICPCS",
    "S47_ENQUIRIES",
    "SC_REFERRALS",
    "SC_REREFERRALS",
    "SW_CASELOAD",
    "SW_UTILISATION",
    "SW_WAIT",
    "SW_WAITING_AT_END",
    "SW_WAIT_P90",
    "per_10k",
]

# --------------------------------------------------------------------------- statutory social care
# (only for scenarios with ``social_care.statutory``; counted in children)
SC_REFERRALS = _k(
    "sc_referrals_children",
    "children referred to social care",
    "children",
    "count",
    "Children referred to children's social care in the window (every source: early help, external, re-referral).",
    True,
)
SC_REREFERRALS = _k(
    "sc_rereferral_12m_share",
    "social care re-referrals within 12 months",
    "fraction",
    "share",
    "Share of children referred to social care in the window who had a referral in the 12 months before "
    "(DfE re-referral measure; history before day 0 is not known).",
    at_most_one=True,
)
ASSESSMENTS_ON_TIME = _k(
    "assessments_within_45_working_days_share",
    "assessments completed within 45 working days",
    "fraction",
    "share",
    "Share of children whose assessment was completed in the window within 45 working days of referral "
    "(calendar days x 5 / 7, below 46: completed on working day 45 or earlier).",
    at_most_one=True,
)
ASSESSMENT_DAYS = _k(
    "assessment_working_days_mean",
    "mean working days from referral to completed assessment",
    "working days",
    "days",
    "Mean of referral to completed assessment (working days, calendar x 5 / 7), children completed in the window.",
)
S47_ENQUIRIES = _k(
    "s47_enquiries_children", "section 47 enquiries", "children", "count", "Children whose s47 enquiry began.", True
)
ICPCS = _k(
    "icpc_children",
    "initial child protection conferences",
    "children",
    "count",
    "Children whose initial child protection conference was held in the window.",
    True,
)
CP_STARTS = _k(
    "cp_plans_started_children", "CP plans started", "children", "count", "Children starting a CP plan.", True
)
CIN_STARTS = _k(
    "cin_plans_started_children", "CIN plans started", "children", "count", "Children starting a CIN plan.", True
)
CARE_ENTRIES_CHILDREN = _k(
    "care_entries_children",
    "children entering care",
    "children",
    "count",
    "Children starting care in the window.",
    True,
)
CP_LONG = _k(
    "cp_plans_2_years_or_more_share",
    "CP plans lasting 2 years or more",
    "fraction",
    "share",
    "Share of CP plans (children) ended in the window that had lasted 2 years (730 days) or more.",
    at_most_one=True,
)
CP_REPEAT = _k(
    "cp_plans_second_or_subsequent_share",
    "second or subsequent CP plans",
    "fraction",
    "share",
    "Share of CP plans (children) started in the window that were a family's second or later in the run.",
    at_most_one=True,
)
SW_WAIT = _k(
    "wait_social_worker_mean_days",
    "mean wait for a social worker",
    "days",
    "days",
    "Mean wait from the referral decision to allocation to a social worker (children joining in the window).",
)
SW_WAIT_P90 = _k(
    "wait_social_worker_p90_days",
    "90th percentile wait for a social worker",
    "days",
    "days",
    "90th percentile of the same waits.",
)
SW_WAITING_AT_END = _k(
    "waiting_social_worker_at_end",
    "children waiting for a social worker at the end",
    "children",
    "level",
    "Children awaiting allocation to a social worker at the end of the run.",
)
SW_CASELOAD = _k(
    "caseload_social_worker",
    "average caseload per social worker",
    "children",
    "number",
    "Time-average children held (assessment to closure) per case-holding social worker FTE.",
)
SW_UTILISATION = _k(
    "utilisation_social_workers",
    "social worker caseload utilisation",
    "fraction",
    "share",
    "Time-average children held over case-holding FTE x caseload cap.",
)


def per_10k(state: str, when: str) -> Kpi:
    """Children in ``state`` (``cin``: every child in need, DfE definition; ``cp``; ``lac``)
    per 10,000 children aged 0-17, at ``when`` (``start``: day 0; ``end``: the end of the run)."""
    words = {"cin": "children in need", "cp": "children on CP plans", "lac": "looked-after children"}[state]
    scope = (
        " (DfE definition: referred and not closed, assessed, on CIN or CP plans, or looked after)"
        if state == "cin"
        else ""
    )
    at = "day 0" if when == "start" else "the end of the run"
    return _k(
        f"{state}_per_10k_at_{when}",
        f"{words} per 10,000 at {'the start' if when == 'start' else 'the end'}",
        "per 10,000",
        "number",
        f"{words.capitalize()}{scope} at {at}, per 10,000 children aged 0-17.",
        family="per_10k",
        subject=state,
    )
