"""A streaming robust random cut forest that can be stored as its points and rebuilt from them."""

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .rrcf_loader import load_rrcf


class Forest:
    """`trees` RRCF trees that all hold the latest `size` points (oldest forgotten first).

    rrcf's own serialisation stores every node (megabytes); the points alone are a few hundred
    kilobytes at most, and a tree built from them in one go has the same distribution as one
    grown point by point, the property that makes RRCF work on streams. `generation` (any
    counter) reseeds the trees on each rebuild so a restored forest is random yet reproducible.
    """

    def __init__(
        self,
        trees: int,
        size: int,
        seed: int,
        points: Iterable[list[float]] = (),
        generation: int = 0,
    ) -> None:
        """Build the trees over `points` (oldest first)."""
        self._size = size
        self._points: deque[tuple[int, list[float]]] = deque(enumerate(list(p) for p in points))
        self._next_index = len(self._points)
        self._trees = [
            _build_tree(
                [p for _, p in self._points],
                int(np.random.SeedSequence([seed, tree, generation]).generate_state(1)[0]),
            )
            for tree in range(trees)
        ]

    def __len__(self) -> int:
        """How many points each tree holds."""
        return len(self._points)

    def insert(self, point: list[float]) -> float:
        """Learn `point` (forgetting the oldest when full); return its mean CoDisp, the score."""
        index = self._next_index
        self.learn(point)
        return float(sum(tree.codisp(index) for tree in self._trees)) / len(self._trees)

    def learn(self, point: list[float]) -> None:
        """Add `point` to every tree, forgetting the oldest point when the trees are full."""
        if len(self._points) >= self._size:
            oldest, _ = self._points.popleft()
            for tree in self._trees:
                tree.forget_point(oldest)
        values = np.asarray(point)
        for tree in self._trees:
            tree.insert_point(values, index=self._next_index)
        self._points.append((self._next_index, point))
        self._next_index += 1

    def unlearn_newest(self) -> None:
        """Take the newest point back out, so an unusual window is scored but not learned."""
        newest, _ = self._points.pop()
        for tree in self._trees:
            tree.forget_point(newest)

    def to_state(self) -> list[list[float]]:
        """The points, oldest first: all a rebuild needs."""
        return [p for _, p in self._points]


def _build_tree(points: Sequence[list[float]], seed: int) -> Any:
    """An rrcf tree over `points`, labelled 0..n-1; built in one go when rrcf allows."""
    rrcf = load_rrcf()
    data = np.asarray(points, dtype=float)
    if len(points) > 1 and len(np.unique(data, axis=0)) > 1:
        return rrcf.RCTree(data, index_labels=np.arange(len(points)), random_state=seed)
    tree = rrcf.RCTree(random_state=seed)  # rrcf cannot batch-build fewer than two distinct points
    for index, values in enumerate(points):
        tree.insert_point(np.asarray(values), index=index)
    return tree
