"""Checkpoint bundles (galaxysd.checkpoint) and run folders that can move.

The first tests build a small run folder of cached stages; the last ones share one smoke run of
chapters 01-03 (module-scoped) with a second run of chapters 01-02 in another folder.
"""

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from galaxysd import __main__ as cli
from galaxysd import cache, checkpoint
from galaxysd.errors import CheckpointError, GalaxySDError
from galaxysd.paths import portable_path, resolve_stored, run_paths


# ----------------------------------------------------------------------------------------- a toy run
def toy_run(run: Path) -> dict:
    """Three cached stages over two chapters; the second names the first's files by path."""
    def survey(out):
        (out / "images").mkdir()
        for i in range(3):
            (out / "images" / f"{i}.jpg").write_bytes(bytes([i]) * 100)

    s1 = cache.run_stage(run, "01_data/survey", {"n": 3}, survey, verbose=False)

    def labels(out):
        files = [portable_path(p, out) for p in sorted((s1.path / "images").iterdir())]
        (out / "list.csv").write_text("image_path\n" + "\n".join(files) + "\n")

    # a parameter holding a path in the run folder, as chapter 01's labels stage has
    s2 = cache.run_stage(run, "01_data/labels", {"images": str(s1.path / "images")}, labels,
                         inputs=[s1.path], verbose=False)
    s3 = cache.run_stage(run, "02_model/train", {"epochs": 1},
                         lambda out: (out / "weights.bin").write_bytes(b"w" * 1000), inputs=[s2.path],
                         verbose=False)
    return {"survey": s1, "labels": s2, "train": s3}


@pytest.fixture
def bundle(tmp_path):
    run = tmp_path / "made" / "runs" / "demo"
    toy_run(run)
    (run / "03_later").mkdir()
    (run / "03_later" / "x.txt").write_text("not packed")
    return checkpoint.pack(run, "02", tmp_path / "demo-upto-02.tar.gz", "demo")


def test_a_path_in_the_run_folder_is_stored_relative_and_read_back_absolute(tmp_path):
    stage = tmp_path / "runs" / "01_data" / "training"
    image = tmp_path / "runs" / "01_data" / "survey" / "images" / "7.jpg"
    stored = portable_path(image, stage)
    assert stored == "../survey/images/7.jpg"
    assert Path(resolve_stored(stored, stage)) == image
    outside = tmp_path / "data" / "gz2" / "7.jpg"
    assert portable_path(outside, stage) == str(outside)
    assert resolve_stored(str(outside), stage) == str(outside)
    assert cache.portable({"a": [str(image)], "b": 2}, tmp_path / "runs") == \
        {"a": ["<run>/01_data/survey/images/7.jpg"], "b": 2}


def test_two_runs_in_two_folders_write_the_same_records_and_keys(tmp_path):
    first, second = toy_run(tmp_path / "one" / "runs"), toy_run(tmp_path / "two" / "elsewhere")
    for name in first:
        assert (first[name].path / "stage.json").read_text() == (second[name].path / "stage.json").read_text()
    assert (first["labels"].path / "list.csv").read_bytes() == (second["labels"].path / "list.csv").read_bytes()


def test_a_bundle_holds_the_chapters_up_to_one_with_a_manifest(bundle):
    manifest = checkpoint.read_manifest(bundle)
    assert manifest["chapters"] == ["01_data", "02_model"] and manifest["profile"] == "demo"
    assert manifest["code"] == checkpoint.code_fingerprint()
    assert "01_data/labels/list.csv" in manifest["files"]
    assert not [n for n in manifest["files"] if n.startswith("03_") or "/." in n or n.startswith(".")]
    with tarfile.open(bundle) as tar:
        assert tar.getnames()[0] == checkpoint.MANIFEST_NAME


def test_unpacked_elsewhere_every_stage_is_loaded_not_recomputed(bundle, tmp_path):
    run = tmp_path / "participant" / "runs" / "demo"
    run.mkdir(parents=True)
    checkpoint.unpack(bundle, run, "demo")
    again = toy_run(run)
    assert all(stage.hit for stage in again.values())
    listed = (run / "01_data" / "labels" / "list.csv").read_text().split()[1:]
    assert [Path(resolve_stored(p, run / "01_data" / "labels")).read_bytes()[:1] for p in listed] == \
        [b"\0", b"\1", b"\2"]


def test_a_run_folder_that_is_not_empty_is_refused_unless_replaced(bundle, tmp_path):
    run = tmp_path / "runs"
    (run / "02_model").mkdir(parents=True)
    (run / "02_model" / "old.txt").write_text("old")
    (run / "05_kept").mkdir()
    with pytest.raises(CheckpointError, match="not empty"):
        checkpoint.unpack(bundle, run)
    checkpoint.unpack(bundle, run, replace=True)
    assert not (run / "02_model" / "old.txt").exists() and (run / "02_model" / "train" / "weights.bin").is_file()
    assert (run / "05_kept").is_dir()


