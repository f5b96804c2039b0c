"""helpers.progress: bars and clocks go to standard error, only after their delay, and check their input."""

from __future__ import annotations

import time

import numpy as np
import pytest

from helpers import features, progress


def test_clock_shows_the_elapsed_time_on_stderr_after_its_delay(capsys):
    with progress.clock("a long call", delay=0.1, interval=0.05):
        time.sleep(0.5)
    out, err = capsys.readouterr()
    assert out == ""
    assert "a long call: 00:00 elapsed" in err


def test_clock_is_silent_for_a_call_shorter_than_its_delay(capsys):
    with progress.clock("a short call", delay=30, interval=0.05):
        time.sleep(0.2)
    assert capsys.readouterr() == ("", "")


def test_clock_lets_the_blocks_result_and_errors_through():
    with progress.clock("sum", delay=30):
        total = sum(range(10))
    assert total == 45
    with pytest.raises(KeyError):
        with progress.clock("failing", delay=30):
            raise KeyError("boom")


def test_bar_counts_steps_on_stderr(capsys):
    with progress.bar(4, "steps", unit="step", mininterval=0) as shown:
        for _ in range(4):
            shown.update(1)
    out, err = capsys.readouterr()
    assert out == ""
    assert "steps: 100%" in err and "4/4" in err


@pytest.mark.parametrize("kwargs, message", [
    ({"delay": -1}, "delay"),
    ({"interval": 0}, "interval"),
    ({"interval": "1"}, "interval must be a number"),
    ({"delay": True}, "delay must be a number"),
    ({"delay": float("nan")}, "delay must be finite"),
])
def test_clock_rejects_bad_timing(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        with progress.clock("x", **kwargs):
            pass


def test_bar_rejects_bad_input():
    with pytest.raises(ValueError, match="desc must be a string"):
        progress.bar(3, None)
    with pytest.raises(ValueError, match="total"):
        progress.bar(-1, "x")
    with pytest.raises((TypeError, ValueError), match="total"):
        progress.bar(2.5, "x")
    with pytest.raises(ValueError, match="mininterval"):
        progress.bar(3, "x", mininterval=-0.5)


def test_patch_features_encoded_in_chunks_equal_one_transform(tmp_path, monkeypatch):
    # cached_patch_features encodes in chunks to show a bar; the codes must not change
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(0)
    x = rng.random((2300, 8, 8)).astype(np.float32)
    params = {"n_centroids": 5, "patch_size": 3, "n_patches": 500, "batch_size": 100}
    got = features.cached_patch_features(x[:2200], x[2200:], profile="quick", dataset="test",
                                         random_state=0, verbose=False, **params)
    learner = features.PatchKMeansFeatures(random_state=0, **params).fit(x[:2200])
    np.testing.assert_array_equal(got["pool"], learner.transform(x[:2200]))
    np.testing.assert_array_equal(got["test"], learner.transform(x[2200:]))
