"""The findings the figures' titles state (:mod:`sim.present.findings`): a comparison's title
claims a change only where the paired 95% CI excludes zero (the verdict of
:func:`sim.present.data.verdict`), never because a difference of means is the largest."""

from __future__ import annotations

import re

import pytest

from sim.present import findings

BASE, OPT = "baseline", "more_key_workers"
SCENARIOS = [BASE, OPT]
CHANGE_WORDS = re.compile(r"\b(falls|rises|biggest clear change)\b", re.IGNORECASE)


def _waits(verdicts: dict[tuple[str, str], str], n: int = 4) -> str:
    """The reviewer's case: the key worker's wait 2.5 -> 0.0 days, the panel's 10.0 -> 9.0."""
    means = {("level3", BASE): 2.5, ("level3", OPT): 0.0, ("panel", BASE): 10.0, ("panel", OPT): 9.0}
    return findings.waits(means, {}, SCENARIOS, verdicts, n)


def test_waits_title_claims_no_change_when_every_paired_ci_includes_zero() -> None:
    text = _waits({("level3", OPT): "unclear", ("panel", OPT): "unclear"})
    assert text.startswith("No clear change in mean waits with 4 replications")
    assert not CHANGE_WORDS.search(text), text
    assert "2.5 → 0.0 days with more_key_workers" in text  # the largest difference, stated as such


def test_waits_title_names_the_biggest_clear_change_not_the_biggest_difference() -> None:
    text = _waits({("level3", OPT): "unclear", ("panel", OPT): "clear"})
    assert text.startswith("Biggest clear change: the mean wait for the panel falls by 1.0 days with more_key_workers")
    assert "key worker" not in text
    text = _waits({("level3", OPT): "clear", ("panel", OPT): "clear"})
    assert "the mean wait for a key worker falls by 2.5 days" in text


def test_waits_title_with_one_replication_gives_no_verdict() -> None:
    text = _waits({("level3", OPT): "unknown", ("panel", OPT): "unknown"}, n=1)
    assert text.startswith("One replication: no verdict on mean waits")
    assert not CHANGE_WORDS.search(text), text


@pytest.mark.parametrize(("verdict", "clear"), [("clear", True), ("unclear", False), ("unknown", False)])
def test_over_time_title_names_a_change_only_where_it_is_clear(verdict: str, clear: bool) -> None:
    stats = {"Key worker": {BASE: (1.0, 2.0, 100.0), OPT: (1.0, 2.0, 25.0)}}
    averages = {("Key worker", BASE): 100.0, ("Key worker", OPT): 25.0}
    text = findings.over_time("Queues", stats, SCENARIOS, averages, {("Key worker", OPT): verdict})
    assert bool(CHANGE_WORDS.search(text)) == clear, text
    assert ("no clear change" in text) == (not clear), text
    if clear:
        assert "Key worker, 100 on average in baseline and 25 with more_key_workers" in text


@pytest.mark.parametrize(("verdict", "words"), [("clear", "clear difference"), ("unclear", "no clear difference")])
def test_cost_step_up_and_utilisation_titles_give_the_paired_verdict(verdict: str, words: str) -> None:
    cost = findings.costs({BASE: 1000.0, OPT: 1500.0}, SCENARIOS, {OPT: verdict}, {})
    assert cost.endswith(f"more_key_workers +£500 ({words})"), cost
    ups = findings.step_ups({BASE: 116.0, OPT: 93.0}, {}, SCENARIOS, {OPT: verdict})
    assert ups.endswith(f"93 with more_key_workers ({words})"), ups
    use = findings.utilisation([(BASE, "MST", 90.0), (OPT, "MST", 80.0)], SCENARIOS, {("MST", OPT): verdict})
    assert use.endswith(f"80% with more_key_workers ({words})"), use


def test_flows_title_names_where_referrals_go_and_its_parts_add_up() -> None:
    """5,953.6 and 2,278.6 print as 5,954 and 2,279; the total printed beside them is their sum
    as shown, 8,233, not 8,232 (their sum rounded)."""
    text = findings.flows(5953.6, 2278.6, 2486.0, 793.0, 168.0, "", 2.5)
    assert text.startswith(
        "Over 2.5 years: 8,233 referrals to early help and social care (5,954 to early help, 2,279 straight to "
        "social care); 2,486 key-worker plans start"
    ), text
    assert findings.flows(100.0, 0.0, 10.0, 0.0, 0.0, "", 1.0).startswith(
        "Over 1.0 years: 100 referrals to early help;"
    )


def test_a_difference_not_computed_says_nothing_and_one_replication_no_double_brackets() -> None:
    # no paired difference for a KPI (e.g. an option without the service): the title says
    # nothing of it, not "no verdict (1 replication)" whatever the replications; one
    # replication reads " (no verdict: one replication)", not nested brackets
    from sim.present.findings import _said

    assert _said("missing") == "" and _said(None) == ""
    assert _said("unknown") == " (no verdict: one replication)"
    assert _said("clear") == " (clear difference)"


