"""The benchmark's report functions (benchmarks/results.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import budgets  # noqa: E402
import results  # noqa: E402


def glue_output(name, text):
    return {"output_type": "display_data",
            "metadata": {"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}},
            "data": {"application/papermill.record/text/plain": text}}


def test_glued_values_parses_numbers_and_strings():
    nb = {"cells": [
        {"cell_type": "markdown", "source": "x"},
        {"cell_type": "code", "outputs": [glue_output("acc", "0.75"), glue_output("n", "100"),
                                          glue_output("word", "'below'"),
                                          {"output_type": "stream", "text": "hi"}]},
    ]}
    assert results.glued_values(nb) == {"acc": 0.75, "n": 100, "word": "below"}


def make_run(profile, seconds, cold=100.0, warm=5.0):
    chapters = [{"notebook": f"0{i}_x", "seconds": s, "peak_mb": 500.0} for i, s in enumerate(seconds)]
    return {"profile": profile, "cold": cold, "warm": warm, "chapters": chapters}


def test_budget_verdicts():
    quick = make_run("quick", [30, 70])
    full = make_run("full", [500, 800], cold=1300, warm=12)
    rows = "\n".join(results.budget_table([quick, full], budgets.BUDGETS))
    assert "**missed** by 10 s" in rows          # slowest quick chapter 70 > 60
    assert "| quick: all chapters | 360 s | 100 s | met |" in rows
    assert "**missed** by 100 s" in rows         # full cold 1300 > 1200
    assert "| full: rebuild, warm | 30 s | 12 s | met |" in rows


def test_report_has_every_chapter():
    text = results.render_report(["- date: now"], [make_run("quick", [1.5, 2.5])], budgets.BUDGETS,
                                 "fashion_mnist")
    assert "| 00_x | 1.5 | 500 |" in text and "| 01_x | 2.5 | 500 |" in text
    assert text.startswith("# Benchmark")


def test_results_section_from_glued_rows():
    rows = [{"method": "cnn", "labels_per_class": 10, "n_labels": 100, "accuracy_mean": 0.689,
             "accuracy_std": 0.02, "seconds_mean": 7.0, "n_draws": 3},
            {"method": "cnn", "labels_per_class": 1, "n_labels": 10, "accuracy_mean": 0.5,
             "accuracy_std": 0.0, "seconds_mean": 3.0, "n_draws": 3}]
    clus = [{"method": "k-means on pixels", "acc": 0.471, "nmi": 0.511, "ari": 0.347,
             "seconds": None}]
    run = make_run("full", [1.0])
    run["chapters"][0]["glue"] = {"bench_results": rows, "bench_clustering": clus}
    text = "\n".join(results.results_section(run))
    assert "| cnn | 50.0 ± 0.0 (3 s) | 68.9 ± 2.0 (7 s) |" in text
    assert "| k-means on pixels | 0.471 | 0.511 | 0.347 | – |" in text
    assert "87.1" in text and "0.47" in text


def test_parse_handles_nan_and_lists():
    assert results._parse("[{'a': nan, 'b': 1.5}]") == [{"a": None, "b": 1.5}]


def test_missed_budgets_are_explained():
    full = make_run("full", [900, 500, 100], cold=1600)
    full["chapters"][0]["notebook"] = "07_evaluation"
    text = "\n".join(results.why_missed([full], budgets.BUDGETS))
    assert "1600 s > 1200 s" in text and "07_evaluation (900 s)" in text
    assert results.why_missed([make_run("full", [10], cold=100)], budgets.BUDGETS) == []


def test_one_draw_has_no_spread_in_the_report():
    rows = [{"method": "cnn", "labels_per_class": 10, "n_labels": 100, "accuracy_mean": 0.689,
             "accuracy_std": 0.0, "seconds_mean": 7.0, "n_draws": 1}]
    run = make_run("quick", [1.0])
    run["chapters"][0]["glue"] = {"bench_results": rows}
    text = "\n".join(results.results_section(run))
    assert "| cnn | 68.9 (7 s) |" in text and "±" not in text and "one label draw" in text


def test_parallel_ratio_is_reported():
    run = make_run("quick", [1.0])
    assert results.parallel_section([run]) == []
    run["parallel"] = {"CNN": {"n_jobs_1_s": 30.0, "n_jobs_2_s": 20.0, "ratio": 1.5, "runs": 4,
                               "same_numbers": True},
                       "logistic regression": {"n_jobs_1_s": 3.0, "n_jobs_2_s": 6.0, "ratio": 0.5,
                                               "runs": 8, "same_numbers": False}}
    text = "\n".join(results.parallel_section([run]))
    assert "- CNN (4 runs" in text and "30.0 s with `n_jobs=1`" in text and "**1.50**" in text
    assert "the same numbers" in text and "**0.50**" in text and "**the numbers differed**" in text
    # the appendix's glued timing is used when run.py did not measure one
    glued_run = make_run("quick", [1.0])
    glued_run["chapters"][0]["glue"] = {"bench_parallel": {"n_jobs_1_s": 10.0, "n_jobs_2_s": 10.0,
                                                           "ratio": 1.0, "runs": 8}}
    assert "**1.00**" in "\n".join(results.parallel_section([glued_run]))
    full = "\n".join(results.render_report(["- date: now"], [run], budgets.BUDGETS, "x").splitlines())
    assert "## Parallel sweep" in full


def test_full_pages_are_held_to_a_third_of_the_whole():
    full = make_run("full", [500, 300], cold=900, warm=3)
    full["chapters"][0]["notebook"] = "07_evaluation"
    rows = "\n".join(results.budget_table([full], budgets.BUDGETS))
    assert budgets.BUDGETS["full_chapter_s"] == budgets.BUDGETS["full_cold_s"] // 3
    assert "| full: slowest page (07_evaluation) | 400 s | 500 s | **missed** by 100 s |" in rows
    text = results.render_report(["- date: now"], [full], budgets.BUDGETS, "x")
    assert "| 07_evaluation | 500.0 | 500 | **missed** by 100 s (≤ 400 s) |" in text
    assert "| 01_x | 300.0 | 500 | met (≤ 400 s) |" in text


def test_a_recorded_build_says_how_it_was_measured(monkeypatch):
    import run as bench_run

    pages = [{"notebook": "06_self_supervised", "uri": "a", "seconds": 40.0, "glue": {}},
             {"notebook": "07_evaluation", "uri": "b", "seconds": 30.0, "glue": {}}]
    monkeypatch.setattr(bench_run, "chapter_records", lambda out: [dict(p) for p in pages])
    stored = bench_run.record_build(Path("."), 5000, 20, ["07_evaluation=3600"], "ran 07 first")
    assert [c["seconds"] for c in stored["chapters"]] == [40.0, 3600.0]
    assert stored["cold"] == 5000 and stored["warm"] == 20
    text = results.render_report(["- date: now"], [{"profile": "full", **stored}], budgets.BUDGETS, "x")
    assert "ran 07 first" in text and "| 07_evaluation | 3600.0 | – |" in text
    for bad, says in ((["08_x=5"], "no page '08_x'"), (["07_evaluation=soon"], "PAGE=SECONDS")):
        try:
            bench_run.record_build(Path("."), 1, 1, bad, "")
        except SystemExit as err:
            assert says in str(err)
        else:
            raise AssertionError(f"{bad} was accepted")
    monkeypatch.setattr(bench_run, "chapter_records", lambda out: [])
    try:
        bench_run.record_build(Path("/nowhere"), 1, 1, [], "")
    except SystemExit as err:
        assert "make book" in str(err)
    else:
        raise AssertionError("an empty build was accepted")


def test_runtime_table_for_the_teachers_guide():
    quick = make_run("quick", [12.4, 95.0])
    quick["chapters"][0]["notebook"] = "original-recipe"
    quick["chapters"][1]["notebook"] = "05_unlabeled_data_pays_off"
    quick["chapters"].append({"notebook": "faq", "seconds": 0.0})  # a markdown page: not executed
    header = ["- date: 2026-12-03 08:00 UTC", "- machine: 2 cores (CPU), 8 GiB memory, Linux"]
    text = results.runtimes_include(header, [quick])
    assert "(2026-12-03 08:00 UTC; 2 cores (CPU), 8 GiB memory, Linux)" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows == ["| page | quick profile | full profile |",
                    "| 5, unlabeled data pays off | 95 s | not measured |",  # chapters first
                    "| original recipe | 12 s | not measured |"]
    full = make_run("full", [1234.0])
    full["chapters"][0]["notebook"] = "05_unlabeled_data_pays_off"
    assert "| 5, unlabeled data pays off | 95 s | 1,234 s |" in results.runtimes_include(header, [quick, full])
    assert results.page_label("label-your-own-pool") == "label your own pool"
    sheet = make_run("quick", [8.0])
    sheet["chapters"][0].update(notebook="lloyd", uri="/book/book/worksheets/lloyd.ipynb")
    assert "| worksheet: lloyd | 8 s | not measured |" in results.runtimes_include(header, [sheet])


def test_the_teachers_guide_includes_the_runtime_table(tmp_path):
    import run as bench_run

    root = Path(__file__).resolve().parents[2]
    assert "```{include} _runtimes.md" in (root / "book" / "teachers-guide.md").read_text()
    assert "book/_runtimes.md" in (root / "_config.yml").read_text()  # excluded: not a page itself
    bench_run.write_runtimes([make_run("quick", [3.0])], tmp_path / "r.md", "digits")
    assert not (tmp_path / "r.md").exists()  # only the book's own dataset writes the table
    bench_run.write_runtimes([make_run("quick", [3.0])], tmp_path / "r.md", "fashion_mnist")
    assert "| 0, x | 3 s | not measured |" in (tmp_path / "r.md").read_text()
