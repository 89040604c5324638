"""Every figure of issue 13's must-show, each as a ratio against a reference measured in the same run.

What it measures
----------------
(1) **M/M/c reduction.** ``configs/validation/mmc.yaml`` through ``sim.run_replication`` against the
    plain-SimPy M/M/c of the same size (:mod:`bench_mmc`), interleaved, medians of families per
    second. ``ratio = model / reference`` (target >= 0.7). Printed beside it: the same ratio in CPU
    time (each side's own ``time.process_time``: on a shared machine wall time also counts other
    processes' work, CPU time does not), and what a batch worker runs for a replication
    (:func:`sim.replication.batch_task`: the KPI row and series, no families table), which is the
    throughput of ``run_batch`` and of the uncertainty analysis.
(2) **County time per service start.** ``configs/benchmarks/county.yaml``, replication 0, through
    ``sim.run_replication``: wall seconds (median of the repeats) over the number of *service
    starts* (rows of the event log with event ``start``, a service -- a queue or caseload list --
    and a family, not a worker post:
    a stage of :data:`sim.vocab.STAFF_STAGES`; at a time >= 0, not the initial state's history).
    Families referred straight to social care count (their ids start at 2,000,000,000, where worker
    posts' ids start too, so an id filter would leave them out).
    The reference is the plain-SimPy M/M/c of (1), run again after each county repeat (interleaved,
    so that both sides see the machine alike; medians): its seconds per customer (each customer is
    one service start). ``ratio = reference seconds per customer / county seconds per start`` (target
    >= 0.5: a start in the county costs at most twice a customer of the bare queue). Printed beside
    it: the same ratio in CPU time.
(3) **Linear cost under overload**, in two settings, each a ratio of families per second, target >= 0.8.
    The full model: the county of (2) with each locality team cut from 22 key workers to 6 (a
    key-worker list of over a thousand families, ~18,000 withdrawals and escalations in ten years,
    the issue's "budget cut" case) against the county as it is (a list of tens), replication 0 of
    each, interleaved, medians. The bare queue, the stress case where waiting is nearly all a
    family's work: the M/M/c scenario with a withdrawal hazard, at ``rho = 1.5``
    (a queue of thousands that only withdrawals keep finite) against the same scenario at
    ``rho = 0.5`` (the plan is three times shorter), same arrivals and size. ``ratio = heavy / light``
    in families per second (target >= 0.8: a withdrawal's cost does not grow with the queue). Timed as
    in (1): only the ``sim.run_replication`` call; the families are counted after it (the lazy pandas
    families table is built outside the timing, as in (1)).
(4) **Memory.** Peak RSS of fresh processes (started from a small wrapper, see :mod:`bench_batch`):
    ``import sim`` (target < 80 MiB); ``import sim`` and county replication 0 (target < 160 MiB); and
    the coordinator of a process-pool batch (2 workers) of a tiny scenario (baseline cut to
    ``--tiny-days`` days) with 10 and with 200 replications (``ratio = peak(200) / peak(10)``,
    target <= 1.2: results stream, the coordinator does not grow with the replication count).
(5) **Identical tables** are checked by ``tests/test_golden.py`` (not here); (1) and (6) print
    whether the backends give identical tables.
(6) **Parallel speed-up and Dask**: sections (a) and (b) of :mod:`bench_batch` (process pool vs serial
    with the machine-parallelism check; Dask on a running, warmed ``LocalCluster`` vs the process pool,
    ``--dask-repeats`` interleaved pairs, medians; target >= 0.9).

Usage::

    python benchmarks/bench_all.py [--quick]

``--quick`` (a few minutes on a busy 2-core machine): 10,000 M/M/c families and one repeat, the
county run cut to three years, overload runs of 10,000 families, a batch of 4 replications in (6).
The full run (50,000 families, three repeats, the ten-year county) takes about ten minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import bench_batch as bb  # noqa: E402
import bench_mmc as bm  # noqa: E402

import sim  # noqa: E402
from sim.vocab import STAFF_STAGES  # noqa: E402

MMC_TARGET = 0.7
START_TARGET = 0.5
LINEAR_TARGET = 0.8
IMPORT_MB_TARGET = 80.0
COUNTY_MB_TARGET = 160.0
STREAM_TARGET = 1.2

# The measured child for (4): a process-pool batch of ``n`` replications; prints the coordinator's
# own peak RSS (it was started by exec from the small wrapper, so its high-water mark is its own).
_BATCH_CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
import sim
sc = sim.load_scenario({scenario!r}, overrides={{"run.duration_days": {days}, "run.warmup_days": 0}})
batch = sim.run_batch(sc, {n}, seed=0, backend="process", workers=2)
print(json.dumps({{"rows": len(batch.replications), "self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def section_mmc(families: int, repeats: int) -> None:
    scenario, p = bm.load_mmc(families)
    warm, warm_p = bm.load_mmc(bm.WARMUP_FAMILIES)
    bm.run_model(warm, rep=10_000)
    bm.run_reference(warm_p, seed=10_000)
    model: list[bm.RunResult] = []
    batch: list[bm.RunResult] = []
    ref: list[bm.RunResult] = []
    for i in range(repeats):
        model.append(bm.run_model(scenario, rep=i))
        ref.append(bm.run_reference(p, seed=i))
        batch.append(bm.run_batch_replication(scenario, i, model[-1].families))
        bb.log(f"M/M/c repeat {i + 1}/{repeats}: model {model[-1].rate:,.0f}  reference {ref[-1].rate:,.0f} fam/s")
    m = statistics.median(r.rate for r in model)
    r = statistics.median(r.rate for r in ref)
    mc = statistics.median(r.cpu_rate for r in model)
    rc = statistics.median(r.cpu_rate for r in ref)
    print(f"(1) M/M/c reduction: rho {p.rho:.2f}, c {p.c}, ~{families:,} families, median of {repeats}")
    print(f"    model {m:10,.0f} fam/s   reference {r:10,.0f} fam/s")
    print(f"    ratio {m / r:10.3f}          target >= {MMC_TARGET}: {bb.verdict(m / r >= MMC_TARGET)}")
    print(f"    in CPU time: model {mc:,.0f}  reference {rc:,.0f} fam/s, ratio {mc / rc:.3f}")
    b, bc = statistics.median(r.rate for r in batch), statistics.median(r.cpu_rate for r in batch)
    print(
        f"    a batch's replication (its KPI row and series, no families table: what run_batch runs) "
        f"{b:,.0f} fam/s, ratio {b / r:.3f} (CPU time {bc / rc:.3f})"
    )


def section_county(days: float | None, families: int, repeats: int) -> None:
    overrides = {} if days is None else {"run.duration_days": days}
    scenario = sim.load_scenario(bb.COUNTY, overrides=overrides)
    _, p = bm.load_mmc(families)
    times, per_customer_runs, cpus, per_customer_cpu = [], [], [], []
    for i in range(repeats):  # the same replication each time, each followed by a reference run
        t0, c0 = time.perf_counter(), time.process_time()
        result = sim.run_replication(scenario, rep=0, seed=0)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        ref = bm.run_reference(p, seed=i)
        per_customer_runs.append(ref.seconds / ref.families)
        per_customer_cpu.append(ref.cpu / ref.families)
        bb.log(f"county repeat {i + 1}/{repeats}: {times[-1]:.2f} s, reference {ref.rate:,.0f} customers/s")
    seconds = statistics.median(times)
    ev = result.events
    staff = ev["stage"].isin([str(s) for s in STAFF_STAGES])
    starts = int(((ev["event"] == "start") & (ev["service"] != "") & ~staff & (ev["time"] >= 0)).sum())
    # the count used before (ids below 2e9: without the families referred straight to social
    # care, with the initial state's history), printed so that figures stay comparable
    before = int(((ev["event"] == "start") & (ev["service"] != "") & (ev["family_id"] < 2_000_000_000)).sum())
    per_start = seconds / starts
    per_customer = statistics.median(per_customer_runs)
    ratio = per_customer / per_start
    print(
        f"(2) county replication 0 ({scenario.run.duration_days:g} days): {seconds:.2f} s (median of {repeats}), "
        f"{starts:,} service starts"
    )
    print(f"    {per_start * 1e6:8.1f} us/start   reference M/M/c {per_customer * 1e6:8.1f} us/customer")
    print(f"    ratio {ratio:10.3f}          target >= {START_TARGET}: {bb.verdict(ratio >= START_TARGET)}")
    cpu_start, cpu_customer = statistics.median(cpus) / starts, statistics.median(per_customer_cpu)
    print(
        f"    in CPU time: {cpu_start * 1e6:.1f} us/start, reference {cpu_customer * 1e6:.1f} us/customer, "
        f"ratio {cpu_customer / cpu_start:.3f}"
    )
    print(
        f"    (the count used before this round, ids below 2e9: {before:,} starts, "
        f"{seconds / before * 1e6:.1f} us/start, ratio {per_customer / (seconds / before):.3f})"
    )


def _overload(rho_mean: float, families: int, withdrawal: float = 0.002) -> sim.Scenario:
    """The M/M/c scenario at 20 arrivals a day on 40 slots, plan mean ``rho_mean`` days, with a
    withdrawal hazard of 0.002 a day: at mean 3 (rho 1.5) the queue settles near
    (20 - 40 / 3) / 0.002 ~ 3,300 families, kept finite only by withdrawals."""
    lam = 20.0
    return sim.load_scenario(
        bm.CONFIG,
        overrides={
            "referrals.sources.all.annual_rate": lam * 365,
            "teams.town.workers": 10,
            "teams.town.caseload_cap": 4,
            "early_help.duration.mean": rho_mean,
            "waiting.withdrawal_per_day": withdrawal,
            "run.duration_days": families / lam,
            "run.warmup_days": 0,
        },
    )


CUT_WORKERS = 6
"""Key workers left in each locality team of the county in (3)'s full-model overload (22 there)."""


