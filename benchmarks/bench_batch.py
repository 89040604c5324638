"""Monte Carlo batch throughput (serial, process pool, Dask) and county-scale cost of one replication.

What it measures
----------------
All in one run, each figure against a reference measured in the same process, so the ratios (not
the raw rates) are what to compare across machines.

(a) **Process pool speed-up.** The same small batch -- ``configs/baseline.yaml`` cut to
    ``run.duration_days: 730``, ``--replications`` replications (default 16), seed 0 -- through
    ``sim.run_batch(backend="serial")`` and ``sim.run_batch(backend="process", workers=2)``. Both are
    timed ``--repeats`` times, interleaved (serial, process, serial, ...) so slow drift of a noisy
    machine hits both alike, after one untimed warm-up replication; the fastest repeat of each is
    kept. Prints replications per second of both, ``speed-up = process / serial`` (target >= 1.8 on
    2 cores), and whether both give identical ``.replications`` tables (``DataFrame.equals``). Each
    repeat also measures the **machine parallelism** available at that moment: two pure-Python
    spins one after the other over the same two in a process pool (ideal 2.0). It is the ceiling for
    the model's speed-up; well under 2 means another job is using a core and the run is not clean.
(b) **Dask overhead.** The same batch through ``backend="dask", workers=2``: once as ``run_batch``
    does it alone (start a ``LocalCluster``, start worker processes, run, close); then, at least 3
    times, the process-pool batch (created inside its timing, as ``run_batch`` does) followed by the
    Dask batch on a running cluster: a cluster started here (``LocalCluster(n_workers=2,
    threads_per_worker=1, dashboard_address=None)``, start-up timed apart), each worker brought to
    the state the pool's workers start in -- they are forked from this process after its warm-up
    replication, so each Dask worker runs one untimed replication (``import sim`` alone would not
    do: it loads nothing until a name is used, so the model's imports would land in the first
    timed Dask task) -- then the batch passed ``scheduler=`` (its client connection timed with
    it), then the cluster closed, so that no idle cluster loads the machine while the pool is
    timed. Two running clusters each time: a default ``LocalCluster`` (as anyone starts one) and
    one started inside ``dask.config.set(sim.backends.DASK_CONFIG)`` (as ``--backend dask`` starts
    its own and as the README recommends for a cluster running ehsim: no statistical profiler, whose
    sampler walks each running replication's stack every 10 ms, and the periodic work that only
    feeds a dashboard -- event-loop health ticks, system and memory monitors -- done less often:
    idle, ~12 ms of CPU a second for the cluster instead of ~50). Prints
    the medians and ``ratio = dask / process`` for each (target >= 0.9; 1.0: no overhead; 0.5:
    twice as slow), and the identity check. Also the CPU seconds each batch costs over all its
    processes (coordinator, scheduler, workers) and their ratio: on a shared machine, where other
    jobs decide how much of the cores a batch gets, this is about what the wall ratio would be
    with the cores free (the batch's own overheads -- starting the pool, Dask's threads -- are
    all in it).

    Is the batch representative? Dask's extra cost over the pool has three parts (measured per
    thread on a warmed 2-worker cluster): the cluster's periodic work, a cost per second of wall
    time (idle, ~50 ms a second over all its processes with Dask's defaults and the profiler off,
    ~12 ms with ``DASK_CONFIG``; the profiler adds ~3.5% to each running replication), so the
    same share of any batch; ~7 ms of scheduler and worker CPU a task (measured with tasks that
    do nothing), ~2.5% of a 730-day baseline replication (~0.28 s CPU) and ~0.2% of a ten-year
    county one; and the coordinator's client (connecting, collecting results: ~20 ms a batch of
    64). A researcher's batch (100 or more replications of several years, or a PSA's hundreds of
    tasks) has longer tasks, so 16 replications of 730 days is, if anything, the harder case for
    Dask; it is kept.
(c) **County scale.** ``configs/benchmarks/county.yaml`` (about 5,000 referrals a year, ten years)
    with ``sim.run_replication``, serially, ``--county-reps`` replications (default 3): the median
    wall seconds per replication and ``ratio = seconds / 2 s target`` (<= 1 meets it), the median CPU
    seconds and CPU / wall (below 0.9: the core was shared, and the CPU figure is the better
    estimate); team utilisation is printed as a check that the scenario is busy but stable. Then the
    **peak memory** of one replication: peak RSS (``ru_maxrss``) of a fresh process that imports
    ``sim`` and runs replication 0, next to one that only imports ``sim`` (so the model's own share
    is the difference), and ``ratio = peak / 200 MB target``.

Peak RSS is read with ``resource.getrusage(RUSAGE_CHILDREN)`` in a small wrapper process that starts
the measured child and exits. The wrapper matters: a child forked from this (large) process starts
with this process's RSS as its high-water mark (Linux keeps it across ``exec``), so reading
``RUSAGE_CHILDREN`` here, or the child's own ``RUSAGE_SELF``, would report this process's size.

How to read the ratios
----------------------
speed-up >= 1.8: the process pool uses both cores (per-task overhead and the straggler at the end of
the batch cost the rest); compare it with the machine parallelism of the same run. dask / process:
what the Dask machinery costs on one machine; with cluster start-up it is dominated by starting
worker processes and importing ``sim`` in them, so it improves with longer batches. county seconds
/ 2 s and peak MB / 200 MB: <= 1.0 meets the target.

Usage::

    python benchmarks/bench_batch.py [--replications N] [--repeats R] [--county-reps K] [--quick]

``--quick`` (smoke test, well under a minute): 8 replications of 365 days, one repeat, one county
replication. The default run takes about one to two minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import sim  # noqa: E402  (after making the repository importable from any cwd)
from sim.backends import DASK_CONFIG, LOCAL_CLUSTER  # noqa: E402

BASELINE = ROOT / "configs" / "baseline.yaml"
COUNTY = ROOT / "configs" / "benchmarks" / "county.yaml"
WORKERS = 2
SPEEDUP_TARGET = 1.8
DASK_TARGET = 0.9
COUNTY_SECONDS_TARGET = 2.0
MEMORY_MB_TARGET = 200.0

# The measured child: import sim and (optionally) run replication 0 of a scenario; prints its timings.
_CHILD = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
import sim
t1 = time.perf_counter()
out = {{"import_s": t1 - t0}}
if {scenario!r}:
    scenario = sim.load_scenario({scenario!r})
    t2 = time.perf_counter()
    result = sim.run_replication(scenario, rep=0, seed=0)
    out["run_s"] = time.perf_counter() - t2
    out["events"] = len(result.log)  # the numpy log: reading result.events would build the DataFrame (pandas)
print(json.dumps(out))
"""
# The wrapper: runs the child and reports the child's peak RSS (ru_maxrss of its waited-for children).
_WRAPPER = """
import json, resource, subprocess, sys
proc = subprocess.run([sys.executable, "-c", sys.argv[1]], capture_output=True, text=True)
if proc.returncode != 0:
    sys.stderr.write(proc.stderr)
    raise SystemExit(proc.returncode)
out = json.loads(proc.stdout.strip().splitlines()[-1])
out["maxrss"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Timed:
    seconds: float
    table: pd.DataFrame

    def rate(self, n: int) -> float:
        return n / self.seconds


def log(msg: str) -> None:
    print(f"  .. {msg}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def cores() -> str:
    total = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return f"{total}"
    return f"{total} (usable {usable})" if usable != total else f"{total}"


def versions() -> str:
    names = ("simpy", "numpy", "pandas", "scipy", "pydantic", "dask", "distributed")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} -")
    return "  ".join(found)


def timed_batch(scenario: sim.Scenario, n: int, **kw: object) -> Timed:
    t0 = time.perf_counter()
    batch = sim.run_batch(scenario, n, seed=0, **kw)  # type: ignore[arg-type]
    return Timed(time.perf_counter() - t0, batch.replications)


def cpu_seconds() -> float:
    """CPU seconds used so far by this process, its finished children (a process pool's workers,
    once the pool is shut down) and its live descendants (a LocalCluster's workers)."""
    import psutil  # installed with distributed

    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in me.children(recursive=True):
        try:
            c = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += c.user + c.system
    return total


def cpu_batch(scenario: sim.Scenario, n: int, **kw: object) -> tuple[Timed, float]:
    """:func:`timed_batch` and the CPU seconds of every process of the batch (:func:`cpu_seconds`)."""
    c0 = cpu_seconds()
    timed = timed_batch(scenario, n, **kw)
    return timed, cpu_seconds() - c0


def rss_mb(maxrss: int) -> float:
    """ru_maxrss in MiB (kilobytes on Linux, bytes on macOS)."""
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def child_peak(scenario: Path | None) -> dict[str, float]:
    """Peak RSS (MiB) and timings of a fresh process that imports sim (and runs replication 0)."""
    child = _CHILD.format(root=str(ROOT), scenario=str(scenario) if scenario is not None else "")
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, child], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory child failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["peak_mb"] = rss_mb(out.pop("maxrss"))
    return out


