import numpy as np
import pytest
from sklearn.datasets import make_blobs

from helpers import clustering


@pytest.fixture
def blobs():
    x, y = make_blobs(n_samples=300, centers=4, n_features=6, cluster_std=0.5, random_state=0)
    return x.astype(np.float32), y


def test_perfect_permutation_scores_one_on_every_metric():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=500)
    perm = rng.permutation(10) + 100  # other names, even outside 0..9
    scores = clustering.clustering_scores(y, perm[y])
    for key in ("acc", "nmi", "ari", "purity"):
        assert scores[key] == pytest.approx(1.0), key
    assert scores["k"] == 10
    assert clustering.direct_accuracy(y, perm[y]) == 0.0


def test_known_small_case():
    y_true = np.array([0, 0, 0, 1, 1, 1])
    y_pred = np.array([1, 1, 0, 0, 0, 0])
    # best matching: cluster 1 -> class 0 (2 right), cluster 0 -> class 1 (3 right)
    assert clustering.cluster_accuracy(y_true, y_pred) == pytest.approx(5 / 6)
    assert clustering.match_clusters(y_true, y_pred) == {0: 1, 1: 0}
    assert clustering.purity(y_true, y_pred) == pytest.approx(5 / 6)
    assert clustering.direct_accuracy(y_true, y_pred) == pytest.approx(1 / 6)
    counts, classes, clusters = clustering.contingency(y_true, y_pred)
    assert counts.tolist() == [[1, 2], [3, 0]]  # rows: classes, columns: clusters
    assert classes.tolist() == [0, 1] and clusters.tolist() == [0, 1]


def test_contingency_is_classes_by_clusters_like_sklearn():
    # three classes, two clusters with other names: the shape alone tells the orientation
    from sklearn.metrics.cluster import contingency_matrix

    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([20, 20, 10, 20, 10, 10, 10])
    counts, classes, clusters = clustering.contingency(y_true, y_pred)
    assert counts.shape == (3, 2)
    assert classes.tolist() == [0, 1, 2] and clusters.tolist() == [10, 20]
    np.testing.assert_array_equal(counts, contingency_matrix(y_true, y_pred))
    for i, c in enumerate(classes):
        for j, k in enumerate(clusters):
            assert counts[i, j] == np.sum((y_true == c) & (y_pred == k))
    # each class's row sums to its size; each cluster's column to the cluster's size
    assert counts.sum(axis=1).tolist() == [2, 2, 3]
    assert counts.sum(axis=0).tolist() == [4, 3]


def test_hungarian_beats_majority_when_two_clusters_share_a_class():
    # clusters 0 and 1 are both mostly class 0; one-to-one matching must give one of them class 1
    y_true = np.array([0, 0, 0, 1, 0, 0, 1, 1])
    y_pred = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    one = clustering.match_clusters(y_true, y_pred)
    many = clustering.match_clusters(y_true, y_pred, many_to_one=True)
    assert sorted(one.values()) == [0, 1]
    assert many == {0: 0, 1: 0}
    assert clustering.cluster_accuracy(y_true, y_pred) == pytest.approx(5 / 8)
    assert clustering.purity(y_true, y_pred) == pytest.approx(5 / 8)


def test_overclustering_purity_one_accuracy_limited():
    y = np.repeat(np.arange(2), 4)
    singletons = np.arange(8)
    assert clustering.purity(y, singletons) == 1.0
    assert clustering.cluster_accuracy(y, singletons) == pytest.approx(2 / 8)
    mapping = clustering.match_clusters(y, singletons)
    assert len(mapping) == 2
    named = clustering.relabel(singletons, mapping)
    assert (named == -1).sum() == 6


def test_relabel_translates_ids():
    out = clustering.relabel([3, 3, 5], {3: 0, 5: 1})
    assert out.tolist() == [0, 0, 1]


@pytest.mark.parametrize(
    "y_true, y_pred, message",
    [
        ([0, 1, 2], [0, 1], "lengths 3 and 2"),
        ([], [], "empty"),
        ([0.0, 1.0], [0, 1], "integer labels"),
        ([0, 1], ["a", "b"], "integer labels"),
        ([True, False], [0, 1], "integer labels"),
        ([[0, 1]], [[0, 1]], "1-D"),
    ],
)
def test_bad_labels(y_true, y_pred, message):
    for fn in (clustering.cluster_accuracy, clustering.purity, clustering.clustering_scores,
               clustering.match_clusters, clustering.direct_accuracy):
        with pytest.raises(ValueError, match=message):
            fn(y_true, y_pred)


