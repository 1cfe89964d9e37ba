"""Galaxy Zoo 2: schema, labels from votes, tags and prompts, loaders, and the simulated survey.

The names most callers need are re-exported here::

    from galaxysd import gz2
    gz2.TABLE1_PROMPTS["F"]            # "sdss, spiral galaxy with 4 spiral arms"
    manifest = gz2.read_training_manifest(paths.run)
"""

from galaxysd.gz2.manifest import (MANIFEST_COLUMNS, TRAINING_STAGE, read_training_manifest,
                                   training_manifest_path, write_manifest)
from galaxysd.gz2.prompts import DETG_PROMPTS, TABLE1_PROMPTS, TABLE1_TAGS, table1_subset, unseen_words
from galaxysd.gz2.schema import ANSWERS, TASKS, THRESHOLDS, TREE, hart16_columns
from galaxysd.gz2.tags import (CAPTION_PREFIX, EARLY_TYPE_TAGS, PRIMARY_TAGS, TAG_ORDER, TAG_PHRASES,
                               caption, caption_examples, caption_from_tags, sort_tags, split_tags,
                               vocabulary_table)

__all__ = ["ANSWERS", "TASKS", "THRESHOLDS", "TREE", "hart16_columns", "TABLE1_PROMPTS", "TABLE1_TAGS", "table1_subset",
           "DETG_PROMPTS", "unseen_words", "CAPTION_PREFIX", "EARLY_TYPE_TAGS", "PRIMARY_TAGS",
           "TAG_ORDER", "TAG_PHRASES", "caption", "caption_examples", "caption_from_tags", "sort_tags", "split_tags", "vocabulary_table",
           "MANIFEST_COLUMNS", "TRAINING_STAGE", "read_training_manifest", "training_manifest_path",
           "write_manifest"]

from galaxysd.gz2.catalog import (BINARY_TASKS, LABELS_STAGE, SURVEY_STAGE, binary_labels,  # noqa: E402
                                  known_detg, labelled_catalog, read_counts, selection_steps, survey_of,
                                  tag_recovery, true_detg, truth_table, write_labels, write_training)
from galaxysd.gz2.labels import (PAPER_COUNTS, balance, confident_answers, exclude_detg,  # noqa: E402
                                 has_tag, label_catalog, tag_counts, well_sampled)
from galaxysd.gz2.loaders import read_hart16  # noqa: E402
from galaxysd.gz2.simulate import SIMULATOR_VERSION, SurveyFiles, simulate_survey, survey_files  # noqa: E402

__all__ += ["read_hart16", "LABELS_STAGE", "SURVEY_STAGE", "read_counts", "selection_steps", "tag_recovery",
            "SIMULATOR_VERSION", "BINARY_TASKS", "binary_labels", "known_detg", "labelled_catalog", "survey_of", "true_detg",
            "truth_table", "write_labels", "write_training", "PAPER_COUNTS", "balance", "confident_answers",
            "exclude_detg", "has_tag", "label_catalog", "tag_counts", "well_sampled", "SurveyFiles",
            "simulate_survey", "survey_files"]

from galaxysd.gz2.figures import tags_present, thresholds_table  # noqa: E402

from galaxysd.gz2.catalog import reads_real_data  # noqa: E402

__all__ += ["reads_real_data", "thresholds_table", "tags_present"]