def _spin(n: int) -> int:
    """Pure-Python CPU work (no I/O, no shared state): the calibration task."""
    acc = 0
    for i in range(n):
        acc = (acc + i * i) % 1_000_003
    return acc


def parallelism(n: int = 3_000_000) -> float:
    """Speed-up the machine gives right now to WORKERS independent CPU-bound processes: the time of
    WORKERS spins run one after another over their time in a process pool (ideal: WORKERS). Other
    load on the machine shows up here first, so read the model's speed-up against it."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context(method)) as pool:
        list(pool.map(_spin, [1000] * WORKERS))  # start the workers outside the timing
        t0 = time.perf_counter()
        for _ in range(WORKERS):
            _spin(n)
        one_by_one = time.perf_counter() - t0
        t0 = time.perf_counter()
        list(pool.map(_spin, [n] * WORKERS))
        together = time.perf_counter() - t0
    return one_by_one / together


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "-"


def _warm_worker(scenario: sim.Scenario) -> str:
    """Bring a Dask worker to the state a process-pool worker starts in.

    The pool's workers are forked from this process after its warm-up replication, so they start
    with the model imported and one replication run; ``import sim`` alone would load nothing
    (its names load on first use), leaving the model's imports to the first timed task."""
    from sim.experiment import run_replication

    run_replication(scenario, rep=0, seed=0)
    return "ok"