@pytest.mark.parametrize("k", [0, -3, 2.5, True, None])
def test_bad_k(blobs, k):
    x, _ = blobs
    with pytest.raises(ValueError, match="positive integer"):
        clustering.fit_kmeans(x, k)


def test_bad_x():
    with pytest.raises(ValueError, match="empty"):
        clustering.fit_kmeans(np.zeros((0, 3)), 2)
    with pytest.raises(ValueError, match="2-D"):
        clustering.fit_kmeans(np.zeros(5), 2)
    with pytest.raises(ValueError, match="larger than the number of samples"):
        clustering.fit_kmeans(np.zeros((3, 2)), 5)
    with pytest.raises(ValueError, match="pca_components"):
        clustering.fit_kmeans(np.zeros((10, 4)), 2, pca_components=0)


@pytest.mark.parametrize("options", [{}, {"minibatch": True}, {"pca_components": 3}])
def test_kmeans_finds_blobs_and_is_repeatable(blobs, options):
    x, y = blobs
    a = clustering.kmeans_labels(x, 4, random_state=1, n_init=3, **options)
    b = clustering.kmeans_labels(x, 4, random_state=1, n_init=3, **options)
    assert np.array_equal(a, b)
    assert a.dtype == np.int64 and a.shape == y.shape
    assert clustering.cluster_accuracy(y, a) > 0.95


def test_kmeans_flattens_images():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 4, 4), dtype=np.uint8)
    model = clustering.fit_kmeans(images, 3, n_init=1)
    assert model.predict(images.reshape(20, -1).astype(np.float32)).shape == (20,)


def test_metrics_table_and_sweep(blobs):
    x, y = blobs
    table = clustering.metrics_table(y, {"truth": y, "one": np.zeros_like(y)},
                                     seconds={"truth": 0.5})
    assert table.row("truth")["acc"] == 1.0
    assert table.row("one")["k"] == 1 and table.row("one")["nmi"] == pytest.approx(0.0)
    assert "seconds" in table.columns and np.isnan(table.column("seconds")[1])
    named = clustering.metrics_table(y, {"truth": y}, seconds={"truth": 0.5},
                                     columns=("method", "acc", "seconds"))
    assert named.columns == ["method", "acc", "seconds"]  # not a second "seconds" column
    assert named.row("truth")["seconds"] == 0.5
    assert "<table" in table._repr_html_() and "padding" in table._repr_html_()
    assert "| method" in table.to_markdown()
    assert "truth" in repr(table)
    with pytest.raises(KeyError):
        table.row("missing")
    with pytest.raises(ValueError, match="empty"):
        clustering.metrics_table(y, {})

    sweep = clustering.sweep_n_clusters(x, y, (4, 20), n_init=2)
    purities = sweep.column("purity")
    accs = sweep.column("acc")
    assert purities[1] >= purities[0] - 1e-9 and accs[1] < accs[0]
    with pytest.raises(ValueError, match="same length"):
        clustering.sweep_n_clusters(x, y[:5], (4,))
    with pytest.raises(ValueError, match="ks is empty"):
        clustering.sweep_n_clusters(x, y, ())


# --- the clustering figures appended to helpers/plotting.py ------------------------------------
def test_clustering_figures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers import plotting

    counts = np.array([[5, 1], [0, 7], [2, 2]])
    fig = plotting.contingency_heatmap(counts, ["c0", "c1", "c2"], ["a", "b"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["5", "1", "0", "7", "2", "2"]
    plt.close(fig)
    with pytest.raises(ValueError, match="row labels"):
        plotting.contingency_heatmap(counts, ["c0"], ["a", "b"])

    rng = np.random.default_rng(0)
    emb, lab = rng.normal(size=(40, 2)), np.repeat(np.arange(4), 10)
    fig = plotting.embedding_scatter(emb, lab, names=list("abcd"), title="t")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == list("abcd")
    plt.close(fig)
    fig = plotting.embedding_scatter(emb, np.arange(40))  # many labels: no legend
    assert fig.axes[0].get_legend() is None
    plt.close(fig)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plotting.embedding_scatter(rng.normal(size=(40, 3)), lab)
    with pytest.raises(ValueError, match="same length"):
        plotting.embedding_scatter(emb, lab[:5])
    with pytest.raises(ValueError, match="names"):
        plotting.embedding_scatter(emb, lab, names=["a"])

    fig = plotting.scores_against_k([10, 50], {"purity": [0.5, 0.7], "acc": [0.5, 0.3]})
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="values for 2"):
        plotting.scores_against_k([10, 50], {"purity": [0.5]})
    with pytest.raises(ValueError, match="empty"):
        plotting.scores_against_k([10], {})
