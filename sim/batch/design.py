"""Sweeps and designs: which parameter points a batch plays, how many seeds each, and how each run is seeded.

A batch is fully described by a `BatchPlan`: the scenario (and its file hash), the parameters every run shares
(``--set``), the parameter points (a grid of ``--sweep`` values crossed with a Latin-hypercube or Sobol design over
``--range`` intervals), the number of replicates per point and the root seed. Run ``point * replicates + r`` is
seeded from ``SeedSequence(root).spawn(replicates)[r]``: every point sees the same seeds (common random numbers), so
differences between points are not seed noise. Everything is checked here, before any run starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.params import ParameterError, ParamSpec, check_value, parameter_specs, parse_assignment, resolve

DESIGNS = ("lhs", "sobol")
# Mixed into the root seed for the design's own random stream, so design points never share a stream with runs.
DESIGN_STREAM = 0x5EED_D351


class BatchError(ValueError):
    """A batch request that cannot be carried out; the message is one line for the user."""


def seed_for(root_seed: int, index: int | None) -> np.random.SeedSequence:
    """The seed of replicate ``index``: equal to ``SeedSequence(root).spawn(n)[index]`` for any n > index.

    ``None`` means a single game seeded with the root itself (`wargame run --seed N`).
    """
    if index is None:
        return np.random.SeedSequence(root_seed)
    return np.random.SeedSequence(root_seed, spawn_key=(index,))


def _spec(name: str) -> ParamSpec:
    specs = parameter_specs()
    if name not in specs:
        resolve({name: None})  # raises the "unknown parameter ...; did you mean" message
    return specs[name]


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """``name=v1,v2,...`` into the name and its checked, typed values."""
    name, sep, values = text.partition("=")
    name = name.strip()
    items = [v.strip() for v in values.split(",")]
    if not sep or not name or not values.strip() or any(not v for v in items):
        raise ParameterError(f"--sweep expects name=v1,v2,... with no empty values, got {text!r}")
    spec = _spec(name)
    if isinstance(spec.default, list):
        raise ParameterError(f"parameter {name} is a list; set it with --set, it cannot be swept")
    typed = [check_value(spec, v) for v in items]
    if len({json.dumps(v) for v in typed}) != len(typed):
        raise ParameterError(f"--sweep {name}: a value is repeated in {values!r}")
    return name, typed


def parse_range(text: str) -> tuple[str, float, float]:
    """``name=lo:hi`` into the name and its numeric bounds, both checked against the parameter's range."""
    name, sep, bounds = text.partition("=")
    name = name.strip()
    lo_text, colon, hi_text = bounds.partition(":")
    if not sep or not name or not colon:
        raise ParameterError(f"--range expects name=low:high, got {text!r}")
    spec = _spec(name)
    if isinstance(spec.default, bool) or not isinstance(spec.default, int | float):
        raise ParameterError(f"parameter {name} is not a number ({spec.default!r}); use --sweep for it")
    try:
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise ParameterError(f"--range {name}: expected two numbers low:high, got {bounds!r}") from None
    if not lo < hi:
        raise ParameterError(f"--range {name}: low must be below high, got {bounds!r}")
    check_value(spec, lo if isinstance(spec.default, float) else math.ceil(lo))
    check_value(spec, hi if isinstance(spec.default, float) else math.floor(hi))
    return name, lo, hi


