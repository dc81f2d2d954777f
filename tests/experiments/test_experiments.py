"""Experiment files, runs, the run index, reproduction, step-by-step and show."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.experiments import store
from workbench.experiments.cli import run, show
from workbench.experiments.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]

TOML = """
[experiment]
name = "tiny"
description = "a small experiment for the tests"
seeds = [1, 2]

[[dataset]]
name = "gen"
traces = 30
faults = "orphan=2,pii_leak=2,retry_storm=1"

[[dataset]]
name = "otlp"
paths = ["{root}/datasets/real/opentelemetry-proto/trace.json"]

[specs]
files = ["stdlib.structure", "stdlib.privacy", "{root}/experiments/specs/retries.otlspec"]

[check]
backends = ["reference"]
params = {{ max_retries = "3" }}
"""


@pytest.fixture()
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TOML.format(root=ROOT))
    return path


def test_config_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a name"):
        parse_config("[experiment]\n")
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config('[experiment]\nname="x"\n[[dataset]]\nname="d"\ntracez=3\n')
    with pytest.raises(ConfigError, match="no \\[\\[dataset\\]\\]"):
        parse_config('[experiment]\nname="x"\n')
    with pytest.raises(ConfigError, match="no such file"):
        parse_config('[experiment]\nname="x"\n[[dataset]]\nname="d"\npaths=["nope"]\n')
    with pytest.raises(ConfigError, match="no such experiment file"):
        load_config(tmp_path / "missing.toml")
    cfg = parse_config('[experiment]\nname="x"\n[[dataset]]\nname="d"\n'
                       'faults={orphan=3, cycle=1}\n')
    assert cfg.datasets[0].faults == "orphan=3,cycle=1" and cfg.seeds == [0]


def test_shipped_experiment_parses() -> None:
    cfg = load_config(ROOT / "experiments" / "fault-detection.toml")
    assert cfg.name == "fault-detection" and len(cfg.seeds) >= 2
    assert [d.name for d in cfg.datasets] == ["shop", "real"]


def _metrics(runs: Path, run_id: str) -> list[tuple]:
    return [tuple(v for k, v in row.items() if k != "run_id")
            for row in store.metrics(runs, run_id)]


def test_run_records_everything_and_reruns_reproduce(experiment: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    out = io.StringIO()
    assert run(str(experiment), str(runs), run_id="first", stdout=out) == 0
    assert "fault class" in out.getvalue() and "retry_storm" in out.getvalue()
    folder = runs / "first"
    for name in ("experiment.toml", "config.json", "environment.json", "results.json",
                 "summary.txt"):
        assert (folder / name).is_file(), name
    env = json.loads((folder / "environment.json").read_text())
    assert env["packages"]["numpy"] and env["python"]
    results = json.loads((folder / "results.json").read_text())
    assert [d["key"] for d in results["datasets"]] == ["gen-s1", "gen-s2", "otlp"]
    assert list((folder / "plots").glob("*.png"))
    assert (folder / "data" / "gen-s1" / "labels.jsonl").is_file()
    recall = {r["class"]: r["recall"] for r in results["summary"]}
    assert recall["orphan"] == recall["pii_leak"] == recall["retry_storm"] == 1.0
    con = sqlite3.connect(runs / "index.sqlite")
    assert con.execute("SELECT status FROM runs WHERE id='first'").fetchone() == ("ok",)
    con.close()
    assert run(str(experiment), str(runs), run_id="second", stdout=io.StringIO()) == 0
    assert _metrics(runs, "first") == _metrics(runs, "second")
    assert len(_metrics(runs, "first")) > 20


def test_step_waits_for_enter_and_can_stop(experiment: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    out = io.StringIO()
    assert run(str(experiment), str(runs), run_id="stepped", step=True,
               stdin=io.StringIO("\n\n\n\n"), stdout=out) == 0
    text = out.getvalue()
    for k, stage in enumerate(("load", "compile", "check", "evaluate", "report"), 1):
        assert f"== stage {k}/5: {stage} ==" in text
    assert text.count("press Enter") == 4
    out = io.StringIO()
    assert run(str(experiment), str(runs), run_id="stopped", step=True,
               stdin=io.StringIO("\nq\n"), stdout=out) == 0  # q is not a failure
    assert "stopped after compile" in out.getvalue()
    status = {r["id"]: r["status"] for r in store.runs(runs)}
    assert status == {"stepped": "ok", "stopped": "stopped"}


def test_show_and_cli(experiment: Path, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    assert main(["experiment", "step", str(experiment), "--runs", str(runs), "--yes",
                 "--id", "cli"]) == 0
    capsys.readouterr()
    out = io.StringIO()
    assert show("latest", str(runs), stdout=out) == 0
    assert "run cli: ok" in out.getvalue() and "dataset gen" in out.getvalue()
    assert main(["experiment", "show", "--runs", str(runs), "--list"]) == 0
    assert "cli" in capsys.readouterr().out
    assert main(["experiment", "show", "cl", "--runs", str(runs), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["id"] == "cli"
    assert main(["experiment", "show", "nope", "--runs", str(runs)]) == 2
    assert main(["experiment", "show", "--runs", str(tmp_path / "empty")]) == 2
