"""The paper profile's notebooks 01 -> 03 run through the runner on a small data folder in the real
files' formats (``tests/realfiles.py``), with the tiny model at 64 px and minimal steps: the route a
user with the real GZ2 files takes cannot break unnoticed while only the simulated route is run."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from galaxysd import book
from galaxysd.cache import sha256_file
from realfiles import paper_data_folder

ROOT = Path(book.__file__).resolve().parents[1]
NOTEBOOKS = ["01_data", "02_finetune", "03_generate"]
TINY = ("{vae_channels: [16, 32], unet_channels: [32, 32], unet_attention_levels: [1], text_hidden: 32, "
        "text_layers: 1, text_heads: 2, text_intermediate: 64, norm_num_groups: 8}")
#: The paper's settings, cut to a CPU and a few minutes: the tiny model at 64 px, the smoke profile's
#: step counts, generation at the model's own size, one thread. Everything else stays the paper's:
#: thresholds, cap, image check, seed, learning-rate scaling, fp16 and float16 (full precision on a
#: CPU), gradient checkpointing, scheduler, guidance, strength.
OVERRIDES = [
    "01_data.gallery_per_tag=3",
    "02_finetune.base_model=tiny", "02_finetune.resolution=64", f"02_finetune.tiny_sizes={TINY}",
    "02_finetune.autoencoder_steps=20", "02_finetune.autoencoder_batch_size=8", "02_finetune.max_steps=20",
    "02_finetune.batch_size=8", "02_finetune.warmup_steps=2", "02_finetune.checkpoint_every=10",
    "02_finetune.grid_checkpoints=2", "02_finetune.grid_steps=4", "02_finetune.num_threads=1",
    "03_generate.resolution=0", "03_generate.letters=AK", "03_generate.steps=3", "03_generate.n_per_prompt=3",
    "03_generate.n_txt2img=1", "03_generate.n_sweep=1", "03_generate.n_real_stats=8", "03_generate.num_threads=1",
]
#: The files the paper route downloads (``galaxysd.gz2.fetch.REMOTE``), inside ``<data>/gz2``.
REMOTE_FILES = ["gz2_hart16.csv.gz", "gz2_filename_mapping.csv", "images_gz2.zip",
                "dustlanes/Basic_Information.txt", "gswlc/GSWLC-X2.dat.gz"]
SIMULATED_LABEL = "simulated survey (not the paper's data)"


def glued(path):
    """The values a notebook glued, by name (papermill's text/plain record)."""
    nb = nbformat.read(path, as_version=4)
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                out[name] = o["data"].get("application/papermill.record/text/plain")
    return out


def notebook_text(path):
    """Every markdown source and every text output of an executed notebook."""
    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        for o in cell.get("outputs", []):
            parts.append(o.get("text", ""))
            parts.extend(str(v) for k, v in o.get("data", {}).items() if "text" in k)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("paper")
    data = paper_data_folder(base / "data", n_galaxies=400, image_size=64, seed=0)
    written = book.run_profile("paper", only=NOTEBOOKS, overrides=OVERRIDES, root=ROOT,
                               output_dir=base / "notebooks", run_dir=str(base / "runs"),
                               figures_dir=str(base / "figures"), data_dir=str(base / "data"), progress=False)
    return {"base": base, "data": data, "written": {p.stem: p for p in written},
            "run": base / "runs", "figures": base / "figures"}


@pytest.mark.slow
def test_paper_profile_runs_01_to_03_on_real_format_files(paper_run):
    written = paper_run["written"]
    assert list(written) == NOTEBOOKS
    for path in written.values():
        nb = nbformat.read(path, as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, f"{path.name} has error outputs"
        assert "Run settings: profile **paper**" in notebook_text(path)


@pytest.mark.slow
def test_paper_route_counts_selection_steps_from_the_real_files(paper_run):
    data, run = paper_run["data"], paper_run["run"]
    values = glued(paper_run["written"]["01_data"])
    counts = json.loads((run / "01_data" / "labels" / "counts.json").read_text())
    assert int(values["count_n_table"]) == counts["n_table"] == data["n_table"]
    n_labelled, n_training = int(values["count_n_labelled"]), int(values["count_n_training"])
    assert 0 < n_training <= int(values["count_n_labelled_with_image"]) <= n_labelled < data["n_table"]
    # image report: every labelled galaxy is matched or counted, the zip's __MACOSX junk is not an image
    assert counts["n_labelled_with_image"] + counts["n_missing_image"] + counts["n_no_mapping"] == n_labelled
    assert counts["n_undecodable"] == 0
    assert f"{counts['n_labelled_with_image']} of {n_labelled} galaxies have an image" in counts["image_report"]
    assert counts["image_report"] in notebook_text(paper_run["written"]["01_data"])
    # D-ETG exclusion: the dust-lane list is read, its table members matched, none of them trains
    assert counts["n_known_detg_listed"] == data["n_listed"]
    assert counts["n_known_detg_matched"] == data["n_listed_in_table"]
    listed = pd.read_csv(run / "01_data" / "labels" / "known_detg.csv")["objid"]
    manifest = pd.read_csv(run / "01_data" / "training" / "manifest.csv")
    assert len(manifest) == n_training and not manifest.objid.isin(listed).any()
    catalog = pd.read_csv(run / "01_data" / "labels" / "catalog.csv.gz")
    trainable_listed = catalog.objid.isin(listed) & (catalog.n_tags > 0) & catalog.image_path.notna()
    assert int(values["count_n_excluded_known_detg"]) == int(trainable_listed.sum())
    # side tables: GSWLC's -99 and Yang's halo-less groups are NaN, never a number
    assert catalog.logsfr.notna().any() and catalog.logsfr.min() > -90
    assert catalog.loghalo.notna().any() and catalog.loghalo.min() > 0
    assert catalog.logsfr.isna().any() and catalog.loghalo.isna().any()
    # the training images were extracted from the zip, at the size they were packed in
    extracted = paper_run["data"]["root"] / "images_extracted"
    assert all(Path(p).parent == extracted.resolve() for p in manifest.image_path)
    with Image.open(manifest.image_path.iloc[0]) as img:
        assert img.size == (64, 64)


@pytest.mark.slow
def test_paper_route_writes_figures_1_2_b3_3_table_1_model_and_images(paper_run):
    figures, run = paper_run["figures"], paper_run["run"]
    for stem in ("fig1_schematic", "fig2_upset", "figB3_question_tree", "fig3_generated"):
        for ext in ("png", "pdf"):
            assert (figures / f"{stem}.{ext}").stat().st_size > 1000, f"{stem}.{ext}"
    # Table 1: the 16 prompts, each with the number of training galaxies carrying its tags
    table1 = glued(paper_run["written"]["01_data"])["table1"]
    manifest = pd.read_csv(run / "01_data" / "training" / "manifest.csv")
    rows = dict(re.findall(r"^([A-P]) +sdss, .*? (\d+) +\\?$", table1, flags=re.M))
    assert sorted(rows) == list("ABCDEFGHIJKLMNOP")
    tags = manifest.tags.str.split("|")
    for letter, tag in {"B": "completely round galaxy", "C": "edge-on galaxy"}.items():
        assert int(rows[letter]) == int(tags.apply(lambda t: tag in t).sum()) > 0, letter
    assert int(rows["K"]) == 0  # early types with a dust lane were excluded from training
    assert int(glued(paper_run["written"]["02_finetune"])["n_train"]) == len(manifest)

    model = run / "02_finetune" / "train" / "model"
    assert json.loads((model / "model_index.json").read_text())["_class_name"] == "StableDiffusionPipeline"
    for part in ("unet", "vae", "text_encoder"):
        assert list((model / part).glob("*.safetensors")), part
    assert sorted(p.name for p in (run / "02_finetune" / "train" / "checkpoints").iterdir()) == \
        ["step-000010", "step-000020"]

    values = glued(paper_run["written"]["03_generate"])
    generated = pd.read_csv(run / "03_generate" / "img2img" / "manifest.csv")
    assert len(generated) == 2 * 3 and int(values["n_generated"]) == 2 * 3 + 2 * 1
    assert set(generated.reference_id) <= set(manifest.objid)
    for name in generated.file:
        with Image.open(run / "03_generate" / "img2img" / name) as img:
            assert img.size == (64, 64)
            assert np.asarray(img).std() > 0


@pytest.mark.slow
def test_paper_route_says_it_shows_real_data(paper_run):
    for path in paper_run["written"].values():
        text = notebook_text(path)
        assert "(real data)" in text and SIMULATED_LABEL not in text, path.stem
    assert "real Galaxy Zoo 2 data" in (paper_run["base"] / "notebooks" / "profile.md").read_text()


@pytest.mark.slow
def test_paper_route_records_the_checksum_of_every_file_it_read(paper_run):
    root = paper_run["data"]["root"]
    sums = json.loads((root / "checksums.json").read_text())
    for name in REMOTE_FILES:
        assert sums[name] == sha256_file(root / name), name


@pytest.mark.slow
def test_paper_route_checksums_the_yang_files_too(paper_run):
    sums = json.loads((paper_run["data"]["root"] / "checksums.json").read_text())
    for name in ("SDSS7", "imodelC_1", "modelC_group"):
        assert any(key.endswith(name) for key in sums), name


@pytest.mark.slow
def test_own_profile_on_the_real_files_is_labelled_real_data(paper_run, tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(ROOT / "galaxysd" / "profiles" / "paper.yaml", profiles / "my_gz2.yaml")
    written = book.run_profile("my_gz2", only=["01_data"], overrides=OVERRIDES[:1], root=ROOT,
                               output_dir=tmp_path / "notebooks", run_dir=str(paper_run["run"]),
                               figures_dir=str(tmp_path / "figures"),
                               data_dir=str(paper_run["base"] / "data"), progress=False, profiles_dir=profiles)
    text = notebook_text(written[0])
    assert "(real data)" in text and SIMULATED_LABEL not in text
