"""``otlspec strategy ...`` and ``otlspec prove --strategy``: the recommender's command line.

:func:`register` adds ``strategy`` (``corpus``, ``label``, ``train``, ``eval``, ``cond``,
``list``) and, when ``prove`` is already registered, a ``--strategy`` option to each of its
actions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CORPUS_DIR = "datasets/obligations"
LABELS = "labels.jsonl.gz"


def register(subparsers: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``strategy`` to ``subparsers`` (and ``--strategy`` to ``prove``)."""
    p = subparsers.add_parser("strategy", help="the proof-strategy recommender",
                              description="Build the obligation corpus, label it with the "
                              "strategy portfolio, train and evaluate the selector.")
    acts = p.add_subparsers(dest="strategy_action", metavar="ACTION")
    acts.required = True

    c = acts.add_parser("corpus", help="generate the obligation corpus (SMT-LIB + manifest)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", default=CORPUS_DIR, metavar="DIR")
    c.add_argument("--limit", type=int, default=None, help="at most this many obligations")
    c.add_argument("--bounds", default="2,3,4,5,6", help="trace bounds N (comma-separated)")
    c.add_argument("--variant-bounds", default="2,4", help="N of the generated variants")

    lab = acts.add_parser("label", help="run every strategy on every obligation")
    lab.add_argument("--corpus", default=CORPUS_DIR, metavar="DIR")
    lab.add_argument("--out", default=None, metavar="FILE",
                     help=f"labels file (default CORPUS/{LABELS}; resumed if present)")
    lab.add_argument("--strategies", default="all", help="comma-separated names, or 'all'")
    lab.add_argument("--rlimit", type=int, default=None, help="Z3 resource limit per run")
    lab.add_argument("--timeout", type=float, default=None, help="seconds per run")
    lab.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                     help="stop after this long (a later run resumes)")
    lab.add_argument("--nice", type=int, default=10, help="niceness of the worker (10)")
    lab.add_argument("--reuse", default=None, metavar="LABELS",
                     help="keep the runs of these labels where the obligation's SMT-LIB is "
                     "unchanged (its hash in --reuse-manifest equals the corpus's)")
    lab.add_argument("--reuse-manifest", default=None, metavar="FILE",
                     help="the manifest.json the --reuse labels were made from")

    t = acts.add_parser("train", help="train the per-strategy cost regressors")
    t.add_argument("--labels", default=f"{CORPUS_DIR}/{LABELS}", metavar="FILE")
    t.add_argument("--out", default=None, metavar="FILE",
                   help="model file (default: the one shipped in the package)")
    t.add_argument("--seed", type=int, default=0)

    e = acts.add_parser("eval", help="held-out evaluation: default, SBS, VBS, selector")
    e.add_argument("--labels", default=f"{CORPUS_DIR}/{LABELS}", metavar="FILE")
    e.add_argument("--folds", type=int, default=5)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--format", choices=("text", "json"), default="text")
    e.add_argument("--output", "-o", metavar="FILE", help="also write the JSON here")

    cd = acts.add_parser("cond", help="learn a probe tree and print it as a Z3 tactic")
    cd.add_argument("--labels", default=f"{CORPUS_DIR}/{LABELS}", metavar="FILE")
    cd.add_argument("--depth", type=int, default=2, help="probe tests on a path (default 2)")
    cd.add_argument("--min-leaf", type=int, default=20,
                    help="obligations a split leaves on each side at least (default 20)")

    acts.add_parser("list", help="the strategies of the portfolio")

    handlers: dict[str, Callable[[argparse.Namespace], int]] = {"strategy": cmd_strategy}
    prove = subparsers.choices.get("prove")
    if prove is not None:
        from workbench.smt.cli import cmd_prove
        from workbench.strategy.select import add_prove_option, wrap_prove

        add_prove_option(prove)
        handlers["prove"] = wrap_prove(cmd_prove)
    return handlers


def cmd_strategy(args: argparse.Namespace) -> int:
    """Handler of ``otlspec strategy ACTION``."""
    action = {"corpus": _corpus, "label": _label, "train": _train, "eval": _eval,
              "cond": _cond, "list": _list}[args.strategy_action]
    try:
        return action(args)
    except (OSError, ValueError, KeyError, ImportError) as err:
        print(f"otlspec strategy: {err}", file=sys.stderr)
        return 2


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def _corpus(args: argparse.Namespace) -> int:
    from workbench.strategy.corpus import Config, generate, write

    cfg = Config(seed=args.seed, bounds=_ints(args.bounds),
                 variant_bounds=_ints(args.variant_bounds), limit=args.limit)
    started = time.perf_counter()
    obs, skipped = generate(cfg)
    path = write(obs, args.out, cfg, skipped)
    kinds: dict[str, int] = {}
    for ob in obs:
        kinds[ob.kind] = kinds.get(ob.kind, 0) + 1
    print(f"{len(obs)} obligations in {time.perf_counter() - started:.1f}s -> {path}")
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())))
    if skipped:
        print(f"  {len(skipped)} skipped (not encodable), e.g. {skipped[0]}")
    return 0