def test_a_bundle_of_another_profile_is_refused(bundle, tmp_path):
    with pytest.raises(CheckpointError, match="profile 'demo'"):
        checkpoint.unpack(bundle, tmp_path / "runs", "smoke")


# -------------------------------------------------------------------------------- damaged bundles
def rewrite(bundle: Path, out: Path, edit) -> Path:
    """A copy of ``bundle`` whose (TarInfo, bytes) members went through ``edit`` (which returns a new list)."""
    with tarfile.open(bundle) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar.getmembers()]
    with tarfile.open(out, "w:gz") as tar:
        for info, data in edit(members):
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return out


def edit_manifest(**changes):
    def edit(members):
        info, data = members[0]
        manifest = {**json.loads(data), **changes}
        return [(info, json.dumps(manifest).encode()), *members[1:]]
    return edit


def flip_a_byte(name):
    return lambda members: [(i, bytes([d[0] ^ 1]) + d[1:] if i.name == name else d) for i, d in members]


def traversal(members):
    info = tarfile.TarInfo("01_data/../../escaped.txt")
    return [*members, (info, b"x")]


def symlink(members):
    info = tarfile.TarInfo("01_data/survey/link")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return [*members, (info, b"")]


DAMAGES = {
    "checksum": (flip_a_byte("02_model/train/weights.bin"), "02_model/train/weights.bin does not match"),
    "missing": (lambda m: [x for x in m if x[0].name != "01_data/labels/list.csv"], "lacks 1 file"),
    "extra": (lambda m: [*m, (tarfile.TarInfo("01_data/extra.txt"), b"x")], "01_data/extra.txt is not in"),
    "traversal": (traversal, "outside the chapters"),
    "absolute": (lambda m: [*m, (tarfile.TarInfo("/tmp/evil.txt"), b"x")], "outside the chapters"),
    "symlink": (symlink, "not a plain file"),
    "no manifest": (lambda m: m[1:], "does not start with checkpoint.json"),
    "other version": (edit_manifest(galaxysd="0.0.1"), "made by galaxysd 0.0.1"),
    "other code": (edit_manifest(code="0" * 64), "other galaxysd code"),
    "other format": (edit_manifest(format=99), "format 99"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_bundle_is_refused_and_leaves_the_run_folder_empty(bundle, tmp_path, damage):
    edit, message = DAMAGES[damage]
    bad = rewrite(bundle, tmp_path / "bad.tar.gz", edit)
    run = tmp_path / "runs"
    run.mkdir()
    with pytest.raises(CheckpointError, match=message) as err:
        checkpoint.unpack(bad, run)
    assert "bad.tar.gz" in str(err.value)
    assert isinstance(err.value, GalaxySDError)
    assert list(run.iterdir()) == [] and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bundle_of_other_code_loads_when_allowed(bundle, tmp_path):
    other = rewrite(bundle, tmp_path / "other.tar.gz", edit_manifest(code="0" * 64))
    checkpoint.unpack(other, tmp_path / "runs", allow_other_code=True)
    assert (tmp_path / "runs" / "02_model" / "train" / "weights.bin").is_file()


@pytest.mark.parametrize("cut", [0.5, 0.95])
def test_a_truncated_bundle_is_refused(bundle, tmp_path, cut):
    data = bundle.read_bytes()
    bad = tmp_path / "cut.tar.gz"
    bad.write_bytes(data[:int(len(data) * cut)])
    with pytest.raises(CheckpointError, match="cut.tar.gz"):
        checkpoint.unpack(bad, tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_a_gzip_of_something_else_is_refused(tmp_path):
    bad = tmp_path / "notes.tar.gz"
    bad.write_bytes(gzip.compress(b"hello"))
    with pytest.raises(CheckpointError, match="notes.tar.gz"):
        checkpoint.unpack(bad, tmp_path / "runs")


def test_packing_a_chapter_that_has_not_run_is_refused(tmp_path):
    toy_run(tmp_path / "runs")
    with pytest.raises(CheckpointError, match="no chapter 03"):
        checkpoint.pack(tmp_path / "runs", "03_generate", tmp_path / "b.tar.gz", "demo")


def test_the_command_packs_and_unpacks(tmp_path, capsys):
    toy_run(tmp_path / "runs" / "demo")
    out = tmp_path / "b.tar.gz"
    assert cli.main(["checkpoint", "pack", "--upto", "02_model", "-o", str(out),
                     "--run-dir", str(tmp_path / "runs" / "demo")]) == 0
    assert "b.tar.gz" in capsys.readouterr().out
    target = tmp_path / "elsewhere"
    assert cli.main(["checkpoint", "unpack", str(out), "--run-dir", str(target)]) == 0
    assert "--only 03" in capsys.readouterr().out
    assert cli.main(["checkpoint", "unpack", str(out), "--run-dir", str(target)]) == 2
    assert "not empty" in capsys.readouterr().err


# ------------------------------------------------------------------------------- the smoke profile
UPSTREAM = ("01_data", "02_finetune", "03_generate")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Chapters 01-03 of the smoke profile in one folder, 01-02 in another (the notebooks, as `make book` runs them)."""
    import shutil

    from galaxysd import book

    root = Path(book.__file__).resolve().parents[1]
    base = tmp_path_factory.mktemp("checkpoint_smoke")
    project = base / "project"
    (project / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(root / name, project / name)
    shutil.copytree(root / "notebooks", project / "notebooks")
    runs = {}
    for where, only in (("first", UPSTREAM), ("second", UPSTREAM[:2])):
        runs[where] = base / where / "runs"
        book.run_profile("smoke", list(only), root=project, output_dir=base / where / "notebooks",
                         run_dir=str(runs[where]), figures_dir=str(base / where / "figures"),
                         data_dir=str(base / where / "data"), progress=False)
    return {"project": project, "base": base, **runs}


def _files(run: Path, chapters) -> dict:
    """Size and modification time of every file of ``chapters`` (hidden ones too: a partial folder)."""
    return {p.relative_to(run).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for c in chapters for p in (run / c).rglob("*") if p.is_file()}


@pytest.mark.slow
def test_smoke_stage_outputs_hold_no_path_of_their_run_folder(smoke):
    needle = str(smoke["first"]).encode()
    holding = []
    for path in (p for c in UPSTREAM for p in (smoke["first"] / c).rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        if needle in data:
            holding.append(path.relative_to(smoke["first"]).as_posix())
    assert holding == []


@pytest.mark.slow
def test_two_smoke_runs_in_two_folders_give_the_catalogue_the_same_digests(smoke):
    from galaxysd.stages.s08_detg_catalog import provenance

    first, second = provenance(smoke["first"], "smoke"), provenance(smoke["second"], "smoke")
    assert first["DATADIG"] == second["DATADIG"] and first["MODELDIG"] == second["MODELDIG"]
    assert first["MODELDIG"] not in ("", "missing")


@pytest.mark.slow
def test_a_smoke_bundle_unpacked_elsewhere_starts_chapter_04_without_recomputing(smoke):
    from galaxysd import book
    from galaxysd.stages import s01_data

    bundle = checkpoint.pack(smoke["first"], "03_generate", smoke["base"] / "smoke-upto-03.tar.gz", "smoke")
    run = smoke["base"] / "participant" / "runs"
    checkpoint.unpack(bundle, run, "smoke")
    before = _files(run, UPSTREAM)
    assert {k: v[0] for k, v in before.items()} == {k: v[0] for k, v in _files(smoke["first"], UPSTREAM).items()}
    book.run_profile("smoke", ["04_embedding"], root=smoke["project"], output_dir=smoke["base"] / "participant" / "nb",
                     run_dir=str(run), figures_dir=str(smoke["base"] / "participant" / "figures"),
                     data_dir=str(smoke["base"] / "participant" / "data"), progress=False)
    assert (smoke["base"] / "participant" / "nb" / "04_embedding.ipynb").is_file()
    assert (run / "04_embedding" / "embed" / "stage.json").is_file()
    assert _files(run, UPSTREAM) == before  # nothing of chapters 01-03 written again, no partial folder
    # chapter 01's stages, asked for again with the smoke profile's settings, are loaded
    from galaxysd.parameters import plan_run

    (plan,) = plan_run("smoke", ["01_data"], root=smoke["project"])
    p = plan.parameters
    paths = run_paths("smoke", run, smoke["base"] / "participant" / "figures", smoke["base"] / "participant" / "data")
    survey = s01_data.survey_stage(paths, n_galaxies=p["n_galaxies"], image_size=p["image_size"], seed=p["seed"],
                                   frame_r90=p["frame_r90"], progress=False)
    labels = s01_data.labels_stage(paths, survey, min_debiased=p["min_debiased"], min_votes=p["min_votes"],
                                   votes_inclusive=p["votes_inclusive"], threshold_inclusive=p["threshold_inclusive"],
                                   fraction=p["threshold_fraction"], check_images=p["check_images"])
    training = s01_data.training_stage(paths, labels, cap=p["balance_cap"], seed=p["seed"])
    assert labels.hit and training.hit
    assert _files(run, UPSTREAM) == before
