"""Draw the seeded, stratified random sample of mutants in ``tests/mutation_sample.txt``.

Issue 14, point 4: the model and most of the metrics have about 5,000 mutants, and a
surviving mutant of a function that every model run reaches costs 2.5 to 3 minutes on one
core, so they are not all run. The score of those modules is estimated from a simple
random sample drawn within each module (stratified, in proportion to the module's number
of mutants, largest remainders), with ``numpy.random.default_rng(SEED)``.

Run from the repository root, after ``mutmut run`` has generated ``mutants/`` (the names
are read from mutmut's ``mutants/sim/**/*.py.meta`` files)::

    .venv/bin/python -m tests.mutation_sample            # print the sample, in run order
    .venv/bin/python -m tests.mutation_sample --write    # rewrite tests/mutation_sample.txt

and run the sample (in chunks, in file order, so that any prefix is itself a random
sample of the population), then read the score::

    .venv/bin/mutmut run --max-children 1 $(grep -v '^#' tests/mutation_sample.txt | head -40)
    .venv/bin/python -m tests.mutation_sample --score   # killed / run, 95% Wilson interval

The population is every mutant that was not run before this sample (see
``tests/MUTATION.md``): all of ``world.py`` (with ``fates.py``, split from it later), ``statutory.py``, ``supports.py``,
``common.py``, ``needs.py`` and ``workforce.py``; ``CaseloadService`` in ``pools.py``
(moved there after ``pools.py`` was run); and ``sim/metrics/`` except the functions whose
every mutant was run (:data:`RUN_IN_FULL`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

SEED = 2026
SIZE = 200
ROOT = Path(__file__).resolve().parents[1]
SAMPLE_FILE = ROOT / "tests" / "mutation_sample.txt"

#: The second sample (``--lean``): the code the performance work added after the first
#: sample was drawn (the coded event log, the numpy KPI log, families drawn in blocks, and
#: SimPy shortcuts in ``common.py``), with its own seed, size and file.
LEAN_SEED = 2027
LEAN_SIZE = 40
LEAN_FILE = ROOT / "tests" / "mutation_sample_lean.txt"
LEAN_MODULES = ("sim/records.py", "sim/metrics/log.py", "sim/model/family.py")
LEAN_CLASSES = ("StartedProcess", "Deadlines", "Place")
"""Classes of ``sim/model/common.py`` added by the performance work."""

#: Modules sampled in full (every mutant in the population).
MODEL = ("world", "fates", "statutory", "supports", "common", "needs", "workforce")
#: ``sim/metrics`` functions whose every mutant was run before (excluded).
RUN_IN_FULL = ("_time_average", "_steps", "_in_force", "_area_to", "monthly_series", "flow_balance", "by_locality")


def _function(name: str) -> str:
    """The mangled function part of a mutant name (``x__costs``, ``xǁWorldǁrun``)."""
    return re.sub(r"__mutmut_\d+$", "", name).rsplit(".", 1)[1]


def population(mutants: Path, lean: bool = False) -> dict[str, list[str]]:
    """The mutants not run before, by module file, each list sorted.

    Parameters
    ----------
    mutants : Path
        mutmut's ``mutants/`` folder.
    lean : bool
        The second sample's population instead: every mutant of :data:`LEAN_MODULES` and of
        the :data:`LEAN_CLASSES` of ``sim/model/common.py``.

    Returns
    -------
    dict of str to list of str
        Module path (``sim/model/world.py``) to its mutant names.
    """
    strata: dict[str, list[str]] = {}
    for meta in sorted(mutants.glob("sim/**/*.py.meta")):
        module = meta.relative_to(mutants).as_posix().removesuffix(".meta")
        names = sorted(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
        if lean:
            if module in LEAN_MODULES:
                keep = names
            elif module == "sim/model/common.py":
                keep = [n for n in names if any(f"ǁ{c}ǁ" in n for c in LEAN_CLASSES)]
            else:
                keep = []
        elif module in {f"sim/model/{m}.py" for m in MODEL}:
            keep = names
        elif module == "sim/model/pools.py":
            keep = [n for n in names if "ǁCaseloadServiceǁ" in n]
        elif module.startswith("sim/metrics/"):
            keep = [n for n in names if _function(n) not in {f"x_{f}" for f in RUN_IN_FULL}]
        else:
            keep = []
        if keep:
            strata[module] = keep
    return strata


def allocation(sizes: dict[str, int], total: int) -> dict[str, int]:
    """Proportional allocation of ``total`` draws, by largest remainders.

    Parameters
    ----------
    sizes : dict of str to int
        Stratum sizes.
    total : int
        Sample size.

    Returns
    -------
    dict of str to int
        Draws per stratum, summing to ``total``.
    """
    keys = list(sizes)
    quota = np.array([sizes[k] for k in keys], dtype=float) * total / sum(sizes.values())
    base = np.floor(quota).astype(int)
    extra = total - int(base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:extra]] += 1
    return dict(zip(keys, base.tolist(), strict=True))


def draw(
    mutants: Path, size: int = SIZE, seed: int = SEED, lean: bool = False
) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """Draw the stratified sample and put it in a random run order.

    Parameters
    ----------
    mutants : Path
        mutmut's ``mutants/`` folder.
    size : int
        Sample size.
    seed : int
        Seed of ``numpy.random.default_rng``.
    lean : bool
        Draw from the second sample's population (see :func:`population`).

    Returns
    -------
    names : list of str
        The sampled mutants, in run order (a random permutation).
    sizes : dict of str to int
        Population size per module.
    drawn : dict of str to int
        Sample size per module.
    """
    rng = np.random.default_rng(seed)
    strata = population(mutants, lean)
    sizes = {k: len(v) for k, v in strata.items()}
    drawn = allocation(sizes, size)
    chosen: list[str] = []
    for module, names in strata.items():
        picks = rng.choice(len(names), size=drawn[module], replace=False)
        chosen.extend(names[i] for i in sorted(picks))
    order = rng.permutation(len(chosen))
    return [chosen[i] for i in order], sizes, drawn


def score(mutants: Path, sample_file: Path = SAMPLE_FILE) -> str:
    """mutmut's verdicts on the sampled mutants run so far, per module and in all.

    A mutant counts as killed when mutmut says ``killed`` (a test failed; exit code 1 or 3)
    or ``timeout``/``segfault`` (the run never ended or ran out of memory); survived when
    every test passed or no test reached it (exit code 0, 33). The interval is the 95%
    Wilson interval of the proportion killed (:func:`scipy.stats.binomtest`).

    Parameters
    ----------
    mutants : Path
        mutmut's ``mutants/`` folder.
    sample_file : Path
        The sample's file.

    Returns
    -------
    str
        One line per module and one for the total.
    """
    from scipy.stats import binomtest

    names = [line for line in sample_file.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    verdicts: dict[str, int | None] = {}
    for meta in mutants.glob("sim/**/*.py.meta"):
        verdicts.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    survived = {0, 5, 33}
    counts: dict[str, list[int]] = {}
    for name in names:
        code = verdicts.get(name)
        module = name.split(".x", 1)[0]
        run_killed = counts.setdefault(module, [0, 0])
        if code is not None and code not in (2, 34):  # not checked, interrupted, skipped
            run_killed[0] += 1
            run_killed[1] += code not in survived
    counts["total"] = [sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())]
    lines = []
    for module, (run, killed) in counts.items():
        if run:
            ci = binomtest(killed, run).proportion_ci(0.95, method="wilson")
            share = f"{killed / run:.1%} (95% CI {ci.low:.1%} to {ci.high:.1%})"
            lines.append(f"{module}: {killed} / {run} killed, {share}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    """Print the sample, or write it to ``tests/mutation_sample.txt`` with ``--write``, or
    print the score so far with ``--score``; with ``--lean``, the second sample
    (``tests/mutation_sample_lean.txt``)."""
    lean = "--lean" in argv
    seed, size, sample_file = (LEAN_SEED, LEAN_SIZE, LEAN_FILE) if lean else (SEED, SIZE, SAMPLE_FILE)
    if "--score" in argv:
        sys.stdout.write(score(ROOT / "mutants", sample_file))
        return
    names, sizes, drawn = draw(ROOT / "mutants", size, seed, lean)
    command = ".venv/bin/python -m tests.mutation_sample --write" + (" --lean" if lean else "")
    header = [
        f"# {len(names)} mutants drawn by `{command}`",
        f"# numpy default_rng({seed}), stratified by module (population / drawn):",
        *(f"#   {m}: {sizes[m]} / {drawn[m]}" for m in sizes),
        f"#   total: {sum(sizes.values())} / {len(names)}",
        "# one name a line, in run order (a random permutation: any prefix is a random sample)",
    ]
    text = "\n".join([*header, *names]) + "\n"
    if "--write" in argv:
        sample_file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