def grid(sweeps: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the swept values, the first sweep varying slowest."""
    names = list(sweeps)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*sweeps.values())]


def design_points(method: str, ranges: dict[str, tuple[float, float]], samples: int,
                  root_seed: int) -> list[dict[str, Any]]:
    """``samples`` points spread over the ``ranges`` box by a scrambled Latin hypercube or Sobol sequence.

    Floats are rounded to 6 significant digits (readable tables, exact replays); integer parameters are rounded.
    """
    from scipy.stats import qmc

    if samples < 1:
        raise BatchError(f"--samples must be at least 1, got {samples}")
    if method == "sobol" and samples & (samples - 1):
        lower = 1 << (samples.bit_length() - 1)
        raise BatchError(f"--samples for a Sobol design must be a power of 2 (e.g. {lower} or {lower * 2}), "
                         f"got {samples}")
    rng = np.random.default_rng(np.random.SeedSequence([root_seed, DESIGN_STREAM]))
    make = qmc.LatinHypercube if method == "lhs" else qmc.Sobol
    try:
        engine = make(d=len(ranges), rng=rng)
    except TypeError:  # scipy < 1.15 names it seed
        engine = make(d=len(ranges), seed=rng)
    unit = engine.random(samples)
    specs = parameter_specs()
    points = []
    for row in unit:
        point: dict[str, Any] = {}
        for (name, (lo, hi)), u in zip(ranges.items(), row, strict=True):
            value = lo + float(u) * (hi - lo)
            if isinstance(specs[name].default, int):
                point[name] = int(min(math.floor(hi), max(math.ceil(lo), round(value))))
            else:
                point[name] = min(hi, max(lo, float(f"{value:.6g}")))
        points.append(point)
    return points


@dataclass(frozen=True)
class BatchPlan:
    """What a batch plays: scenario, shared parameters, parameter points, replicates per point and root seed."""

    scenario_path: str
    scenario_id: str
    scenario_hash: str
    base: dict[str, Any]
    sweep: dict[str, list[Any]]
    design: dict[str, Any] | None
    points: list[dict[str, Any]]
    replicates: int
    root_seed: int
    sim_version: str = field(default="")

    @property
    def total(self) -> int:
        return len(self.points) * self.replicates

    @property
    def parameter_names(self) -> list[str]:
        """The parameters given on the command line, in the order of the runs table's columns."""
        names = list(self.base)
        for point in self.points[:1]:
            names += [n for n in point if n not in names]
        return names

    def run_parameters(self, run: int) -> dict[str, Any]:
        return {**self.base, **self.points[run // self.replicates]}

    def locate(self, run: int) -> tuple[int, int]:
        """(parameter point, replicate = seed index) of a run id."""
        return divmod(run, self.replicates)

    def fingerprint(self) -> str:
        """A hash of everything that decides the runs' results; a resumed batch must match it."""
        data = {k: v for k, v in asdict(self).items() if k != "scenario_path"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def to_manifest(self) -> dict[str, Any]:
        return {
            "base": self.base, "sweep": self.sweep, "design": self.design, "points": self.points,
            "seeding": {
                "root_seed": self.root_seed, "replicates": self.replicates, "runs": self.total,
                "rule": "run = point * replicates + replicate; its seed is "
                        "numpy.random.SeedSequence(root_seed).spawn(replicates)[replicate], i.e. "
                        "SeedSequence(root_seed, spawn_key=(replicate,)). Every parameter point uses the same "
                        "seeds (common random numbers), so points differ by their parameters, not by seed noise.",
            },
        }


def make_plan(scenario: str, *, runs: int, seed: int, sets: list[str] | None = None,
              sweeps: list[str] | None = None, design: str | None = None, ranges: list[str] | None = None,
              samples: int | None = None) -> BatchPlan:
    """Check a batch request and turn it into a plan; raise BatchError, ParameterError or ScenarioError."""
    from sim import __version__
    from sim.scenario import find_scenario, parse_scenario, scenario_hash

    if runs < 1:
        raise BatchError(f"--runs must be at least 1, got {runs}")
    if seed < 0:
        raise BatchError(f"--seed must be 0 or more, got {seed}")
    path = find_scenario(scenario)
    sc = parse_scenario(path)
    specs = parameter_specs()

    base: dict[str, Any] = {}
    for text in sets or []:
        name, value = parse_assignment(text)
        resolve({name: value})
        base[name] = check_value(specs[name], value)
    sweep: dict[str, list[Any]] = {}
    for text in sweeps or []:
        name, values = parse_sweep(text)
        if name in sweep or name in base:
            raise BatchError(f"parameter {name} is given twice (in --set or --sweep); give it once")
        sweep[name] = values
    box: dict[str, tuple[float, float]] = {}
    for text in ranges or []:
        name, lo, hi = parse_range(text)
        if name in box or name in sweep or name in base:
            raise BatchError(f"parameter {name} is given twice (in --set, --sweep or --range); give it once")
        box[name] = (lo, hi)

    plan_design = None
    points = grid(sweep)
    if design is not None:
        if design not in DESIGNS:
            raise BatchError(f"--design must be one of {', '.join(DESIGNS)}, got {design!r}")
        if not box or samples is None:
            raise BatchError(f"--design {design} needs at least one --range name=low:high and --samples K")
        plan_design = {"method": design, "ranges": {n: list(b) for n, b in box.items()}, "samples": samples,
                       "seed": f"SeedSequence([root_seed, {DESIGN_STREAM}])"}
        drawn = design_points(design, box, samples, seed)
        points = [{**g, **d} for g in points for d in drawn]
    elif box or samples is not None:
        raise BatchError("--range and --samples need --design lhs or --design sobol")

    for point in points:
        resolve({**sc.parameters, **base, **point})
    return BatchPlan(scenario_path=str(Path(path).resolve()), scenario_id=sc.id,
                     scenario_hash=scenario_hash(path), base=base, sweep=sweep, design=plan_design,
                     points=points, replicates=runs, root_seed=seed, sim_version=__version__)