def _county_cut(days: float | None) -> tuple[sim.Scenario, sim.Scenario]:
    """The county of (2) as it is, and with every locality team cut to :data:`CUT_WORKERS` key
    workers (its open plans at the start cut to the slots left): a key-worker list of over a
    thousand families, kept finite only by withdrawals and escalations."""
    overrides: dict[str, object] = {} if days is None else {"run.duration_days": days}
    county = sim.load_scenario(bb.COUNTY, overrides=overrides)
    cut = dict(overrides)
    for name, team in county.teams.items():
        cut[f"teams.{name}.workers"] = CUT_WORKERS
        start = county.initial_state.teams.get(name)
        if start is not None:
            cut[f"initial_state.teams.{name}.open_plans"] = min(start.open_plans, CUT_WORKERS * team.caseload_cap)
    return county, sim.load_scenario(bb.COUNTY, overrides=cut)


def section_linear_county(days: float | None, repeats: int) -> None:
    county, cut = _county_cut(days)
    rates: dict[str, list[float]] = {"cut": [], "county": []}
    seen: dict[str, tuple[float, int]] = {}
    for i in range(repeats):  # interleaved, replication 0 each time (as in (2))
        for name, sc in (("cut", cut), ("county", county)):
            t0 = time.perf_counter()
            res = sim.run_replication(sc, rep=0, seed=0)
            seconds = time.perf_counter() - t0
            rates[name].append(len(res.families) / seconds)  # counted outside the timing, as in (1)
            leaves = int((res.events["event"] == "leave").sum())
            seen[name] = (float(res.series["waiting_level3"].max()), leaves)
        cut_rate, as_is = rates["cut"][-1], rates["county"][-1]
        bb.log(f"county overload {i + 1}/{repeats}: cut {cut_rate:,.0f}  as is {as_is:,.0f} fam/s")
    h, lt = statistics.median(rates["cut"]), statistics.median(rates["county"])
    print(
        f"(3) linear cost, full model: the county of (2) with each locality team cut from "
        f"{next(iter(county.teams.values())).workers} key workers to {CUT_WORKERS}, against the county as it is"
    )
    print(
        f"    cut   {h:10,.0f} fam/s (key-worker list: highest monthly mean {seen['cut'][0]:,.0f}; "
        f"{seen['cut'][1]:,} left a list)   as is {lt:10,.0f} fam/s ({seen['county'][0]:,.0f}; {seen['county'][1]:,})"
    )
    print(f"    ratio {h / lt:10.3f}          target >= {LINEAR_TARGET}: {bb.verdict(h / lt >= LINEAR_TARGET)}")