def test_cost_title_sets_each_budget_against_early_help_not_the_total() -> None:
    """A £90m total (social care included) beside a £7.7m early help budget read "£82m over the
    budget": the title now says whether each scenario's early help cost is within its own
    budget, and never subtracts a budget from the total."""
    text = findings.costs({BASE: 90e6, OPT: 89e6}, SCENARIOS, {OPT: "unclear"}, {BASE: "within", OPT: "over"})
    assert "over the" not in text and "under the" not in text, text
    assert text.endswith(f"Early help cost within its budget in {BASE}; over its budget in {OPT}"), text
    one = findings.costs({BASE: 90e6}, [BASE], {}, {BASE: "within"})
    assert one == "Total cost £90,000,000 a year. Early help cost within its budget", one


SUNDERLAND = ["sunderland_calibrated", "fgc_in_early_help", "more_partner_led_plans", "pooled_allocation"]
SUNDERLAND += ["weekly_panel"]


def _every_option_titles(width: int | None) -> list[str]:
    """The cost, step-up and utilisation titles of the Sunderland review's five scenarios
    (``width=None``: the default title line)."""
    options = SUNDERLAND[1:]
    kw = {} if width is None else {"width": width}
    totals = {s: 43.2e6 + 1e5 * i for i, s in enumerate(SUNDERLAND)}
    cost = findings.costs(totals, SUNDERLAND, dict.fromkeys(options, "unclear"), {}, **kw)
    ups = findings.step_ups({s: 61.5 for s in SUNDERLAND}, {}, SUNDERLAND, dict.fromkeys(options, "clear"), **kw)
    items = [(s, "Social worker caseload utilisation", 90.0) for s in SUNDERLAND]
    verdicts = {("Social worker caseload utilisation", s): "clear" for s in options}
    return [cost, ups, findings.utilisation(items, SUNDERLAND, verdicts, **kw)]


@pytest.mark.parametrize("width", [None, 85])
def test_titles_name_every_option_or_say_how_many_more(width: int | None) -> None:
    """The titles dropped options beyond three silently (costs.png named three of the four
    Sunderland options): each names every option where they fit on two title lines, else
    as many as fit and "and N more (see the table)"."""
    import textwrap

    for text in _every_option_titles(width):
        shown = [o for o in SUNDERLAND[1:] if o in text]
        more = re.search(r"(\d+) (more|options) \(see the table\)", text)
        assert len(shown) + (int(more.group(1)) if more else 0) == 4, text
        if more:
            assert shown == SUNDERLAND[1 : 1 + len(shown)], text
        list_end = text.index(". Early help") if ". Early help" in text else len(text)
        assert len(textwrap.wrap(text[:list_end], width or 100)) <= 2, text


def test_titles_that_cannot_fit_every_option_say_how_many_more() -> None:
    cost, ups, use = _every_option_titles(60)
    for text in (cost, ups, use):
        assert re.search(r"(and \d+ more|; 4 options) \(see the table\)$", text), text
    assert "fgc_in_early_help" not in use and "4 options" in use, use


def test_a_title_never_says_one_more() -> None:
    """A title that fitted every option but the last said "and 1 more (see the table)" (the
    words longer than the name they stand for): the one is named, or two are counted."""
    text = findings._listed("Costs: ", ["a", "b", "x" * 80], 40)
    assert "1 more" not in text and text == "Costs: a, and 2 more (see the table)", text


REVIEW = ["sunderland_calibrated", "fgc_in_early_help", "fgc_in_early_help_keeps_pre_proceedings"]
REVIEW += ["more_partner_led_plans", "pooled_allocation", "weekly_panel"]
"""The Sunderland review's six scenarios (``experiments/sunderland.py``): a baseline and five options."""


def _after(text: str, head: str) -> list[str]:
    """The options a title names after ``head``, in the order it names them."""
    rest = text[text.index(head) + len(head) :]
    at = {o: m.start() for o in REVIEW[1:] if (m := re.search(rf"\b{o}\b", rest))}
    return sorted(at, key=lambda o: at[o])


