"""The selector: a cost model per strategy, learned from labels, shipped as plain data.

As in MachSMT, the model regresses each strategy's cost on an obligation's features and the
selector picks the strategy of least predicted cost. The cost is PAR-2 in Z3's deterministic
resource units: the ``rlimit`` count when the strategy answers, twice the resource limit when it
does not. One multi-output scikit-learn random forest predicts ``log10`` of every strategy's
cost at once (features ``log1p``-scaled).

scikit-learn is needed only to train (the ``strategy`` extra). The trained forest is exported
to a small JSON file of arrays (:data:`MODEL_PATH`, shipped in the package) and evaluated by
the few lines of :meth:`CostModel.predict`, so choosing a strategy at ``otlspec prove`` time
needs neither scikit-learn nor pickle, and a model trained with one scikit-learn version loads
with any.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.strategy.features import FEATURES, vector
from workbench.strategy.label import Label
from workbench.strategy.portfolio import DEFAULT_RLIMIT

#: The model shipped with the package.
MODEL_PATH = Path(__file__).with_name("model.json.gz")
MODEL_VERSION = 1


def cost(label: Label, strategy: str, rlimit: int = DEFAULT_RLIMIT) -> float:
    """PAR-2 cost in resource units: the count if answered, else twice the limit."""
    run = label.runs.get(strategy)
    if run is None or not run.solved or run.rlimit > rlimit:
        return 2.0 * rlimit
    return float(max(run.rlimit, 1))


def _x(values: Mapping[str, float], names: Sequence[str]) -> list[float]:
    return [math.log1p(max(v, 0.0)) for v in vector(values, names)]


@dataclass
class Tree:
    """One regression tree as arrays (sklearn's ``tree_`` layout)."""

    feature: list[int]
    threshold: list[float]
    left: list[int]
    right: list[int]
    value: list[list[float]]  # per node: one value per strategy

    def leaf_path(self, x: Sequence[float]) -> list[int]:
        """Nodes from the root to the leaf of ``x``."""
        node, path = 0, [0]
        while self.left[node] >= 0:
            node = self.left[node] if x[self.feature[node]] <= self.threshold[node] \
                else self.right[node]
            path.append(node)
        return path


@dataclass
class CostModel:
    """Predicted ``log10`` PAR-2 cost of each strategy, from features."""

    strategies: list[str]
    features: list[str]
    trees: list[Tree]
    rlimit: int
    trained_on: int
    importances: dict[str, float]

    def predict(self, values: Mapping[str, float]) -> dict[str, float]:
        """``log10`` predicted cost per strategy."""
        x = _x(values, self.features)
        acc = [0.0] * len(self.strategies)
        for t in self.trees:
            leaf = t.leaf_path(x)[-1]
            for k, v in enumerate(t.value[leaf]):
                acc[k] += v
        return {s: acc[k] / len(self.trees) for k, s in enumerate(self.strategies)}

    def choose(self, values: Mapping[str, float]) -> str:
        """The strategy of least predicted cost."""
        pred = self.predict(values)
        return min(self.strategies, key=lambda s: (pred[s], self.strategies.index(s)))

    def why(self, values: Mapping[str, float], chosen: str, baseline: str = "default",
            top: int = 3) -> list[tuple[str, float]]:
        """Features that most lowered ``chosen``'s predicted cost relative to ``baseline``.

        Decision-path contributions (the change of the predicted difference at each split,
        attributed to the split's feature), summed over the trees; in ``log10`` units.
        """
        if baseline not in self.strategies or chosen not in self.strategies:
            return []
        a, b = self.strategies.index(chosen), self.strategies.index(baseline)
        x = _x(values, self.features)
        contrib: dict[str, float] = {}
        for t in self.trees:
            path = t.leaf_path(x)
            for parent, child in itertools.pairwise(path):
                delta = ((t.value[child][b] - t.value[child][a])
                         - (t.value[parent][b] - t.value[parent][a]))
                name = self.features[t.feature[parent]]
                contrib[name] = contrib.get(name, 0.0) + delta / len(self.trees)
        ranked = sorted(contrib.items(), key=lambda kv: -kv[1])
        return [(k, v) for k, v in ranked[:top] if v > 0]

    def to_json(self) -> dict[str, Any]:
        """The model as plain data."""
        return {"version": MODEL_VERSION, "strategies": self.strategies,
                "features": self.features, "rlimit": self.rlimit,
                "trained_on": self.trained_on, "importances": self.importances,
                "trees": [{"feature": t.feature, "threshold": t.threshold, "left": t.left,
                           "right": t.right, "value": t.value} for t in self.trees]}

    def save(self, path: str | Path) -> None:
        """Write the model (gzipped JSON)."""
        data = json.dumps(self.to_json(), separators=(",", ":")).encode()
        Path(path).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> CostModel:
        """Read a model written by :meth:`save`.

        Raises
        ------
        ValueError
            When the file is of another model version or names features this version does
            not compute (retrain with ``otlspec strategy train``).
        """
        d = json.loads(gzip.decompress(Path(path).read_bytes()))
        if d.get("version") != MODEL_VERSION or not set(d["features"]) <= set(FEATURES):
            raise ValueError(f"{path}: a model of another version or feature set; retrain "
                             "it with `otlspec strategy train`")
        trees = [Tree(t["feature"], t["threshold"], t["left"], t["right"], t["value"])
                 for t in d["trees"]]
        return cls(d["strategies"], d["features"], trees, d["rlimit"], d["trained_on"],
                   d["importances"])


def train(labels: Sequence[Label], strategies: Sequence[str] | None = None, seed: int = 0,
          trees: int = 24, depth: int = 8, rlimit: int = DEFAULT_RLIMIT,
          features: Sequence[str] = FEATURES) -> CostModel:
    """Fit the cost model on ``labels`` (needs scikit-learn: ``pip install 'otlspec[strategy]'``).

    ``features`` are the inputs (default :data:`~workbench.strategy.features.FEATURES`: the IR
    counts, kind and N plus Z3's probes on the goal, which the shipped model uses because on
    the held-out families they pay for their cost;
    :data:`~workbench.strategy.features.SELECTOR_FEATURES` is the set known before any
    encoding).

    Raises
    ------
    ImportError
        When scikit-learn is not installed.
    """
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError as err:  # only training needs it
        raise ImportError("training the strategy model needs scikit-learn: "
                          "pip install 'otlspec[strategy]'") from err
    import numpy as np

    names = list(strategies) if strategies else sorted(
        {s for lab in labels for s in lab.runs}, key=_portfolio_order)
    feats = list(features)
    X = np.array([_x(lab.features, feats) for lab in labels])
    logs = np.array([[math.log10(cost(lab, s, rlimit)) for s in names] for lab in labels])
    # regret targets: each strategy's log cost over the obligation's best. The scale of an
    # obligation (how hard it is for every strategy) dominates raw costs and says nothing
    # about which strategy to pick; the forest splits on what differs between strategies
    Y = logs
    forest = RandomForestRegressor(n_estimators=trees, max_depth=depth, min_samples_leaf=3,
                                   max_features=0.5, random_state=seed, n_jobs=1)
    # weighted by the obligation's best cost: PAR-2 is a mean of resource counts, so a
    # choice matters in proportion to the work at stake
    forest.fit(X, Y, sample_weight=10 ** logs.min(axis=1))
    out = []
    for est in forest.estimators_:
        t = est.tree_
        value = t.value.reshape(t.node_count, -1)
        out.append(Tree([int(f) for f in t.feature],
                        [round(float(v), 6) for v in t.threshold],
                        [int(v) for v in t.children_left], [int(v) for v in t.children_right],
                        [[round(float(v), 4) for v in row] for row in value]))
    importances = {feats[i]: round(float(v), 5)
                   for i, v in enumerate(forest.feature_importances_) if v > 0}
    return CostModel(names, feats, out, rlimit, len(labels), importances)


def _portfolio_order(name: str) -> int:
    from workbench.strategy.portfolio import names

    order = names()
    return order.index(name) if name in order else len(order)


__all__ = ["MODEL_PATH", "CostModel", "Tree", "cost", "train"]