def section_linear(families: int, repeats: int) -> None:
    runs = {
        "heavy": _overload(3.0, families),
        "light": _overload(1.0, families),
        "short": _overload(3.0, families, withdrawal=0.008),
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    waiting: dict[str, float] = {}
    for i in range(repeats):
        for name, sc in runs.items():
            t0 = time.perf_counter()
            res = sim.run_replication(sc, rep=i, seed=0)
            seconds = time.perf_counter() - t0
            rates[name].append(len(res.families) / seconds)  # counted outside the timing, as in (1)
            waiting[name] = float(res.series["waiting_level3"].iloc[-1])
        bb.log(f"overload {i + 1}/{repeats}: " + "  ".join(f"{n} {r[-1]:,.0f}" for n, r in rates.items()) + " fam/s")
    med = {name: statistics.median(r) for name, r in rates.items()}
    h, lt, sh = med["heavy"], med["light"], med["short"]
    print(
        "(3) linear cost, bare queue (the stress case): M/M/c with withdrawal 0.002/day, "
        f"~{families:,} families, rho 1.5 vs 0.5"
    )
    print(f"    heavy {h:10,.0f} fam/s (queue {waiting['heavy']:,.0f} at the end)   light {lt:10,.0f} fam/s")
    print(f"    ratio {h / lt:10.3f}          target >= {LINEAR_TARGET}: {bb.verdict(h / lt >= LINEAR_TARGET)}")
    print(
        f"    same overload, withdrawal 0.008/day (queue {waiting['short']:,.0f}): {sh:,.0f} fam/s; "
        f"queue ~4x longer costs {h / sh:.3f}x the speed (1.0: a family's cost does not grow with the queue)"
    )


def batch_peak(n: int, days: int) -> float:
    child = _BATCH_CHILD.format(root=str(ROOT), scenario=str(bb.BASELINE), days=days, n=n)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"batch child failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["rows"] == n
    return bb.rss_mb(out["self_kib"])


def section_memory(county: bool, tiny_days: int) -> None:
    print("(4) memory (peak RSS of fresh processes)")
    base = bb.child_peak(None)["peak_mb"]
    ok = bb.verdict(base < IMPORT_MB_TARGET)
    print(f"    import sim               {base:7.1f} MiB   target < {IMPORT_MB_TARGET:g}: {ok}")
    if county:
        peak = bb.child_peak(bb.COUNTY)["peak_mb"]
        ok = bb.verdict(peak < COUNTY_MB_TARGET)
        print(f"    county replication 0     {peak:7.1f} MiB   target < {COUNTY_MB_TARGET:g}: {ok}")
    small, large = batch_peak(10, tiny_days), batch_peak(200, tiny_days)
    ratio = large / small
    print(f"    batch coordinator, process pool, baseline cut to {tiny_days} days:")
    print(f"      10 replications {small:7.1f} MiB   200 replications {large:7.1f} MiB")
    print(f"    ratio {ratio:10.3f}          target <= {STREAM_TARGET}: {bb.verdict(ratio <= STREAM_TARGET)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (see the module docstring)")
    parser.add_argument("--skip", default="", help="comma-separated sections to skip (1,2,3,4,6)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats of (1) and (3) (default 3; quick 1)")
    parser.add_argument(
        "--dask-repeats", type=int, default=3, help="interleaved process / Dask batches timed in (6) (default 3)"
    )
    parser.add_argument("--tiny-days", type=int, default=30, help="horizon of the batches of (4) (default 30)")
    args = parser.parse_args(argv)
    if args.dask_repeats < 1:
        parser.error("--dask-repeats must be positive")
    skip = set(args.skip.split(",")) - {""}
    quick = args.quick
    families, repeats = (10_000, 1) if quick else (50_000, 3)
    repeats = args.repeats if args.repeats is not None else repeats
    print(f"cores {bb.cores()}  python {bb.platform.python_version()}  ehsim {sim.__version__}  {bb.versions()}")
    print(f"load average at start: {bb.load()}   {'quick' if quick else 'full'} run")
    print()
    t_start = time.perf_counter()
    if "1" not in skip:
        section_mmc(families, repeats)
    print()
    if "2" not in skip:
        section_county(1095 if quick else None, families, repeats)
        print()
    if "3" not in skip:
        section_linear_county(1095 if quick else None, repeats)
        section_linear(families, repeats)
        print()
    if "4" not in skip:
        section_memory(True, args.tiny_days)
        print()
    if "6" not in skip:
        small = sim.load_scenario(bb.BASELINE, overrides={"run.duration_days": 365 if quick else 730})
        n = 4 if quick else 16
        serial = bb.section_process(small, n, 1 if quick else 2)
        print()
        bb.section_dask(small, n, serial, args.dask_repeats)
        print()
    print(f"load average at end: {bb.load()}   total {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