def test_titles_lead_with_the_clear_differences_largest_first() -> None:
    """The review's case: costs.png read "fgc_in_early_help +£319,767 (no clear difference), and
    4 more" and step_ups.png "59 with fgc_in_early_help (no clear difference), and 4 more", in
    scenario order, while the only clear results were more_partner_led_plans's (−£230,532, −11
    step-ups a year). The clear differences now come first, largest first, then the rest."""
    base = 43_522_016.0
    totals = dict(zip(REVIEW, [base, base + 319_767, base + 401_000, base - 230_532, base + 12_000, base - 2_500]))
    verdicts = dict.fromkeys(REVIEW[1:], "unclear") | {"more_partner_led_plans": "clear"}
    cost = findings.costs(totals, REVIEW, verdicts, {})
    head = "in sunderland_calibrated; "
    assert cost.split(head)[1].startswith("more_partner_led_plans −£230,532 (clear difference)"), cost
    # two clear differences: the larger first, whatever their order among the scenarios
    verdicts["weekly_panel"] = verdicts["fgc_in_early_help_keeps_pre_proceedings"] = "clear"
    named = _after(findings.costs(totals, REVIEW, verdicts, {}, width=200), head)
    assert named[:3] == ["fgc_in_early_help_keeps_pre_proceedings", "more_partner_led_plans", "weekly_panel"], named
    assert named[3:] == ["fgc_in_early_help", "pooled_allocation"], named  # then the rest, in scenario order

    ups = dict(zip(REVIEW, [61.4, 59.2, 60.8, 50.1, 62.0, 61.0]))
    text = findings.step_ups(
        ups, {}, REVIEW, dict.fromkeys(REVIEW[1:], "unclear") | {"more_partner_led_plans": "clear"}
    )
    assert text.split(head)[1].startswith("50 with more_partner_led_plans (clear difference)"), text

    items = [(s, "utilisation of East West team", v) for s, v in zip(REVIEW, [95.0, 94.0, 93.0, 90.0, 96.0, 80.0])]
    use_verdicts = {("utilisation of East West team", s): "unclear" for s in REVIEW[1:]}
    use_verdicts |= {("utilisation of East West team", o): "clear" for o in ("more_partner_led_plans", "weekly_panel")}
    use = findings.utilisation(items, REVIEW, use_verdicts, width=200)
    assert _after(use, head)[:2] == ["weekly_panel", "more_partner_led_plans"], use  # −15 points, then −5


def test_utilisation_title_counts_every_option_even_one_without_the_service() -> None:
    """The review's utilisation title said "4 options (see the table)" of five: pooled_allocation
    has no East West team, and the count left it out. Every option is counted, and one without
    the service is named as such where the options fit."""
    label = "utilisation of East West team"
    items = [(s, label, 95.0 - i) for i, s in enumerate(REVIEW) if s != "pooled_allocation"]
    verdicts = {(label, s): "unclear" for s in REVIEW[1:] if s != "pooled_allocation"}
    narrow = findings.utilisation(items, REVIEW, verdicts, width=60)
    assert narrow.endswith("; 5 options (see the table)"), narrow
    wide = findings.utilisation(items, REVIEW, verdicts, width=400)
    assert all(o in wide for o in REVIEW[1:]) and "not in pooled_allocation" in wide, wide


def test_clear_levels_in_a_title_read_apart() -> None:
    """The designer's case: "Step-ups to social care a year: 61 in baseline; ... 61 with
    my_weekly_panel (clear difference)" for 61.35 and 60.67: counts, shares, queues and waits
    in a title were shown at their kind's fixed precision (whole families, whole percent, 0.1
    day). A level whose paired difference is clear now reads apart from the baseline's
    (:func:`sim.present.format.group_decimals`), each option at the precision its own pair
    needs (an option with an unclear difference or a large one stays whole), the baseline, said
    once, at the most of them."""
    scenarios = [BASE, "my_weekly_panel", "growth", "temp_boost"]
    verdicts = {"my_weekly_panel": "clear", "growth": "clear", "temp_boost": "unclear"}
    ups = {BASE: 61.35, "my_weekly_panel": 60.67, "growth": 75.2, "temp_boost": 61.2}
    title = findings.step_ups(ups, {}, scenarios, verdicts, width=400)
    assert title == (
        "Step-ups to social care a year: 61.4 in baseline; 75 with growth (clear difference), "
        "60.7 with my_weekly_panel (clear difference), 61 with temp_boost (no clear difference)"
    ), title
    items = [(BASE, "MST", 77.36), (OPT, "MST", 76.81)]
    use = findings.utilisation(items, SCENARIOS, {("MST", OPT): "clear"})
    assert (
        use
        == "Highest MST: 77.4% of slots in use on average in baseline; 76.8% with more_key_workers (clear difference)"
    )
    stats = {"Key worker": {BASE: (1.0, 2.0, 12.4), OPT: (1.0, 2.0, 12.2)}}
    averages = {("Key worker", BASE): 12.4, ("Key worker", OPT): 12.2}
    text = findings.over_time("Queues", stats, SCENARIOS, averages, {("Key worker", OPT): "clear"})
    assert "Key worker, 12.4 on average in baseline and 12.2 with more_key_workers" in text, text
    means = {("panel", BASE): 0.021, ("panel", OPT): 0.034}
    text = findings.waits(means, {}, SCENARIOS, {("panel", OPT): "clear"}, 4)
    assert "rises by 0.01 days with more_key_workers (0.02 → 0.03 days;" in text, text
