"""Every notebook runs end to end on the smoke profile, through the same runner `make book` uses."""

import nbformat
import pytest

from galaxysd import book


@pytest.mark.slow
def test_every_notebook_runs_on_the_smoke_profile(tmp_path):
    out = tmp_path / "executed"
    written = book.run_profile("smoke", output_dir=out, run_dir=str(tmp_path / "runs"),
                               figures_dir=str(tmp_path / "figures"), data_dir=str(tmp_path / "data"),
                               progress=False)
    names = [p.stem for p in written]
    assert names == list(book.discover_notebooks(book.notebooks_dir()))
    for path in written:
        nb = nbformat.read(path, as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, f"{path.name} has error outputs"
    assert (tmp_path / "figures" / "fig1_schematic.png").is_file()
    assert (tmp_path / "figures" / "fig1_schematic.pdf").is_file()
