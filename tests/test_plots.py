"""Figures are saved as PNG and PDF, atomically, and Figure 1 is drawn by code."""

import matplotlib.pyplot as plt

from galaxysd import plots


def test_publish_writes_png_and_pdf_and_closes_the_figure(tmp_path):
    fig = plots.pipeline_schematic("smoke")
    written = plots.publish(fig, tmp_path / "figs", "fig1_schematic")
    assert [p.name for p in written] == ["fig1_schematic.png", "fig1_schematic.pdf"]
    assert written[0].read_bytes().startswith(b"\x89PNG") and written[1].read_bytes().startswith(b"%PDF")
    assert not plt.fignum_exists(fig.number)
    assert not list((tmp_path / "figs").glob(".*"))  # no temporary files left behind


def test_schematic_names_the_profile_it_was_made_for():
    fig = plots.pipeline_schematic("demo")
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "simulated survey" in texts and "Fine-tuning" in texts and "Generation" in texts
    plt.close(fig)
    fig = plots.pipeline_schematic("paper", real_data=True)
    assert "real GZ2 data" in " ".join(t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)


def test_the_data_label_follows_what_the_run_read_not_the_profile_name():
    assert plots.profile_label("my-gpu", True) == "my-gpu profile: real GZ2 data"
    assert "simulated survey" in plots.profile_label("paper", False)
    assert "simulated" not in plots.profile_label("x", None) and "real" not in plots.profile_label("x", None)


def test_table_is_saved_as_csv_under_its_paper_number(tmp_path):
    import pandas as pd

    table = pd.DataFrame({"prompt": ["sdss, smooth"], "n": [3]}, index=pd.Index(["A"], name="letter"))
    path = plots.save_table(table, tmp_path / "figs", "table1_prompts")
    assert path == tmp_path / "figs" / "table1_prompts.csv"
    assert pd.read_csv(path, index_col="letter").loc["A", "n"] == 3
    assert not list((tmp_path / "figs").glob(".*"))
