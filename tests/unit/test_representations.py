import numpy as np
import pytest
from sklearn.datasets import make_blobs

from helpers import clustering, config, representations


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))


@pytest.fixture
def blobs():
    x, y = make_blobs(n_samples=200, centers=3, n_features=8, cluster_std=0.6, random_state=0)
    x = (x - x.min()) / (x.max() - x.min())  # into [0, 1], like pixels
    return x.astype(np.float32), y


def test_pca_codes_shape_and_bad_input(blobs):
    x, _ = blobs
    assert representations.pca_codes(x, 3).shape == (200, 3)
    assert representations.pca_codes(x, 100).shape == (200, 8)  # capped at the dimension
    with pytest.raises(ValueError, match="n_components"):
        representations.pca_codes(x, 0)
    with pytest.raises(ValueError, match="2-D"):
        representations.pca_codes(np.zeros((2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="floats"):
        representations.pca_codes(np.zeros((4, 3), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        representations.pca_codes(np.zeros((0, 3), np.float32))


def test_gmm_labels_find_blobs(blobs):
    x, y = blobs
    labels = representations.gmm_labels(x, 3, random_state=0)
    assert clustering.cluster_accuracy(y, labels) > 0.95
    with pytest.raises(ValueError, match="positive integer"):
        representations.gmm_labels(x, 0)
    with pytest.raises(ValueError, match="larger than"):
        representations.gmm_labels(x[:2], 3)


def test_autoencoder_trains_caches_and_codes(blobs):
    x, _ = blobs
    kwargs = dict(code_dim=2, hidden=(16,), epochs=2, batch_size=64, random_state=0, tag="test",
                  verbose=False)
    ae, enc, info = representations.train_autoencoder(x, **kwargs)
    assert not info["cached"] and info["seconds"] > 0
    codes = representations.autoencoder_codes(enc, x)
    assert codes.shape == (200, 2) and codes.dtype == np.float32
    ae2, enc2, info2 = representations.train_autoencoder(x, **kwargs)
    assert info2["cached"] and info2["seconds"] == 0.0
    assert info2["train_seconds"] == pytest.approx(info["seconds"])
    np.testing.assert_allclose(representations.autoencoder_codes(enc2, x), codes, rtol=1e-5, atol=1e-6)
    _, _, info3 = representations.train_autoencoder(x, **{**kwargs, "epochs": 1})
    assert not info3["cached"]  # a different recipe is a different cache entry
    with pytest.raises(ValueError, match="epochs"):
        representations.train_autoencoder(x, **{**kwargs, "epochs": -1})


def test_umap_and_n2d_tiny_run(blobs):
    x, y = blobs
    emb = representations.umap_embedding(x, n_components=2, n_neighbors=10, random_state=0,
                                          n_epochs=50, tag="test")
    assert emb.shape == (200, 2) and emb.dtype == np.float32
    again = representations.umap_embedding(x, n_components=2, n_neighbors=10, random_state=0,
                                            n_epochs=50, tag="test")
    np.testing.assert_array_equal(emb, again)  # from the cache
    emb3 = representations.umap_embedding(x, n_components=3, n_neighbors=10, min_dist=0.0,
                                           random_state=0, tag="test")
    assert emb3.shape == (200, 3)
    labels = representations.gmm_labels(emb3, 3, random_state=0)
    assert clustering.cluster_accuracy(y, labels) > 0.9
    with pytest.raises(ValueError, match="n_neighbors"):
        representations.umap_embedding(x[:5], n_neighbors=10)
    with pytest.raises(ValueError, match="n_components"):
        representations.umap_embedding(x, n_components=0)


def test_n2d_pipeline_and_seeds(blobs):
    x, y = blobs
    kwargs = dict(code_dim=3, hidden=(16,), epochs=2, batch_size=64, umap_components=3,
                  n_neighbors=10, tag="test")
    run = representations.n2d_pipeline(x, 3, random_state=0, **kwargs)
    assert run["labels"].shape == (200,) and run["codes"].shape == (200, 3)
    assert set(run["seconds"]) == {"autoencoder", "umap", "mixture", "total"}
    assert run["seconds"]["total"] > 0
    again = representations.n2d_pipeline(x, 3, random_state=0, **kwargs)  # all from the cache
    np.testing.assert_array_equal(again["labels"], run["labels"])
    assert again["seconds"]["umap"] == run["seconds"]["umap"]
    # three well-separated blobs: N2D must find them
    assert clustering.cluster_accuracy(y, run["labels"]) > 0.9
    table = representations.n2d_over_seeds(x, y, (0, 1), n_clusters=3, **kwargs)
    assert [r["seed"] for r in table] == [0, 1]
    assert table.columns == ["method", "acc", "nmi", "ari", "purity", "seconds"]
    for row in table:
        # each row scores the very run n2d_pipeline makes for that seed (loaded from the cache)
        labels = representations.n2d_pipeline(x, 3, random_state=row["seed"], **kwargs)["labels"]
        assert row["acc"] == pytest.approx(clustering.cluster_accuracy(y, labels))
        assert row["nmi"] == pytest.approx(clustering.clustering_scores(y, labels)["nmi"])
        assert row["acc"] > 0.9 and row["seconds"] > 0
    assert table.row("N2D, seed 0")["acc"] == pytest.approx(clustering.cluster_accuracy(y, run["labels"]))
    with pytest.raises(ValueError, match="seeds is empty"):
        representations.n2d_over_seeds(x, y, ())