def _label(args: argparse.Namespace) -> int:
    from workbench.strategy.corpus import load, load_manifest
    from workbench.strategy.label import label_corpus
    from workbench.strategy.portfolio import DEFAULT_RLIMIT, DEFAULT_TIMEOUT, names

    strategies = names() if args.strategies == "all" else [
        s.strip() for s in args.strategies.split(",") if s.strip()]
    out = args.out or str(Path(args.corpus) / LABELS)
    total = load_manifest(args.corpus)["count"]
    count = [0]

    def progress(lab: Any) -> None:
        count[0] += 1
        if lab.disagreement:
            print(f"DISAGREEMENT on {lab.id}: " + ", ".join(
                f"{r.strategy}={r.status}" for r in lab.runs.values() if r.solved),
                file=sys.stderr)
        if count[0] % 50 == 0:
            print(f"  labelled {count[0]} (of {total})", file=sys.stderr)

    reuse = _reusable(args, load_manifest(args.corpus))
    labels = label_corpus(load(args.corpus), strategies, out, reuse=reuse,
                          rlimit=args.rlimit or DEFAULT_RLIMIT,
                          timeout=args.timeout or DEFAULT_TIMEOUT, niceness=args.nice,
                          budget=args.budget, progress=progress)
    bad = [lab.id for lab in labels if lab.disagreement]
    solved = {s: sum(1 for lab in labels if s in lab.runs and lab.runs[s].solved)
              for s in strategies}
    print(f"{len(labels)} of {total} obligations labelled -> {out}")
    print("  solved: " + ", ".join(f"{s} {n}" for s, n in solved.items()))
    if bad:
        print(f"  {len(bad)} DISAGREEMENT(S): " + ", ".join(bad[:10]))
        return 1
    print("  every answering strategy agrees on every obligation")
    return 0


def _reusable(args: argparse.Namespace, manifest: dict[str, Any]) -> dict[str, Any]:
    """The ``--reuse`` labels whose obligation hashes the same in both manifests."""
    import json

    from workbench.strategy.label import read_labels

    if not args.reuse:
        return {}
    if not args.reuse_manifest:
        raise SystemExit("otlspec strategy label: --reuse needs --reuse-manifest")
    old = json.loads(Path(args.reuse_manifest).read_text(encoding="utf-8"))
    before = {m["id"]: m["sha256"] for m in old["obligations"]}
    now = {m["id"]: m["sha256"] for m in manifest["obligations"]}
    same = {i for i, h in now.items() if before.get(i) == h}
    if old.get("z3_version") != manifest.get("z3_version"):
        same = set()
    kept = {lab.id: lab for lab in read_labels(args.reuse) if lab.id in same}
    print(f"  reusing the runs of {len(kept)} unchanged obligations (of {len(now)})",
          file=sys.stderr)
    return kept


def _train(args: argparse.Namespace) -> int:
    from workbench.strategy.label import read_labels
    from workbench.strategy.model import MODEL_PATH, train

    labels = read_labels(args.labels)
    if not labels:
        raise ValueError(f"{args.labels}: no labels (run `otlspec strategy label`)")
    model = train(labels, seed=args.seed)
    out = Path(args.out) if args.out else MODEL_PATH
    model.save(out)
    print(f"trained on {len(labels)} obligations, {len(model.strategies)} strategies -> {out} "
          f"({out.stat().st_size // 1024} KiB)")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from workbench.strategy.evaluate import evaluate, render
    from workbench.strategy.label import read_labels

    labels = read_labels(args.labels)
    if not labels:
        raise ValueError(f"{args.labels}: no labels (run `otlspec strategy label`)")
    report = evaluate(labels, folds=args.folds, seed=args.seed)
    text = json.dumps(report, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    print(text if args.format == "json" else render(report))
    return 0


def _cond(args: argparse.Namespace) -> int:
    from workbench.strategy.cond import learn, simulate
    from workbench.strategy.evaluate import cond_candidates
    from workbench.strategy.label import read_labels
    from workbench.strategy.model import cost

    labels = read_labels(args.labels)
    if not labels:
        raise ValueError(f"{args.labels}: no labels (run `otlspec strategy label`)")
    if args.depth < 0 or args.min_leaf < 1:
        raise ValueError("--depth must be at least 0 and --min-leaf at least 1")
    names = cond_candidates(sorted({s for lab in labels for s in lab.runs}))
    tree = learn(labels, names, args.depth, args.min_leaf)
    n = len(labels)
    mean = {s: sum(cost(lab, s) for lab in labels) / n for s in names}
    best = min(names, key=lambda s: mean[s])
    tree_cost = sum(simulate(tree, lab) for lab in labels) / n
    print(tree if isinstance(tree, str) else tree.render())
    print(f"tactic: {tree if isinstance(tree, str) else tree.tactic()}")
    print(f"on {n} training labels: PAR-2 {tree_cost:,.0f} rlimit (mean) against "
          f"{mean[best]:,.0f} for the best single leaf strategy ({best}); held-out figures: "
          "`otlspec strategy eval` (row cond)")
    return 0


def _list(args: argparse.Namespace) -> int:
    from workbench.strategy.portfolio import PORTFOLIO

    for s in PORTFOLIO:
        config = s.tactic or "(z3 default)"
        if s.params:
            config += " " + " ".join(f"{k}={v}" for k, v in s.params.items())
        print(f"{s.name:15} {config}\n{'':15} {s.description}")
    return 0
