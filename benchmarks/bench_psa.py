"""Throughput of a probabilistic sensitivity analysis (``sim.uncertainty``) on each backend.

One small PSA -- ``configs/baseline.yaml`` cut to ``run.duration_days: 365`` against
``configs/options/more_key_workers.yaml``, a Morris design of ``--samples`` trajectories over
two parameters (the withdrawal rate while waiting and a referral-volume factor), ``--replications``
replications, seed 0 -- run through ``run_uncertainty`` with ``backend="serial"``, ``"process"``
(2 workers) and ``"dask"`` (a ``LocalCluster`` of 2 single-threaded workers started here and
passed as ``scheduler=``, its start-up timed apart and each worker warmed by one replication of the
baseline: the state the process pool's workers start in, forked from this process after the serial
run; ``import sim`` alone loads nothing, which left the model's imports in the first timed tasks).
Prints tasks (sample x scenario x replication) per second of each and the ratios process / serial
and dask / serial measured in the same run, and checks that the three replication tables are
identical. Without an output folder, so no checkpoint I/O is timed. Before and after, the
**machine parallelism** available is measured as in ``bench_batch.py`` (two pure-Python spins
one after the other over the same two in a 2-process pool; ideal 2.0): it is the ceiling of
the process and Dask ratios, and well under 2 means other jobs hold the cores.

Usage::

    python benchmarks/bench_psa.py [--samples N] [--replications R]

The default (2 trajectories x 3 points x 2 scenarios x 2 replications = 24 tasks) takes about a
minute on 2 cores.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import tempfile
import time
from pathlib import Path

import yaml

from sim.backends import LOCAL_CLUSTER
from sim.config import Scenario
from sim.uncertainty import load_spec, run_uncertainty

ROOT = Path(__file__).resolve().parents[1]


def _spin(n: int = 6_000_000) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def parallelism() -> float:
    """Sequential time of two spins over their time in a 2-process pool (ideal 2.0)."""
    t = time.perf_counter()
    _spin()
    _spin()
    sequential = time.perf_counter() - t
    with multiprocessing.get_context("fork").Pool(2) as pool:
        t = time.perf_counter()
        pool.map(_spin, [6_000_000] * 2)
        return sequential / (time.perf_counter() - t)


def _warm_worker(scenario: Scenario) -> None:
    """One replication in a Dask worker: the model imported and run once, as in a forked pool worker."""
    from sim.experiment import run_replication

    run_replication(scenario, rep=0, seed=0)


def _spec(folder: Path) -> Path:
    base = {
        "extends": (ROOT / "configs" / "baseline.yaml").as_posix(),
        "run": {"duration_days": 365, "warmup_days": 30},
    }
    (folder / "base.yaml").write_text(yaml.safe_dump(base))
    option = {"extends": (ROOT / "configs" / "options" / "more_key_workers.yaml").as_posix(), "run": base["run"]}
    (folder / "option.yaml").write_text(yaml.safe_dump(option))
    sources = ["police", "schools", "health", "other_agencies", "family_self", "other", "childrens_social_care"]
    spec = {
        "scenario": "base.yaml",
        "options": ["option.yaml"],
        "parameters": [
            {
                "name": "withdrawal_rate",
                "keys": ["waiting.withdrawal_per_day"],
                "distribution": {"dist": "uniform", "low": 0.001, "high": 0.006},
                "source": "ASSUMPTION",
            },
            {
                "name": "referral_volume",
                "keys": [f"referrals.sources.{s}.annual_rate" for s in sources],
                "scale": True,
                "distribution": {"dist": "triangular", "low": 0.8, "mode": 1.0, "high": 1.2},
                "source": "ASSUMPTION",
            },
        ],
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=2)
    ap.add_argument("--replications", type=int, default=2)
    args = ap.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    before = parallelism()
    with tempfile.TemporaryDirectory() as tmp:
        loaded = load_spec(_spec(Path(tmp)))
        tasks = args.samples * 3 * len(loaded.scenarios) * args.replications

        def timed(**kw: object) -> tuple[float, object]:
            t = time.perf_counter()
            res = run_uncertainty(loaded, args.samples, args.replications, "morris", 0, **kw)  # type: ignore[arg-type]
            return time.perf_counter() - t, res.replications

        serial_s, serial = timed(backend="serial")
        process_s, process = timed(backend="process", workers=2)
        from dask.distributed import Client, LocalCluster

        t = time.perf_counter()
        cluster = LocalCluster(n_workers=2, **LOCAL_CLUSTER)
        client = Client(cluster)
        startup = time.perf_counter() - t
        client.run(_warm_worker, loaded.base)
        try:
            dask_s, dask = timed(backend="dask", workers=2, scheduler=cluster.scheduler_address)
        finally:
            client.close()
            cluster.close()
    rate = {name: tasks / s for name, s in (("serial", serial_s), ("process", process_s), ("dask", dask_s))}
    print(f"PSA of {tasks} tasks (sample x scenario x replication, baseline 365 days):")
    print(f"  serial   {rate['serial']:.2f} tasks/s")
    print(f"  process  {rate['process']:.2f} tasks/s  ratio process / serial {rate['process'] / rate['serial']:.2f}")
    print(
        f"  dask     {rate['dask']:.2f} tasks/s  ratio dask / serial {rate['dask'] / rate['serial']:.2f} "
        f"(LocalCluster start-up {startup:.1f} s, not included)"
    )
    same = serial.equals(process) and serial.equals(dask)  # type: ignore[attr-defined]
    print(f"  identical tables on the three backends: {same}")
    print(f"  machine parallelism (ideal 2.0): {before:.2f} before, {parallelism():.2f} after")


if __name__ == "__main__":
    main()
