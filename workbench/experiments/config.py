"""Experiment files: TOML naming datasets, specs, backends, parameters and seeds.

.. code-block:: toml

    [experiment]
    name = "fault-detection"
    description = "Which stdlib properties catch which injected faults?"
    seeds = [1, 2, 3]                 # every generated dataset is made once per seed

    [[dataset]]
    name = "shop"
    traces = 300                      # otlspec gen options: traces, services, depth,
    services = 10                     # messaging, error_scale, format
    faults = "all"                    # or "orphan=10,cycle=5", or a table {orphan = 10}
    fault_rate = 0.4

    [[dataset]]
    name = "real"
    paths = ["datasets/real"]         # files or directories, relative to the TOML file

    [specs]
    files = ["stdlib", "specs/retries.otlspec"]   # relative to the TOML file, or stdlib

    [check]
    backends = ["reference"]          # every backend checks every dataset
    params = { skew = "50ms" }        # --param overrides

Paths are resolved against the experiment file's directory and, failing that, the current
directory (so ``datasets/real`` works from a checkout). :func:`load_config` validates
everything and raises :class:`ConfigError` with the offending key.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import OtlspecError

_GEN_KEYS = {"traces", "services", "depth", "messaging", "error_scale", "format", "seed",
             "faults", "fault_rate", "traces_per_file"}


class ConfigError(OtlspecError):
    """An invalid experiment file."""


@dataclass
class DatasetConfig:
    """A dataset: generated (``paths`` empty) or read from ``paths``."""

    name: str
    paths: list[str] = field(default_factory=list)
    traces: int = 200
    services: int = 10
    depth: int = 4
    messaging: bool = True
    error_scale: float = 1.0
    format: str = "otlp-json"
    seed: int | None = None  # fixed seed (else the experiment's seeds)
    faults: str = "none"
    fault_rate: float = 0.2
    traces_per_file: int = 1000

    @property
    def generated(self) -> bool:
        return not self.paths


@dataclass
class ExperimentConfig:
    """A parsed experiment file."""

    name: str
    description: str
    seeds: list[int]
    datasets: list[DatasetConfig]
    specs: list[str]
    backends: list[str]
    params: dict[str, str]
    source: str = ""
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("text")
        return out

    @property
    def sha256(self) -> str:
        """Hash of the experiment file's text (or of the parsed config when built in code):
        runs with the same hash are reruns of one experiment."""
        data = self.text or json.dumps({k: v for k, v in self.to_json().items()
                                        if k != "source"}, sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()


def _faults_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ",".join(f"{k}={int(v)}" for k, v in value.items())
    raise ConfigError(f"{where}: faults must be a string or a table of counts")


def _resolve(path: str, base: Path) -> str:
    if path == "stdlib" or path.startswith("stdlib."):
        return path
    for root in (base, Path.cwd()):
        candidate = (root / path)
        if candidate.exists():
            return str(candidate.resolve())
    raise ConfigError(f"{path}: no such file (looked in {base} and {Path.cwd()})")


def parse_config(text: str, source: str = "<experiment>") -> ExperimentConfig:
    """Parse and validate an experiment.

    Parameters
    ----------
    text
        The TOML text.
    source
        Its file name; relative paths are resolved against its folder (then the current
        directory).

    Returns
    -------
    ExperimentConfig

    Raises
    ------
    ConfigError
        A syntax error, a missing or unknown key, a file that does not exist.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: {err}") from None
    base = Path(source).resolve().parent if source != "<experiment>" else Path.cwd()
    exp = doc.get("experiment", {})
    if not isinstance(exp, dict) or "name" not in exp:
        raise ConfigError(f"{source}: [experiment] needs a name")
    seeds = exp.get("seeds", [0])
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds)):
        raise ConfigError(f"{source}: experiment.seeds must be a non-empty list of integers")
    datasets = []
    for i, d in enumerate(doc.get("dataset", [])):
        where = f"{source}: dataset[{i}]"
        if "name" not in d:
            raise ConfigError(f"{where} needs a name")
        unknown = set(d) - _GEN_KEYS - {"name", "paths"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        cfg = DatasetConfig(name=str(d["name"]))
        if "paths" in d:
            cfg.paths = [_resolve(str(p), base) for p in d["paths"]]
        for key in _GEN_KEYS & set(d):
            value = d[key]
            if key == "faults":
                value = _faults_text(value, where)
            setattr(cfg, key, value)
        if cfg.format not in ("otlp-json", "otlp-proto"):
            raise ConfigError(f"{where}: format must be otlp-json or otlp-proto")
        datasets.append(cfg)
    if not datasets:
        raise ConfigError(f"{source}: no [[dataset]]")
    if len({d.name for d in datasets}) != len(datasets):
        raise ConfigError(f"{source}: dataset names must be unique")
    specs = doc.get("specs", {}).get("files", ["stdlib"])
    check = doc.get("check", {})
    backends = check.get("backends", ["reference"])
    params = {str(k): str(v) for k, v in check.get("params", {}).items()}
    return ExperimentConfig(
        name=str(exp["name"]), description=str(exp.get("description", "")), seeds=seeds,
        datasets=datasets, specs=[_resolve(str(s), base) for s in specs],
        backends=[str(b) for b in backends], params=params, source=source, text=text)


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{path}: no such experiment file")
    return parse_config(p.read_text(encoding="utf-8"), str(p))