# --------------------------------------------------------------------------- sections
def section_process(scenario: sim.Scenario, n: int, repeats: int) -> Timed:
    print(f"(a) serial vs process pool: baseline, duration {scenario.run.duration_days:g} days, {n} replications")
    log("warm-up replication")
    sim.run_batch(scenario, 1, seed=0)
    serial: list[Timed] = []
    process: list[Timed] = []
    machine: list[float] = []
    for i in range(repeats):
        machine.append(parallelism())
        serial.append(timed_batch(scenario, n, backend="serial"))
        process.append(timed_batch(scenario, n, backend="process", workers=WORKERS))
        log(
            f"repeat {i + 1}/{repeats}: serial {serial[-1].seconds:.2f} s  process {process[-1].seconds:.2f} s  "
            f"machine parallelism {machine[-1]:.2f}x  load {load()}"
        )
    best_s = min(serial, key=lambda t: t.seconds)
    best_p = min(process, key=lambda t: t.seconds)
    same = best_s.table.equals(best_p.table) and all(t.table.equals(best_s.table) for t in serial + process)
    speedup = best_p.rate(n) / best_s.rate(n)
    ok = verdict(speedup >= SPEEDUP_TARGET)
    of = f"best of {repeats}"
    print(f"    serial              {best_s.rate(n):8.2f} rep/s   ({best_s.seconds:6.2f} s, {of})")
    print(f"    process, {WORKERS} workers   {best_p.rate(n):8.2f} rep/s   ({best_p.seconds:6.2f} s, {of})")
    print(f"    speed-up            {speedup:8.2f} x       target >= {SPEEDUP_TARGET}: {ok}")
    print(f"    machine parallelism {max(machine):8.2f} x       (pure-Python spin in {WORKERS} processes, {of})")
    print(f"    identical .replications tables (serial == process): {same}")
    return best_s


