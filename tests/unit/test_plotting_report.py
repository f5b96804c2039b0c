import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import plotting, report  # noqa: E402


def test_image_grid_titles_and_layout():
    fig = plotting.image_grid(np.zeros((7, 28 * 28)), titles=list("abcdefg"), n_cols=4)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == list("abcdefg") and len(fig.axes) == 8
    plt.close(fig)


def test_image_grid_bad_input():
    with pytest.raises(ValueError, match="square"):
        plotting.image_grid(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="titles"):
        plotting.image_grid(np.zeros((2, 4, 4)), titles=["a"])
    with pytest.raises(ValueError, match="non-empty"):
        plotting.image_grid(np.zeros((0, 4, 4)))


def test_image_grid_shows_colour_as_it_is():
    red = np.zeros((2, 6, 6, 3), np.uint8)
    red[..., 0] = 200
    fig = plotting.image_grid(red, titles=["a", "b"])
    shown = fig.axes[0].get_images()[0]
    assert shown.get_array().shape == (6, 6, 3) and shown.get_array()[0, 0, 0] == 200
    plt.close(fig)
    one_channel = plotting.image_grid(np.zeros((2, 6, 6, 1)))
    assert one_channel.axes[0].get_images()[0].get_array().shape == (6, 6)
    plt.close(one_channel)
    with pytest.raises(ValueError, match=r"\(n, h, w, 3\)"):
        plotting.image_grid(np.zeros((2, 6, 6, 2)))


def test_class_examples_one_row_per_class():
    y = np.repeat(np.arange(3), 4)
    fig = plotting.class_examples(np.zeros((12, 5, 5)), y, ["a", "b", "c"], per_class=2)
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels == ["a", "b", "c"]
    plt.close(fig)
    with pytest.raises(ValueError, match="same length"):
        plotting.class_examples(np.zeros((3, 5, 5)), y, ["a", "b", "c"])


def test_bar_counts_and_style():
    plotting.use_book_style()
    assert matplotlib.rcParams["figure.facecolor"] == "white"
    fig = plotting.bar_counts([3, 1], ["x", "y"])
    assert len(fig.axes[0].patches) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="labels"):
        plotting.bar_counts([1, 2, 3], ["x"])


def test_glue_passes_plain_python_values_to_myst_nb(monkeypatch):
    import myst_nb

    seen = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: value}))
    assert report.glue("x", np.float64(0.25)) is None
    report.glue("y", np.int64(3))
    assert seen == {"x": 0.25, "y": 3} and type(seen["y"]) is int
    with pytest.raises(ValueError, match="name"):
        report.glue("", 1)


def test_to_builtin_converts_nested_numpy_scalars():
    value = report.to_builtin({"a": [np.float64(0.5), (np.int64(2),)], "b": "x"})
    assert value == {"a": [0.5, (2,)], "b": "x"}
    assert type(value["a"][0]) is float and type(value["a"][1][0]) is int


def test_setup_prints_numpy_scalars_plainly():
    from helpers import config

    config.setup("quick", "digits", deterministic=False, verbose=False)
    assert repr(np.float64(69.6)) == "69.6"


def test_glue_run_time_needs_the_settings_of_setup():
    from helpers import config, report

    settings = config.setup("quick", "digits", deterministic=False, verbose=False)
    report.glue_run_time(settings)  # records two values (nothing to show outside a notebook)
    with pytest.raises(ValueError, match="config.setup"):
        report.glue_run_time("quick")
