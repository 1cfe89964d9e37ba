"""The simulated survey: deterministic per seed, same formats and checks as the real files."""

import gzip

import numpy as np
import pandas as pd
import pytest

from galaxysd import gz2
from galaxysd.gz2 import loaders
from galaxysd.gz2.simulate.population import draw_population
from galaxysd.gz2.simulate.volunteers import answer_probabilities, cast_votes, visibility


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    root = tmp_path_factory.mktemp("survey")
    return gz2.simulate_survey(root, n_galaxies=120, image_size=24, seed=3, progress=False)


def _plain(path):
    with gzip.open(path, "rt") as f:
        return f.read()


def test_same_seed_gives_identical_files(survey, tmp_path):
    again = gz2.simulate_survey(tmp_path / "again", n_galaxies=120, image_size=24, seed=3, progress=False)
    for name in ("hart16", "mapping", "dustlanes", "gswlc", "yang_galaxies", "yang_members", "yang_groups",
                 "truth"):
        assert getattr(again, name).read_bytes() == getattr(survey, name).read_bytes(), name
    names = sorted(p.name for p in survey.images.iterdir())
    assert names == sorted(p.name for p in again.images.iterdir())
    assert all((survey.images / n).read_bytes() == (again.images / n).read_bytes() for n in names)


def test_another_seed_gives_another_survey(survey, tmp_path):
    other = gz2.simulate_survey(tmp_path / "other", n_galaxies=120, image_size=24, seed=4, progress=False)
    assert _plain(other.hart16) != _plain(survey.hart16)


def test_simulated_catalogue_passes_the_real_schema_check(survey):
    table = loaders.read_hart16(survey.hart16)
    assert list(table.columns) == gz2.hart16_columns() and len(table) == 120
    assert set(table["sample"]) <= {"original", "extra", "stripe82"}
    counts = table[[a.col("count") for a in gz2.ANSWERS]].sum(axis=1)
    assert (counts == table.total_votes).all()


def test_every_classification_answers_task_1_and_votes_follow_the_tree(survey):
    table = loaders.read_hart16(survey.hart16)
    t01 = table.filter(regex=r"^t01_.*_count$").sum(axis=1)
    assert (t01 == table.total_classifications).all()
    smooth = table["t01_smooth_or_features_a01_smooth_count"]
    assert (table.filter(regex=r"^t07_.*_count$").sum(axis=1) == smooth).all()
    edge_yes = table["t02_edgeon_a04_yes_count"]
    assert (table.filter(regex=r"^t09_.*_count$").sum(axis=1) == edge_yes).all()
    odd_yes = table["t06_odd_a14_yes_count"]
    assert (table.filter(regex=r"^t08_.*_count$").sum(axis=1) == odd_yes).all()


def test_side_tables_and_images_read_with_the_real_loaders(survey):
    mapping = loaders.read_filename_mapping(survey.mapping)
    images = loaders.open_images(survey.images)
    table = loaders.read_hart16(survey.hart16)
    original = table.loc[table["sample"] == "original", "dr7objid"]
    matched, report = loaders.attach_images(pd.DataFrame({"objid": table.dr7objid}), mapping, images,
                                            check_decode=True)
    assert set(matched.objid) == set(original) and report.undecodable == []
    assert images.read(matched.asset_id.iloc[0]).shape == (24, 24, 3)
    gswlc = loaders.read_gswlc(survey.gswlc)
    yang = loaders.read_yang(survey.yang_galaxies, survey.yang_members, survey.yang_groups)
    sides = loaders.side_table(table, gswlc, yang)
    assert sides.in_gswlc.mean() > 0.8 and sides.in_yang.mean() > 0.8
    assert sides.logmstar.notna().sum() > 80


def test_known_detg_are_true_detg_kept_apart_from_the_truth(survey):
    known = loaders.read_dustlanes(survey.dustlanes, allow_empty=True)
    truth = pd.read_csv(survey.truth)
    true_ids = set(truth.loc[truth.is_detg, "objid"])
    assert set(known.objid) <= true_ids
    assert (known.z < 0.1).all()
    assert not any("truth" in str(p) for p in (survey.hart16, survey.mapping, survey.dustlanes))


def test_detg_are_star_forming_early_types():
    pop = draw_population(20000, seed=1)
    detg = pop[pop.is_detg]
    assert (detg.kind == "elliptical").all() and len(detg) > 50
    normal = pop[(pop.kind == "elliptical") & ~pop.is_detg]
    assert detg.logsfr.median() > normal.logsfr.median() + 0.5


def test_small_faint_galaxies_get_fewer_feature_votes():
    pop = draw_population(4000, seed=2)
    vis = visibility(pop.r90_arcsec.to_numpy(), pop.r_mag.to_numpy())
    probs = answer_probabilities(pop, vis)["t01_smooth_or_features"]
    spirals = pop.spiral.to_numpy()
    small = spirals & (vis < np.quantile(vis[spirals], 0.25))
    large = spirals & (vis > np.quantile(vis[spirals], 0.75))
    assert probs[small, 1].mean() < probs[large, 1].mean() - 0.1