# The running clusters of (b): as anyone starts one, and as ehsim starts its own (and recommends).
CLUSTERS: dict[str, dict[str, object]] = {
    "default LocalCluster": {},
    "ehsim's Dask settings": DASK_CONFIG,
}


def _running_cluster(scenario: sim.Scenario, n: int, config: dict[str, object]) -> tuple[Timed, float, float, float]:
    """Start a LocalCluster with ``config``, warm each worker with one replication, time the batch on
    it (``scheduler=``), close it. Returns the batch, its CPU seconds, start-up and warm-up seconds."""
    import dask
    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with dask.config.set(config):
        cluster = LocalCluster(n_workers=WORKERS, **LOCAL_CLUSTER)
    startup = time.perf_counter() - t0
    try:
        with Client(cluster) as client:
            t0 = time.perf_counter()
            client.run(_warm_worker, scenario)
            warm_up = time.perf_counter() - t0
        timed, used = cpu_batch(scenario, n, backend="dask", scheduler=cluster.scheduler_address)
    finally:
        cluster.close()
    return timed, used, startup, warm_up


def section_dask(scenario: sim.Scenario, n: int, serial: Timed, repeats: int = 3) -> float:
    """Dask against the process pool; returns the ratio on a default running cluster (median Dask
    rate over median process-pool rate, timed alternately in this section)."""
    print(f"(b) Dask LocalCluster, {WORKERS} workers x 1 thread, same batch")
    logging.getLogger("distributed").setLevel(logging.ERROR)
    log("dask batch with its own LocalCluster")
    cold = timed_batch(scenario, n, backend="dask", workers=WORKERS)

    runs: dict[str, list[Timed]] = {"process": [], **{name: [] for name in CLUSTERS}}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    machine: list[float] = []
    startup: list[float] = []
    warm_up: list[float] = []
    for i in range(repeats):
        machine.append(parallelism())
        # the pool is timed with no cluster alive (its idle workers and scheduler would load the machine)
        timed, used = cpu_batch(scenario, n, backend="process", workers=WORKERS)
        runs["process"].append(timed)
        cpu["process"].append(used)
        for name, config in CLUSTERS.items():
            timed, used, up, warm = _running_cluster(scenario, n, config)
            runs[name].append(timed)
            cpu[name].append(used)
            startup.append(up)
            warm_up.append(warm)
        log(
            f"repeat {i + 1}/{repeats}: "
            + "  ".join(f"{name} {t[-1].seconds:.2f} s" for name, t in runs.items())
            + f"  machine parallelism {machine[-1]:.2f}x  load {load()}"
        )

    sec = {name: statistics.median(t.seconds for t in timed) for name, timed in runs.items()}
    used = {name: statistics.median(c) for name, c in cpu.items()}
    p_sec = sec["process"]
    same = cold.table.equals(serial.table) and all(t.table.equals(serial.table) for r in runs.values() for t in r)
    of = f"median of {repeats}, alternating"
    print(
        f"    incl. start-up      {cold.rate(n):8.2f} rep/s   ({cold.seconds:6.2f} s, once)   "
        f"ratio to process {p_sec / cold.seconds:5.2f}"
    )
    print(f"    process, {WORKERS} workers   {n / p_sec:8.2f} rep/s   ({p_sec:6.2f} s, {of})")
    print(f"      CPU {used['process']:.2f} s a batch (all processes, median)")
    for name in CLUSTERS:
        ratio = p_sec / sec[name]  # rate ratio: (n / dask seconds) / (n / process seconds)
        print(
            f"    running cluster, {name}: {n / sec[name]:.2f} rep/s ({sec[name]:.2f} s, {of})   "
            f"ratio dask / process {ratio:.2f}   target >= {DASK_TARGET}: {verdict(ratio >= DASK_TARGET)}"
        )
        print(
            f"      CPU {used[name]:.2f} s a batch (all processes, median); CPU ratio process / dask "
            f"{used['process'] / used[name]:.2f} (the wall ratio to expect with the cores free)"
        )
    print(f"    machine parallelism {statistics.median(machine):8.2f} x       (median of {repeats}; see (a))")
    print(
        f"    cluster start-up {statistics.median(startup):.2f} s; then one warm-up replication on each worker "
        f"{statistics.median(warm_up):.2f} s (what the pool's forked workers inherit from this process; medians)"
    )
    print(f"    identical .replications tables (dask == process == serial): {same}")
    return p_sec / sec["default LocalCluster"]


