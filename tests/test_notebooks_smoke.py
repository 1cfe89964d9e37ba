"""Every notebook runs end to end on the smoke profile through the runner `make book` uses, with the
exercises' solutions executed, and the executed notebooks build into a book that shows the run settings
but not papermill's cell, every exercise with its solution in a collapsed dropdown, gives every image alt
text that says what it shows, and whose launch links lead to files of the repository."""

import html as html_lib
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from galaxysd import book, outputs

ROOT = Path(book.__file__).resolve().parents[1]
REPOSITORY = "https://github.com/example/galaxysd"  # a fork's address: the buttons' links are checked


def images_without_alt(page: Path) -> list[str]:
    """The <img> tags of a page whose alt does not say what the image shows.

    A figure (``src`` in ``_images/``) needs words: not missing or empty, not a file name or path, not a
    hash. The theme's own controls and logos (``_static/``) need a non-empty alt.
    """
    bad = []
    for tag in re.findall(r"<img\b[^>]*>", page.read_text()):
        match = re.search(r'\balt="([^"]*)"', tag)
        alt = html_lib.unescape(match.group(1)).strip() if match else ""
        src = re.search(r'\bsrc="([^"]*)"', tag)
        src = src.group(1) if src else ""
        if "_static/" in src:
            bad += [tag[:200]] if not alt else []
        elif (len(alt.split()) < 3 or re.search(r"\.(png|jpe?g|svg|gif|pdf)\b", alt) or re.search(r"[0-9a-f]{16}", alt)
                or (src and Path(src).stem in alt)):
            bad.append(tag[:200])
    return bad


@pytest.mark.slow
def test_every_notebook_runs_on_smoke_and_builds_into_a_book(tmp_path, monkeypatch):
    from test_publish import check_launch_links

    project = tmp_path / "project"
    (project / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, project / name)
    for page in (ROOT / "book").glob("*.*"):
        shutil.copy(page, project / "book" / page.name)
    shutil.copytree(ROOT / "notebooks", project / "notebooks")

    written = book.run_profile("smoke", root=project, run_dir=str(tmp_path / "runs"),
                               figures_dir=str(tmp_path / "figures"), data_dir=str(tmp_path / "data"),
                               progress=False, exercises=True)
    assert [p.stem for p in written] == list(book.discover_notebooks(ROOT / "notebooks"))
    for path in written:
        nb = nbformat.read(path, as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, f"{path.name} has error outputs"
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert len(solutions) >= 2, f"{path.name} has {len(solutions)} solution cells"
        assert all(c.execution_count is not None and "skip-execution" not in c.metadata["tags"]
                   for c in solutions), f"{path.name}: a solution was not executed"
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

    monkeypatch.setenv(book.REPOSITORY_ENV, REPOSITORY)
    index = book.build_book(project)
    assert index.is_file()
    html_dir = index.parent
    pages = sorted(html_dir.rglob("*.html"))
    without_alt = {p.name: images_without_alt(p) for p in pages if images_without_alt(p)}
    assert not without_alt, f"images whose alt does not say what they show: {without_alt}"
    assert check_launch_links(html_dir, REPOSITORY, ROOT, {p.stem for p in written}) >= 4 * len(written)
    for path in written:
        html = (project / "_build" / "html" / "book" / "notebooks" / f"{path.stem}.html").read_text()
        assert "Run settings: profile <strong>smoke</strong>" in html, path.stem
        assert "# Parameters" not in html, f"papermill's injected cell is visible in {path.stem}"
        labels = re.findall(r":label: (ex-[\w-]+)", (ROOT / "notebooks" / f"{path.stem}.py").read_text())
        for label in labels:
            assert f'<div class="exercise admonition" id="{label}">' in html, f"{path.stem}: exercise {label}"
        assert html.count('class="solution dropdown admonition"') == len(labels) >= 2, path.stem
        assert "BEGIN SOLUTION" in html, f"{path.stem}: the solutions' code is not in the book"
        assert "find_spec" not in html, f"the install cell is visible in {path.stem}"
    chapter1 = (project / "_build" / "html" / "book" / "notebooks" / "01_data.html").read_text()
    assert len(re.findall(r"<img[^>]+_images/", chapter1)) >= 1
    assert re.search(r'<img alt="Schematic of the pipeline in four boxes[^"]*"', chapter1)
    intro = (project / "_build" / "html" / "book" / "intro.html").read_text()
    assert "smoke" in intro and "simulated survey" in intro
    reproducing = (project / "_build" / "html" / "book" / "reproducing.html").read_text()
    assert "fig2_upset" in reproducing and "galaxysd.gz2.figures.upset_figure" in reproducing
    assert "diffusers" in reproducing
    instructors = (project / "_build" / "html" / "book" / "instructors.html").read_text()
    assert "2026-12-01" in instructors and 'href="notebooks/02_finetune.html#ex-02-short-finetune"' in instructors
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
