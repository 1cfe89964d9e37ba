"""The chapter 04/05 stage helpers: missing stages name the notebook to run, verdicts earn their words."""

import pandas as pd
import pytest

from galaxysd import gz2
from galaxysd.errors import DataError
from galaxysd.stages import s04_embedding as s04
from galaxysd.stages import s05_quality as s05


def test_a_missing_embedding_names_notebook_04(tmp_path):
    with pytest.raises(DataError, match="run notebook 04_embedding first"):
        s04.read_embeddings(tmp_path)
    with pytest.raises(DataError, match="run notebook 04_embedding first"):
        s04.load_encoder(tmp_path)


def test_missing_checkpoints_name_notebook_02(tmp_path):
    with pytest.raises(DataError, match="run notebook 02_finetune first"):
        s05.checkpoints(tmp_path)


def test_every_table1_letter_has_one_prompt_type():
    assert sorted("".join(s05.PROMPT_TYPES.values())) == sorted(gz2.TABLE1_PROMPTS)
    assert s05.prompt_type("K") == "rare features (E, K, M, O, P)"


def test_real_masks_need_every_tag_of_a_prompt():
    galaxies = pd.DataFrame({"tags": ["in-between round galaxy|dust lane", "in-between round galaxy", "spiral galaxy"]})
    masks = s05.real_masks(galaxies, "DK")
    assert masks["D"].tolist() == [True, True, False]
    assert masks["K"].tolist() == [True, False, False]


def test_a_change_is_called_a_rise_only_when_its_interval_says_so():
    assert "rose" in s05.change_sentence("Realism", (0.1, 0.05, 0.15), 100, 200)
    assert "fell" in s05.change_sentence("Realism", (-0.1, -0.15, -0.05), 100, 200)
    assert "too little to tell" in s05.change_sentence("Realism", (0.01, -0.02, 0.04), 100, 200)


def test_paired_changes_use_only_galaxies_measured_at_both_steps():
    per_image = pd.DataFrame({"step": [1, 1, 2, 2, 2], "sample_id": ["A-0", "A-1", "A-0", "A-1", "A-2"],
                              "label": ["A"] * 5, "realism": [0.5, 0.6, 0.7, 0.8, 0.0]})
    change, low, high = s05.change_between(per_image, 1, 2, "realism")
    assert change == pytest.approx(0.2) and low == pytest.approx(0.2)
    with pytest.raises(DataError, match="both step"):
        s05.change_between(per_image, 1, 3, "realism")
