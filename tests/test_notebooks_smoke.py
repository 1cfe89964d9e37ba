"""Every notebook runs end to end on the smoke profile through the runner `make book` uses, and the
executed notebooks build into a book that shows the run settings but not papermill's cell."""

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from galaxysd import book, outputs

ROOT = Path(book.__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_notebook_runs_on_smoke_and_builds_into_a_book(tmp_path):
    project = tmp_path / "project"
    (project / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, project / name)
    for page in (ROOT / "book").glob("*.*"):
        shutil.copy(page, project / "book" / page.name)
    shutil.copytree(ROOT / "notebooks", project / "notebooks")

    written = book.run_profile("smoke", root=project, run_dir=str(tmp_path / "runs"),
                               figures_dir=str(tmp_path / "figures"), data_dir=str(tmp_path / "data"),
                               progress=False)
    assert [p.stem for p in written] == list(book.discover_notebooks(ROOT / "notebooks"))
    for path in written:
        nb = nbformat.read(path, as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, f"{path.name} has error outputs"
    assert (tmp_path / "figures" / "fig1_schematic.png").is_file()
    assert (tmp_path / "figures" / "fig1_schematic.pdf").is_file()
    assert (tmp_path / "figures" / "table1_prompts.csv").is_file()
    saved = {p.name for p in (tmp_path / "figures").iterdir() if not p.name.startswith(".")}
    assert saved <= outputs.known_files(), f"add rows to galaxysd.outputs.OUTPUTS for {saved - outputs.known_files()}"
    for path in written:  # pages print paths inside the run folder, not this machine's
        nb = nbformat.read(path, as_version=4)
        shown = [str(o) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        shown += [c.source for c in nb.cells if book.SETTINGS_TAG in c.metadata.get("tags", [])]
        assert not [s for s in shown if str(tmp_path) in s], f"{path.name} shows an absolute path"

    index = book.build_book(project)
    assert index.is_file()
    for path in written:
        html = (project / "_build" / "html" / "book" / "notebooks" / f"{path.stem}.html").read_text()
        assert "Run settings: profile <strong>smoke</strong>" in html, path.stem
        assert "# Parameters" not in html, f"papermill's injected cell is visible in {path.stem}"
    chapter1 = (project / "_build" / "html" / "book" / "notebooks" / "01_data.html").read_text()
    assert len(re.findall(r"<img[^>]+_images/", chapter1)) >= 1
    intro = (project / "_build" / "html" / "book" / "intro.html").read_text()
    assert "smoke" in intro and "simulated survey" in intro
    reproducing = (project / "_build" / "html" / "book" / "reproducing.html").read_text()
    assert "fig2_upset" in reproducing and "galaxysd.gz2.figures.upset_figure" in reproducing
    assert "diffusers" in reproducing
    # Table 3 has the oracle row, trained on true D-ETGs of the training part only (no test galaxy)
    import json

    import numpy as np
    import pandas as pd

    table3 = pd.read_csv(tmp_path / "figures" / "table3_detg.csv")
    assert "oracle" in set(table3["method"])
    train = tmp_path / "runs" / "07_detg_experiment" / "train"
    oracle_ids = json.loads((train / "stage.json").read_text())["params"]["oracle_ids"]
    split = pd.read_csv(train / "split.csv")
    assert oracle_ids and not np.isin(oracle_ids, split["objid"]).any()
    from galaxysd import gz2

    truth = gz2.truth_table(tmp_path / "runs")
    assert truth.set_index("objid").loc[oracle_ids, "is_detg"].astype(str).str.lower().eq("true").all()
    depths = pd.read_csv(tmp_path / "runs" / "07_detg_experiment" / "dustlane" / "depths.csv")
    assert {"known D-ETG", "generated D-ETG", "clean early type"} <= set(depths["group"])