def test_debiasing_undoes_part_of_the_smooth_lean(survey):
    table = loaders.read_hart16(survey.hart16)
    feat_w = table["t01_smooth_or_features_a02_features_or_disk_weighted_fraction"]
    feat_d = table["t01_smooth_or_features_a02_features_or_disk_debiased"]
    assert (feat_d >= feat_w - 1e-3).all() and (feat_d > feat_w + 0.01).any()


def test_votes_are_deterministic_per_generator():
    pop = draw_population(200, seed=5)
    a, _, _ = cast_votes(pop, np.random.default_rng(9))
    b, _, _ = cast_votes(pop, np.random.default_rng(9))
    assert all((a[k] == b[k]).all() for k in a)


def test_labels_and_training_stages_on_a_simulated_survey(survey, tmp_path):
    counts = gz2.write_labels(survey, tmp_path / "labels")
    assert counts["n_table"] == 120 and 0 < counts["n_labelled"] < 120
    assert counts["n_labelled_with_image"] + counts["n_missing_image"] == counts["n_labelled"]
    train = gz2.write_training(tmp_path / "labels", tmp_path / "training", cap=5, seed=0)
    manifest = gz2.read_training_manifest(tmp_path / "training" / "manifest.csv", check_images=True)
    assert len(manifest) == train["n_training"] and manifest.tags.value_counts().max() <= 5
    assert (manifest.caption == "sdss, " + manifest.tags.str.replace("|", ", ", regex=False)).all()
    assert not set(manifest.objid) & set(gz2.known_detg(tmp_path / "labels"))
    cat = gz2.labelled_catalog(tmp_path / "labels")
    assert len(cat) == 120 and {"ws_t03_bar", "conf_t04_spiral_a08_spiral", "logsfr", "loghalo"} <= set(cat.columns)
    assert set(gz2.binary_labels(cat, "spiral").dropna().unique()) <= {0.0, 1.0}
    steps = gz2.selection_steps(counts, train)
    assert steps.loc["n_table", "paper"] == 239695 and steps.loc["n_training", "this run"] == len(manifest)
    truth = gz2.truth_table(tmp_path / "labels")
    assert set(gz2.true_detg(tmp_path / "labels")) == set(truth.objid[truth.is_detg.astype(str) == "True"])
    recovery = gz2.tag_recovery(cat, truth)
    assert ((recovery.purity >= 0) & (recovery.purity <= 1)).all()


def test_paper_layout_with_zipped_images_runs_without_network(survey, tmp_path):
    """The paper profile's path: files already in $GALAXYSD_DATA/gz2, images inside the Zenodo zip."""
    import shutil
    import zipfile

    from galaxysd.gz2 import fetch

    root = fetch.data_root(tmp_path)
    for name in ("gz2_hart16.csv.gz", "gz2_filename_mapping.csv"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(survey.root / name, root / name)
    for src, dst in ((survey.dustlanes, "dustlanes/Basic_Information.txt"), (survey.gswlc, "gswlc/GSWLC-X2.dat.gz"),
                     (survey.yang_galaxies, "yang/SDSS7"), (survey.yang_members, "yang/imodelC_1"),
                     (survey.yang_groups, "yang/modelC_group")):
        (root / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / dst)
    # the real list is never empty (the paper route refuses an empty one): list three table galaxies
    table = gz2.read_hart16(survey.hart16)
    with open(root / "dustlanes/Basic_Information.txt", "a") as f:
        for objid, ra, dec in table[["dr7objid", "ra", "dec"]].head(3).itertuples(index=False):
            f.write(f"{objid} {ra:.5f} {dec:.5f} 0.05 1 3 -999 1.0\n")
    with zipfile.ZipFile(root / "images_gz2.zip", "w") as zf:
        for p in sorted(survey.images.iterdir()):
            zf.write(p, f"images/{p.name}")
            zf.writestr(f"__MACOSX/images/._{p.name}", b"resource fork")
    files = fetch.fetch_all(tmp_path, progress=False)
    assert files.images.name == "images_gz2.zip"
    counts = gz2.write_labels(files, tmp_path / "labels", image_dir=tmp_path / "extracted")
    reference = gz2.write_labels(survey, tmp_path / "labels_ref")
    assert counts["n_labelled_with_image"] == reference["n_labelled_with_image"]
    cat = gz2.labelled_catalog(tmp_path / "labels")
    with_image = cat[cat.image_path != ""]
    assert all(p.startswith(str((tmp_path / "extracted").resolve())) for p in with_image.image_path)
    sums = (root / "checksums.json").read_text()
    assert "images_gz2.zip" in sums and "gz2_hart16.csv.gz" in sums
