"""Scenario schema, costs: staff, per-case and social care unit costs, price years."""

from __future__ import annotations

from pydantic import Field

from sim.config.limits import (
    MAX_STAFF,
    _Model,
)


# ---------------------------------------------------------------------- costs
class Cost(_Model):
    gbp: float = Field(ge=0)
    price_year: int = Field(strict=True, ge=1990, le=2100)


class StaffCosts(_Model):
    key_worker_per_year: Cost | None = None
    senior_key_worker_per_year: Cost | None = Field(default=None, description="Null: as key_worker_per_year.")
    other_team_staff_per_year: Cost | None = None
    front_door_per_year: Cost | None = None
    mst_therapist_per_year: Cost | None = None
    fgc_coordinator_per_year: Cost | None = None
    fmh_consultant_per_year: Cost | None = None


class CaseCosts(_Model):
    level3_plan: Cost | None = None
    level2_plan: Cost | None = None
    mst_case: Cost | None = None
    assessment: Cost | None = None
    fgc_conference: Cost | None = None
    parenting_place: Cost | None = None


class SocialCareCosts(_Model):
    """Per-child unit costs of social care and the pay of its case-holding social workers.

    Social worker pay is counted once: the per-child unit costs (``assessment``,
    ``cin_per_day``, ``cp_per_day``) include the time of ``social_worker_fte_in_unit_costs``
    case-holding FTE (the funded establishment they were costed at), and the social worker
    cost component pays (FTE in post - that) x ``social_worker_per_year``: the cost of
    social workers above it, a saving (negative) below it. 0 (the default) says the unit
    costs exclude social worker time and every FTE is paid here."""

    cin_per_day: Cost | None = None
    cp_per_day: Cost | None = None
    foster_per_week: Cost | None = None
    residential_per_week: Cost | None = None
    social_worker_per_year: Cost | None = Field(
        default=None, description="A case-holding social worker's annual cost (null: social workers not costed)."
    )
    social_worker_fte_in_unit_costs: float = Field(
        default=0.0,
        ge=0,
        le=MAX_STAFF,
        description="Case-holding social worker FTE whose time the per-child unit costs already include.",
    )


class Costs(_Model):
    price_year: int = Field(strict=True, default=2024, ge=1990, le=2100, description="Year all costs are reported in.")
    annual_uprating: float = Field(default=0.0, ge=0, le=0.5, description="Uprating per year between price years.")
    staff: StaffCosts = Field(default_factory=StaffCosts)
    per_case: CaseCosts = Field(default_factory=CaseCosts)
    social_care: SocialCareCosts = Field(default_factory=SocialCareCosts)
    budget_gbp_per_year: float | None = Field(
        default=None, ge=0, description="Budget envelope to report costs against (price_year prices); null: none."
    )

    def gbp(self, cost: Cost | None) -> float:
        """The cost in ``price_year`` prices (0 when not given)."""
        if cost is None:
            return 0.0
        return cost.gbp * (1 + self.annual_uprating) ** (self.price_year - cost.price_year)