def section_county(reps: int) -> None:
    scenario = sim.load_scenario(COUNTY)
    sources = sum(s.annual_rate for s in scenario.referrals.sources.values())
    print(
        f"(c) county scale: {COUNTY.relative_to(ROOT)} ({sources:,.0f} referrals/yr, "
        f"{scenario.run.duration_days:g} days), sim.run_replication, serial"
    )
    seconds: list[float] = []
    cpu: list[float] = []
    utils: list[float] = []
    events = 0
    for rep in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        result = sim.run_replication(scenario, rep=rep, seed=0)
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        events = len(result.log)
        utils += [v for k, v in result.kpis.items() if k.startswith("utilisation_team_")]
        log(f"county replication {rep + 1}/{reps}: {seconds[-1]:.2f} s wall, {cpu[-1]:.2f} s CPU, {events:,} events")
    med = statistics.median(seconds)
    ratio = med / COUNTY_SECONDS_TARGET
    share = sum(cpu) / sum(seconds)
    print(
        f"    seconds/replication {med:8.2f} s     (median of {reps}: {', '.join(f'{s:.2f}' for s in seconds)}; "
        f"{events:,} events in the last)"
    )
    print(
        f"    ratio to {COUNTY_SECONDS_TARGET:g} s target {ratio:6.2f}        "
        f"target <= {COUNTY_SECONDS_TARGET:g} s: {verdict(med <= COUNTY_SECONDS_TARGET)}"
    )
    print(
        f"    CPU seconds/rep     {statistics.median(cpu):8.2f} s     (CPU / wall {share:.2f}"
        + ("; below 0.9: another job is taking this core, read the CPU figure" if share < 0.9 else "")
        + ")"
    )
    print(f"    team utilisation    {min(utils):.3f}-{max(utils):.3f} (check: busy 0.75-0.90, stable)")

    log("memory: child that imports sim")
    base = child_peak(None)
    log("memory: child that imports sim and runs county replication 0")
    run = child_peak(COUNTY)
    peak = run["peak_mb"]
    print(f"    peak RSS, import sim only          {base['peak_mb']:7.1f} MiB   (import {base['import_s']:.2f} s)")
    print(f"    peak RSS, import + 1 replication   {peak:7.1f} MiB   (replication {run['run_s']:.2f} s in the child)")
    print(f"    model's own share                  {peak - base['peak_mb']:7.1f} MiB")
    print(
        f"    ratio to {MEMORY_MB_TARGET:g} MB target          {peak / MEMORY_MB_TARGET:7.2f}        "
        f"target < {MEMORY_MB_TARGET:g} MB: {verdict(peak < MEMORY_MB_TARGET)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--replications", type=int, default=None, help="replications per batch (default 16; quick 8)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats of (a) (default 2; quick 1)")
    parser.add_argument("--county-reps", type=int, default=None, help="county replications timed (default 3; quick 1)")
    parser.add_argument("--quick", action="store_true", help="smoke test: smaller batch, one repeat, one county rep")
    args = parser.parse_args(argv)
    n = args.replications if args.replications is not None else (8 if args.quick else 16)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 2)
    county_reps = args.county_reps if args.county_reps is not None else (1 if args.quick else 3)
    if n < 1 or repeats < 1 or county_reps < 1:
        parser.error("--replications, --repeats and --county-reps must be positive")
    duration = 365 if args.quick else 730

    print(f"cores {cores()}  workers {WORKERS}  python {platform.python_version()}  {platform.platform()}")
    print(f"ehsim {sim.__version__}  {versions()}")
    print(f"load average (1, 5, 15 min) at start: {load()}")
    print()
    t_start = time.perf_counter()
    small = sim.load_scenario(BASELINE, overrides={"run.duration_days": duration})
    serial = section_process(small, n, repeats)
    print()
    section_dask(small, n, serial, max(repeats, 3))
    print()
    section_county(county_reps)
    print()
    print(f"load average at end: {load()}   total benchmark time {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
