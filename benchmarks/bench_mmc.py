"""Throughput of the model's M/M/c reduction against a minimal plain-SimPy M/M/c of the same size.

What it measures
----------------
Both sides simulate the same queue: Poisson arrivals at rate lambda (``referrals.sources.all.annual_rate``
/ 365 per day), ``c = workers x caseload_cap`` servers (from ``configs/validation/mmc.yaml``) and exponential
service with the scenario's mean plan duration, over a horizon that gives about ``--families`` arrivals.

* **model**: ``sim.run_replication(scenario, rep=i, seed=0)`` -- the SimPy run plus everything the call
  does after it (the event log's and families' numpy columns, KPIs, monthly series). Loading the scenario
  is not timed. Families are counted as ``len(result.families)`` after the timed call: the pandas tables
  (``events``, ``families``, ``series``) are built on first use, so neither they nor the count are timed.
* **reference**: the idiomatic minimal SimPy M/M/c -- an arrival process with exponential gaps from a
  numpy Generator, a ``simpy.Resource(env, capacity=c)``, a customer process that requests a slot, waits
  for it and holds it for an exponential service time, and a list of waits whose mean is taken at the end.

Each side runs ``--repeats`` times, interleaved (model, reference, model, ...) so slow drift of the
machine (frequency scaling, other load) affects both alike, after one small untimed warm-up run of
each. The table shows the median families per second of each side.

How to read the ratio
---------------------
``ratio = model / reference`` (families per second). 1.0 means the model costs no more per family than
the bare SimPy queue; 0.25 means it is four times slower. The gap is the price of what the model does
on top of the queue (a family object and its own random stream, the journey's generator layers, the
event log, pandas KPIs), so the ratio, unlike the raw rates, is roughly comparable across machines.
The mean waits of both and the exact Erlang C value are printed as a sanity check: they should agree to
within sampling error (a few per cent at 50,000 families).

Usage::

    python benchmarks/bench_mmc.py [--families N] [--repeats R]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sim  # noqa: E402  (after making the repository importable from any cwd)

CONFIG = ROOT / "configs" / "validation" / "mmc.yaml"
WARMUP_FAMILIES = 1_000


@dataclass(frozen=True)
class MmcParams:
    """The queue both sides simulate."""

    lam: float  # arrivals per day
    c: int  # servers (caseload slots)
    mean_service: float  # days
    horizon: float  # days

    @property
    def rho(self) -> float:
        return self.lam * self.mean_service / self.c


@dataclass(frozen=True)
class RunResult:
    families: int
    seconds: float  # wall clock
    mean_wait: float
    cpu: float  # the process's own CPU time (user + system): other processes' load not counted

    @property
    def rate(self) -> float:
        return self.families / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.families / self.cpu


def load_mmc(families: int) -> tuple[sim.Scenario, MmcParams]:
    """The M/M/c scenario with a horizon giving about ``families`` arrivals, and its parameters."""
    base = sim.load_scenario(CONFIG)
    lam = sum(s.annual_rate for s in base.referrals.sources.values()) / 365.0
    horizon = families / lam
    scenario = sim.load_scenario(CONFIG, overrides={"run.duration_days": horizon, "run.warmup_days": 0})
    c = sum(t.slots for t in scenario.teams.values())
    return scenario, MmcParams(lam=lam, c=c, mean_service=scenario.early_help.duration.mean, horizon=horizon)


def run_model(scenario: sim.Scenario, rep: int) -> RunResult:
    t0, c0 = time.perf_counter(), time.process_time()
    result = sim.run_replication(scenario, rep=rep, seed=0)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return RunResult(len(result.families), seconds, result.kpis["wait_level3_mean_days"], cpu)


def run_batch_replication(scenario: sim.Scenario, rep: int, families: int) -> RunResult:
    """What a batch worker runs for replication ``rep`` (:func:`sim.replication.batch_task`:
    the KPI row and monthly series, no families table), with ``families`` as counted by
    :func:`run_model` for the same replication (the same families: common random numbers)."""
    from sim.replication import batch_task

    t0, c0 = time.perf_counter(), time.process_time()
    row = batch_task(scenario, rep, 0, False, None)[2]
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return RunResult(families, seconds, row["wait_level3_mean_days"], cpu)


def run_reference(p: MmcParams, seed: int) -> RunResult:
    t0, c0 = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    res = simpy.Resource(env, capacity=p.c)
    waits: list[float] = []
    arrived = 0

    def customer(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        joined = env.now
        with res.request() as req:
            yield req
            waits.append(env.now - joined)
            yield env.timeout(rng.exponential(p.mean_service))

    def arrivals(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        nonlocal arrived
        gap = 1.0 / p.lam
        while True:
            yield env.timeout(rng.exponential(gap))
            arrived += 1
            env.process(customer(env))

    env.process(arrivals(env))
    env.run(until=p.horizon)
    mean_wait = statistics.fmean(waits) if waits else math.nan
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return RunResult(arrived, seconds, mean_wait, cpu)


def erlang_c_wait(p: MmcParams) -> float:
    """Exact mean wait in queue of M/M/c (Erlang C), in days."""
    a = p.lam * p.mean_service  # offered load
    if a >= p.c:
        return math.inf
    term, head = 1.0, 1.0  # a^k / k! for k = 0, summed over k < c
    for k in range(1, p.c):
        term *= a / k
        head += term
    tail = term * a / p.c / (1.0 - a / p.c)  # a^c / c! / (1 - rho)
    prob_wait = tail / (head + tail)
    return prob_wait / (p.c / p.mean_service - p.lam)


def cores() -> str:
    total = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return f"{total}"
    return f"{usable} usable / {total} total" if usable != total else f"{total}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=50_000, help="arrivals per run (default 50000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each side (default 5)")
    args = parser.parse_args(argv)
    if args.families < 1 or args.repeats < 1:
        parser.error("--families and --repeats must be positive")

    scenario, p = load_mmc(args.families)
    warm_scenario, warm_p = load_mmc(WARMUP_FAMILIES)
    run_model(warm_scenario, rep=10_000)
    run_reference(warm_p, seed=10_000)

    model: list[RunResult] = []
    reference: list[RunResult] = []
    for i in range(args.repeats):
        model.append(run_model(scenario, rep=i))
        reference.append(run_reference(p, seed=i))
        print(
            f"  repeat {i + 1}/{args.repeats}: model {model[-1].rate:>10,.0f} fam/s   "
            f"reference {reference[-1].rate:>10,.0f} fam/s",
            file=sys.stderr,
        )

    m_rate = statistics.median(r.rate for r in model)
    r_rate = statistics.median(r.rate for r in reference)
    print(f"M/M/c: lambda={p.lam:g}/day  c={p.c}  mean service={p.mean_service:g} days  rho={p.rho:.3f}")
    print(f"horizon {p.horizon:,.1f} days (~{args.families:,} families), {args.repeats} repeats, medians")
    print(f"cores {cores()}  python {platform.python_version()}  simpy {simpy.__version__}  numpy {np.__version__}")
    print()
    print(f"{'':<12}{'families/s':>14}{'families':>12}{'seconds':>10}")
    for name, runs, rate in (("model", model, m_rate), ("reference", reference, r_rate)):
        fams = statistics.median(r.families for r in runs)
        secs = statistics.median(r.seconds for r in runs)
        print(f"{name:<12}{rate:>14,.0f}{fams:>12,.0f}{secs:>10.3f}")
    print(f"{'ratio':<12}{m_rate / r_rate:>14.3f}   (model / reference)")
    print()
    exact = erlang_c_wait(p)
    m_wait = statistics.fmean(r.mean_wait for r in model)
    r_wait = statistics.fmean(r.mean_wait for r in reference)
    print(f"mean wait (days, mean of repeats): model {m_wait:.4f}  reference {r_wait:.4f}  Erlang C {exact:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
