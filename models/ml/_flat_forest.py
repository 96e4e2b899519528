"""IsolationForest scoring in a handful of numpy operations.

scikit-learn scores an IsolationForest one tree at a time through joblib: about 0.8 ms of
Python per tree on this machine, so 100 trees cost ~80 ms per call whatever the batch size.
Here every tree's nodes live in one flat array and all rows walk all trees together, one tree
level per step. The result equals ``-forest.score_samples(X)`` (a test holds it to that); it
relies on the forest's per-leaf path lengths, which scikit-learn keeps since 1.4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length


@dataclass(frozen=True)
class FlatForest:
    roots: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf_depth: np.ndarray
    denominator: float
    max_depth: int

    @classmethod
    def from_forest(cls, forest: IsolationForest, n_features: int) -> FlatForest | None:
        """None when the forest subsamples features (then scikit-learn scores it)."""
        if forest._max_features != n_features:
            return None
        trees = [est.tree_ for est in forest.estimators_]
        offsets = np.cumsum([0] + [t.node_count for t in trees[:-1]]).astype(np.intp)
        left, right, depth = [], [], []
        for i, (tree, off) in enumerate(zip(trees, offsets, strict=True)):
            leaf = tree.children_left == -1
            left.append(np.where(leaf, -1, tree.children_left + off))
            right.append(np.where(leaf, -1, tree.children_right + off))
            depth.append(
                forest._decision_path_lengths[i] + forest._average_path_length_per_tree[i] - 1.0
            )
        return cls(
            roots=offsets,
            feature=np.concatenate([np.maximum(t.feature, 0) for t in trees]).astype(np.intp),
            threshold=np.concatenate([t.threshold for t in trees]),
            left=np.concatenate(left).astype(np.intp),
            right=np.concatenate(right).astype(np.intp),
            leaf_depth=np.concatenate(depth),
            denominator=float(len(trees) * _average_path_length([forest._max_samples])[0]),
            max_depth=max(t.max_depth for t in trees),
        )

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """``-forest.score_samples(X)``: higher is more anomalous."""
        Xf = np.asarray(X, dtype=np.float32).astype(np.float64)
        rows = np.arange(Xf.shape[0])[:, None]
        node = np.broadcast_to(self.roots, (Xf.shape[0], len(self.roots))).copy()
        for _ in range(self.max_depth):
            inner = self.left[node] != -1
            if not inner.any():
                break
            go_left = Xf[rows, self.feature[node]] <= self.threshold[node]
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(inner, step, node)
        depths = self.leaf_depth[node].sum(axis=1)
        if self.denominator == 0:
            return np.ones(Xf.shape[0])
        return 2.0 ** (-depths / self.denominator)  # type: ignore[no-any-return]
