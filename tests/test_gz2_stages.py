"""The 01_data stages as one call each: cached, same folders, and what the notebook shows next."""

import pytest

from galaxysd import gz2
from galaxysd.paths import run_paths
from galaxysd.stages import s01_data as s01


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("stages")
    return run_paths("smoke", root / "runs", root / "figures", root / "data")


def test_survey_labels_and_training_stages_write_the_documented_folders_and_reload(paths):
    survey = s01.survey_stage(paths, n_galaxies=120, image_size=24, seed=2, progress=False)
    assert survey.root == paths.run / gz2.SURVEY_STAGE and survey.hart16.is_file()
    labels = s01.labels_stage(paths, survey, min_debiased=0.75)
    assert labels.path == paths.run / gz2.LABELS_STAGE and not labels.hit
    assert len(labels.catalog) == labels.counts["n_table"] == 120
    assert len(labels.labelled) == labels.counts["n_labelled"] and (labels.labelled.n_tags > 0).all()
    assert labels.captions(3).caption.str.startswith("sdss, ").all()
    training = s01.training_stage(paths, labels, cap=4, seed=1)
    assert training.path / "manifest.csv" == gz2.training_manifest_path(paths.run)
    assert len(training.manifest) == training.counts["n_training"]
    assert training.manifest.tags.value_counts().max() <= 4

    mtime = survey.hart16.stat().st_mtime_ns
    again = s01.survey_stage(paths, n_galaxies=120, image_size=24, seed=2, progress=False)
    assert again == survey and survey.hart16.stat().st_mtime_ns == mtime
    assert s01.labels_stage(paths, survey, min_debiased=0.75).hit
    assert s01.training_stage(paths, labels, cap=4, seed=1).hit
    assert not s01.training_stage(paths, labels, cap=3, seed=1).hit


def test_real_data_stage_uses_the_files_in_the_data_folder_without_network(paths, tmp_path):
    import shutil

    survey = s01.survey_stage(paths, n_galaxies=120, image_size=24, seed=2, progress=False)
    real = run_paths("paper", tmp_path / "runs", tmp_path / "figures", tmp_path / "data")
    root = real.data / "gz2"
    for src, dst in ((survey.hart16, "gz2_hart16.csv.gz"), (survey.mapping, "gz2_filename_mapping.csv"),
                     (survey.dustlanes, "dustlanes/Basic_Information.txt"), (survey.gswlc, "gswlc/GSWLC-X2.dat.gz"),
                     (survey.yang_galaxies, "yang/SDSS7"), (survey.yang_members, "yang/imodelC_1"),
                     (survey.yang_groups, "yang/modelC_group")):
        (root / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / dst)
    shutil.copytree(survey.images, root / "images")
    table = gz2.read_hart16(survey.hart16)  # the real known list is never empty: list two table galaxies
    with open(root / "dustlanes/Basic_Information.txt", "a") as f:
        for objid, ra, dec in table[["dr7objid", "ra", "dec"]].head(2).itertuples(index=False):
            f.write(f"{objid} {ra:.5f} {dec:.5f} 0.05 1 3 -999 1.0\n")
    # the images unpacked in the Zenodo layout count as the images: no zip, nothing downloaded
    files = s01.survey_stage(real, real_data=True, progress=False)
    assert files.hart16 == root / "gz2_hart16.csv.gz" and files.images == root / "images"
    labels = s01.labels_stage(real, files)
    assert labels.counts["n_labelled_with_image"] > 0
    assert not (real.run / gz2.SURVEY_STAGE).exists()
