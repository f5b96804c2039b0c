"""Tests of helpers.semi_supervised: label spreading, confidence selection, purity."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from helpers import semi_supervised as ssl


@pytest.fixture(scope="module")
def blobs():
    x, y = make_blobs(600, centers=4, cluster_std=0.6, random_state=0)
    labeled = np.array([np.flatnonzero(y == c)[:2] for c in range(4)]).ravel()
    return x.astype(np.float32), y, labeled


def spread(x, labeled, labels, n_neighbors=10, alpha=0.99, n_classes=None, n_iter=50):
    s = ssl.spreading_matrix(ssl.nearest_neighbors(x, n_neighbors)[0])
    return ssl.spread_on_graph(s, labeled, labels, alpha=alpha, n_classes=n_classes, n_iter=n_iter)


def test_spreading_recovers_blobs(blobs):
    x, y, labeled = blobs
    res = spread(x, labeled, y[labeled])
    assert res.labels.shape == y.shape and res.distributions.shape == (600, 4)
    assert np.mean(res.labels == y) > 0.95
    np.testing.assert_array_equal(res.labels[labeled], y[labeled])
    np.testing.assert_allclose(res.distributions.sum(1), 1, atol=1e-5)
    assert ((res.confidence >= 0.25 - 1e-6) & (res.confidence <= 1 + 1e-6)).all()


def test_spreading_beats_nearest_labels_on_moons():
    from sklearn.datasets import make_moons
    from sklearn.neighbors import KNeighborsClassifier

    x, y = make_moons(400, noise=0.05, random_state=0)
    labeled = np.array([np.flatnonzero(y == 0)[0], np.flatnonzero(y == 1)[0]])
    res = spread(x, labeled, y[labeled], n_neighbors=7, alpha=0.99, n_iter=1000)
    knn = KNeighborsClassifier(1).fit(x[labeled], y[labeled]).predict(x)
    assert np.mean(res.labels == y) > 0.95 > np.mean(knn == y) + 0.1


def test_spread_on_graph_reaches_the_closed_form(blobs):
    # F <- alpha S F + (1 - alpha) Y converges to F* = (1 - alpha) (I - alpha S)^-1 Y
    x, y, labeled = blobs
    s = ssl.spreading_matrix(ssl.nearest_neighbors(x[:300], n_neighbors=5)[0])
    lab = labeled[labeled < 300]
    y0 = np.zeros((300, 4))
    y0[lab, y[lab]] = 1.0
    for alpha in (0.5, 0.9):
        f_star = (1 - alpha) * np.linalg.solve(np.eye(300) - alpha * s.toarray(), y0)
        raw = ssl.spread_on_graph(s, lab, y[lab], alpha=alpha, n_iter=300, normalize_classes=False)
        np.testing.assert_allclose(raw.distributions, f_star / f_star.sum(1, keepdims=True),
                                   atol=1e-5)
        # class mass normalisation divides each column of F* by its total before the rows
        per_class = f_star / f_star.sum(0, keepdims=True)
        norm = ssl.spread_on_graph(s, lab, y[lab], alpha=alpha, n_iter=300)
        np.testing.assert_allclose(norm.distributions, per_class / per_class.sum(1, keepdims=True),
                                   atol=1e-5)
        expected = per_class.argmax(1)
        expected[lab] = y[lab]
        np.testing.assert_array_equal(norm.labels, expected)
    # a few iterations are not yet the limit: the test above would notice a missing step
    early = ssl.spread_on_graph(s, lab, y[lab], alpha=0.9, n_iter=3, normalize_classes=False)
    assert np.abs(early.distributions - f_star / f_star.sum(1, keepdims=True)).max() > 1e-3


def test_graph_space_and_purity(blobs):
    x, y, _ = blobs
    wide = np.hstack([x, np.zeros((600, 3))])
    z, zq = ssl.prepare_graph_space(wide[:500], n_components=2, x_query=wide[500:])
    assert z.shape == (500, 2) and zq.shape == (100, 2)
    assert ssl.prepare_graph_space(x, n_components=None)[0].shape == x.shape
    with pytest.raises(ValueError, match="features"):
        ssl.prepare_graph_space(x, 2, x_query=x[:, :1])
    assert ssl.knn_label_purity(x, y, 5) > 0.9
    rng = np.random.default_rng(0)
    assert ssl.knn_label_purity(x, rng.permutation(y), 5) < 0.5


def test_select_confident_per_class():
    conf = np.array([0.9, 0.1, 0.8, 0.2, 0.5, 0.6])
    pseudo = np.array([0, 0, 1, 1, 1, 1])
    kept = ssl.select_confident(conf, pseudo, keep=0.5)
    np.testing.assert_array_equal(kept, [0, 2, 5])
    np.testing.assert_array_equal(ssl.select_confident(conf, pseudo, keep=0.5, per_class=False),
                                  [0, 2, 5])
    assert len(ssl.select_confident(conf, pseudo, keep=1.0)) == 6


def test_accuracy_by_confidence():
    conf = np.linspace(0, 1, 100)
    y = np.zeros(100, int)
    pseudo = np.where(conf > 0.5, 0, 1)
    centres, acc, share = ssl.pseudo_label_accuracy_by_confidence(conf, pseudo, y, n_bins=2)
    np.testing.assert_allclose(acc, [0.0, 1.0])
    np.testing.assert_allclose(share.sum(), 1.0)
    assert centres[0] < centres[1]


def test_bad_input(blobs):
    x, y, labeled = blobs
    s = ssl.spreading_matrix(ssl.nearest_neighbors(x, n_neighbors=5)[0])
    with pytest.raises(ValueError, match="same length"):
        ssl.spread_on_graph(s, labeled, y[labeled][:-1])
    with pytest.raises(ValueError, match="alpha"):
        ssl.spread_on_graph(s, labeled, y[labeled], alpha=1.0)
    with pytest.raises(ValueError, match="n_iter"):
        ssl.spread_on_graph(s, labeled, y[labeled], n_iter=0)
    with pytest.raises(ValueError, match="n_neighbors"):
        ssl.nearest_neighbors(x, n_neighbors=600)
    with pytest.raises(ValueError, match="2-D"):
        ssl.nearest_neighbors(x[:, 0])
    with pytest.raises(ValueError, match="keep"):
        ssl.select_confident(np.ones(3), np.zeros(3, int), keep=0)
    with pytest.raises(ValueError, match="one label per row"):
        ssl.knn_label_purity(x, y[:-1])


def test_graph_spreading_matches_sklearn(blobs):
    x, y, labeled = blobs
    pool, query = ssl.nearest_neighbors(x[:500], n_neighbors=10, x_query=x[500:])
    assert pool.shape == (500, 10) and query.shape == (100, 10)
    assert not (pool == np.arange(500)[:, None]).any()  # a sample is not its own neighbour
    s = ssl.spreading_matrix(pool)
    assert s.shape == (500, 500)
    assert abs(s - s.T).max() < 1e-6  # symmetric
    lab = labeled[labeled < 500]
    res = ssl.spread_on_graph(s, lab, y[lab], n_classes=4)
    assert np.mean(res.labels == y[:500]) > 0.95
    # scikit-learn's LabelSpreading builds its kNN graph slightly differently (directed, with
    # itself as a neighbour), so the two agree on nearly every label, not all
    from sklearn.semi_supervised import LabelSpreading

    partial = np.full(500, -1)
    partial[lab] = y[lab]
    ref = LabelSpreading(kernel="knn", n_neighbors=10, alpha=0.99, max_iter=2000, tol=1e-6)
    assert np.mean(res.labels == ref.fit(x[:500], partial).transduction_) > 0.95
    pred = ssl.predict_from_neighbors(res.distributions, query)
    assert np.mean(pred == y[500:]) > 0.95
    raw = ssl.spread_on_graph(s, lab, y[lab], n_classes=4, normalize_classes=False)
    np.testing.assert_allclose(raw.distributions.sum(1), 1, atol=1e-5)


def test_graph_spreading_bad_input(blobs):
    x, y, labeled = blobs
    s = ssl.spreading_matrix(ssl.nearest_neighbors(x, n_neighbors=5)[0])
    with pytest.raises(ValueError, match="no label"):
        ssl.spread_on_graph(s, labeled[:2], y[labeled[:2]], n_classes=4)
    with pytest.raises(ValueError, match="alpha"):
        ssl.spread_on_graph(s, labeled, y[labeled], alpha=0)
    with pytest.raises(ValueError, match="integer position"):
        ssl.spread_on_graph(s, np.array([10_000]), np.array([0]))
    with pytest.raises(ValueError, match="features"):
        ssl.nearest_neighbors(x, 5, x_query=x[:, :1])
    with pytest.raises(ValueError, match="positions"):
        ssl.spreading_matrix(np.array([[3], [0]]))
    with pytest.raises(ValueError, match="rows of distributions"):
        ssl.predict_from_neighbors(np.ones((3, 2)), np.array([[5]]))


def held_out_correct(s, labeled, labels, candidates, n_classes, random_state=0):
    """The cross-validation that choose_alpha is meant to do, written out: correct held-out labels."""
    from sklearn.model_selection import StratifiedKFold

    correct = np.zeros(len(candidates))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=random_state)
    for fit, held in folds.split(labeled, labels):
        for i, alpha in enumerate(candidates):
            res = ssl.spread_on_graph(s, labeled[fit], labels[fit], n_classes=n_classes, alpha=alpha)
            correct[i] += np.sum(res.labels[labeled[held]] == labels[held])
    return correct


def test_choose_alpha_uses_only_the_labels(blobs):
    x, y, _ = blobs
    s = ssl.spreading_matrix(ssl.nearest_neighbors(x, n_neighbors=10)[0])
    labeled = np.array([np.flatnonzero(y == c)[:10] for c in range(4)]).ravel()
    candidates = (0.5, 0.9, 0.99)
    # the same graph, the same labeled images: only their labels differ
    true_labels = y[labeled]
    other_labels = np.random.default_rng(0).permutation(true_labels)
    chosen = {}
    for name, labels in (("true", true_labels), ("other", other_labels)):
        chosen[name] = ssl.choose_alpha(s, labeled, labels, candidates=candidates, n_classes=4)
        correct = held_out_correct(s, labeled, labels, candidates, 4)
        assert chosen[name] == candidates[int(np.argmax(correct))]  # the best held-out score
    assert chosen["true"] != chosen["other"]  # the labels alone changed alpha
    # the hidden labels of the rest of the pool change, the labeled ones do not: same alpha
    y_hidden = y.copy()
    rest = np.setdiff1d(np.arange(len(y)), labeled)
    y_hidden[rest] = np.random.default_rng(1).permutation(y[rest])
    assert (y_hidden != y).mean() > 0.5
    assert ssl.choose_alpha(s, labeled, y_hidden[labeled], candidates=candidates,
                            n_classes=4) == chosen["true"]
    one = np.array([np.flatnonzero(y == c)[0] for c in range(4)])
    assert ssl.choose_alpha(s, one, y[one], default=0.77) == 0.77
    with pytest.raises(ValueError, match="candidates"):
        ssl.choose_alpha(s, labeled, y[labeled], candidates=())
