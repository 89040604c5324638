"""Scenario schema (pydantic v2) and loading from YAML.

A scenario is one frozen, validated :class:`Scenario`. Files may ``extends:`` another
file (path relative to the extending file) and override any key; dotted overrides
(``teams.washington.workers=12``) are applied last. Every error names its field::

    teams.washington.workers: must be >= 0, got -2

Units are in the key names: ``_days``, ``_per_day``, ``_gbp``. Times are days.
"""

from sim.config.demand import Referrals, Source
from sim.config.limits import (
    MAX_ANNUAL_RATE,
    MAX_COUNT,
    MAX_DURATION_DAYS,
    MAX_NAME_CHARS,
    MAX_STAFF,
    MAX_VARIANT_NAME_CHARS,
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    MIN_INTERVAL_DAYS,
    MIN_RESULTS_WINDOW_DAYS,
    NAME_RULE,
)
from sim.config.loading import (
    MAX_EXTENDS_CHAIN,
    NAMED_ENTRIES,
    _format_error,
    apply_overrides,
    load_raw,
    load_scenario,
    merge_extends,
    parse_override,
    read_yaml_file,
    scenario_from_dict,
    scenario_to_yaml,
    scenario_with_overrides,
)
from sim.config.schema import (
    RUNTIME_KEYS,
    Change,
    Scenario,
    change_warnings,
    last_day,
    long_date,
    scenario_warnings,
    team_workforce,
    timeline,
    unreached,
)
from sim.config.services import PlanSettings, Workforce
from sim.config.social_care import WORKING_TO_CALENDAR, Statutory
from sim.config.yaml_limits import safe_yaml_load
from sim.errors import ScenarioError

__all__ = [
    "MAX_ANNUAL_RATE",
    "MAX_COUNT",
    "MAX_DURATION_DAYS",
    "MAX_EXTENDS_CHAIN",
    "MAX_NAME_CHARS",
    "MAX_STAFF",
    "MAX_VARIANT_NAME_CHARS",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "MIN_INTERVAL_DAYS",
    "MIN_RESULTS_WINDOW_DAYS",
    "NAMED_ENTRIES",
    "NAME_RULE",
    "RUNTIME_KEYS",
    "WORKING_TO_CALENDAR",
    "Change",
    "PlanSettings",
    "Referrals",
    "Scenario",
    "ScenarioError",
    "Source",
    "Statutory",
    "Workforce",
    "_format_error",
    "apply_overrides",
    "change_warnings",
    "last_day",
    "load_raw",
    "load_scenario",
    "long_date",
    "merge_extends",
    "parse_override",
    "read_yaml_file",
    "safe_yaml_load",
    "scenario_from_dict",
    "scenario_to_yaml",
    "scenario_warnings",
    "scenario_with_overrides",
    "team_workforce",
    "timeline",
    "unreached",
]
