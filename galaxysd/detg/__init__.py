"""Dusty early-type galaxies (Section 4.3, Appendix D): the 1:100 experiment, the search of the whole
survey, inspection, the control sample, the catalogue and the figures.

The classifier comes from outside, as two callables, so that any training loop plugs in::

    train(ids, labels) -> scorer        # ids: objIDs or generated-image ids; labels 0/1
    scorer(objids) -> scores            # one float per galaxy, higher = more D-ETG-like

Modules, one idea each:

``experiment``     the 1:100 training set and the held-out test set (:func:`sample_experiment`)
``verdicts``       the one verdict-file format, validation, two-of-three majority voting
``inspectors``     simulated inspectors with their own error rates
``session``        one inspector's pass over a candidate list (save, resume), browser-free
``widget``         the ipywidgets view of a session
``steps``          inspection steps for the search: simulated, people's files, supplied verdicts
``scoring``        batched, resumable, sharded scoring of the survey (a manifest of score parts)
``search``         score -> candidates -> inspect -> retrain, K times; counts and truth metrics
``control``        a control sample matched in redshift and stellar mass without replacement
``distributions``  side-table values with counts of what is missing; bootstrap CDF bands
``catalogue``      the FITS / CSV catalogue with provenance
``figures``        Figures 8, 9, D4, the control match and the search
"""

from galaxysd.detg.catalogue import build_catalogue, read_catalogue, write_catalogue
from galaxysd.detg.control import ControlMatch, match_control
from galaxysd.detg.distributions import CdfBand, cdf_band, side_values
from galaxysd.detg.experiment import (ExperimentSplit, NoKnownDETGError, TooFewKnownDETGError, hidden_positives,
                                      method_training_sets, oracle_positives, score_test_set,
                                      sample_experiment)
from galaxysd.detg.inspectors import SimulatedInspector, simulated_inspection, simulated_panel
from galaxysd.detg.scoring import (ScoringIncompleteError, collect_scores, open_scoring, score_survey,
                                   scoring_complete)
from galaxysd.detg.search import PAPER_CANDIDATES, PAPER_KNOWN, PAPER_NEW, SearchResult, run_search, search_table
from galaxysd.detg.session import InspectionSession
from galaxysd.detg.steps import file_step, simulated_step, supplied_step
from galaxysd.detg.verdicts import (VERDICT_COLUMNS, VERDICT_WORDS, VerdictError, VerdictsMissingError, majority,
                                    read_verdicts, require_verdicts, validate_verdicts, verdict_path, write_verdicts)

__all__ = ["build_catalogue", "read_catalogue", "write_catalogue", "ControlMatch", "match_control", "CdfBand",
           "cdf_band", "side_values", "ExperimentSplit", "NoKnownDETGError", "TooFewKnownDETGError",
           "hidden_positives", "method_training_sets", "oracle_positives", "score_test_set", "sample_experiment",
           "SimulatedInspector", "simulated_inspection",
           "simulated_panel", "ScoringIncompleteError", "collect_scores", "open_scoring", "score_survey", "scoring_complete",
           "PAPER_CANDIDATES", "PAPER_KNOWN", "PAPER_NEW", "SearchResult", "run_search", "search_table", "InspectionSession",
           "file_step", "simulated_step", "supplied_step", "VERDICT_COLUMNS", "VERDICT_WORDS", "VerdictError",
           "VerdictsMissingError", "majority", "read_verdicts", "require_verdicts", "validate_verdicts",
           "verdict_path", "write_verdicts"]
