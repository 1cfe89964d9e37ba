"""The index of the book's figures and tables: each one's chapter, the function that makes it, and its files.

A chapter that saves a figure or table adds one :class:`Output` row to :data:`OUTPUTS`; the runner
writes the index to the reproducing page (:func:`index_table`), and a test checks that every file the
smoke run saves has a row and that every row's function exists, so the index cannot drift. Paper
figures and tables keep the paper's numbers in their file names (``fig3_...``, ``table1_...``);
figures the paper does not have are named without a number.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from galaxysd.paths import PACKAGE_DIR


@dataclass(frozen=True)
class Output:
    """One figure or table of the book.

    Attributes
    ----------
    paper : str
        Its number in the paper (``"Figure 2"``, ``"Table 1"``), or ``""`` if the paper has none.
    stem : str
        File name without extension under ``figures/<profile>/`` (``"fig2_upset"``).
    kind : str
        ``"figure"`` (saved as PNG and PDF), ``"table"`` (saved as CSV) or ``"catalogue"`` (FITS, ECSV,
        VOTable and plain CSV).
    chapter : str
        The notebook that makes it.
    function : str
        Dotted name of the function that draws or computes it.
    what : str
        A few words on what it shows.
    """

    paper: str
    stem: str
    kind: str
    chapter: str
    function: str
    what: str

    @property
    def files(self) -> tuple[str, ...]:
        """The file names it is saved as."""
        if self.kind == "catalogue":
            return (f"{self.stem}.fits", f"{self.stem}.ecsv", f"{self.stem}.vot", f"{self.stem}.csv")
        return (f"{self.stem}.csv",) if self.kind == "table" else (f"{self.stem}.png", f"{self.stem}.pdf")


OUTPUTS: list[Output] = [
    Output("Figure 1", "fig1_schematic", "figure", "01_data", "galaxysd.plots.pipeline_schematic",
           "the pipeline, drawn by code"),
    Output("", "fig_redshift_bias", "figure", "01_data", "galaxysd.gz2.figures.redshift_bias_figure",
           "smooth fraction against redshift, raw and debiased"),
    Output("Figure 2", "fig2_upset", "figure", "01_data", "galaxysd.gz2.figures.upset_figure",
           "which tags occur together in the training set (UpSet)"),
    Output("Table 1", "table1_prompts", "table", "01_data", "galaxysd.gz2.figures.table1",
           "the prompts A-P (``TABLE1_PROMPTS`` in galaxysd/gz2/prompts.py) and how many "
           "training galaxies carry each"),
    Output("Figure B3", "figB3_question_tree", "figure", "01_data",
           "galaxysd.gz2.figures.question_tree_figure", "the GZ2 decision tree"),
    Output("", "gallery_tags", "figure", "01_data", "galaxysd.gz2.figures.gallery_figure",
           "example training images per tag"),
    Output("", "fig_finetune_loss", "figure", "02_finetune", "galaxysd.diffusion.report.loss_curve_figure",
           "the fine-tuning loss (the number of training steps is ``max_steps`` in the parameters of "
           "notebooks/02_finetune.py; galaxysd/profiles/*.yaml override it per profile)"),
    Output("", "fig_finetune_samples", "figure", "02_finetune",
           "galaxysd.diffusion.report.checkpoint_sample_grid", "the same prompts across checkpoints"),
    Output("", "fig_web_collection", "figure", "02_finetune", "galaxysd.diffusion.figure_e5.web_collection_figure",
           "pictures of the simulated web collection the demo's base model is pre-trained on, with their "
           "captions (the collection is galaxysd/gz2/simulate/web.py; its size and whether it holds dusty "
           "early types are ``pretrain_*`` in the parameters of notebooks/02_finetune.py)"),
    Output("Figure E5", "figE5_base_vs_finetuned", "figure", "02_finetune", "galaxysd.diffusion.figure_e5.figure_e5",
           "real galaxies, the base model before fine-tuning (in plain wording, ``TABLE1_WEB_PROMPTS`` in "
           "galaxysd/gz2/simulate/web_captions.py) and the fine-tuned model, for the Table 1 prompts"),
    Output("Figure 3", "fig3_generated", "figure", "03_generate", "galaxysd.diffusion.gallery.figure3",
           "real and generated galaxies for each prompt A-P"),
    Output("", "fig_brightness", "figure", "03_generate", "galaxysd.diffusion.gallery.brightness_figure",
           "text-to-image against image-to-image brightness"),
    Output("", "fig_dust_sweep", "figure", "03_generate", "galaxysd.diffusion.gallery.sweep_figure",
           "an early type with its dust-lane phrase weighted more and more"),
    Output("Figure A1", "figA1_simclr_training", "figure", "04_embedding", "galaxysd.evaluation.figures.figure_a1",
           "the SimCLR loss and top-1 positive-pair accuracy against step"),
    Output("Figure A2", "figA2_tsne", "figure", "04_embedding", "galaxysd.evaluation.figures.figure_a2",
           "t-SNE of the real galaxies by morphology, with the generated ones placed on it"),
    Output("Figure 4", "fig4_metrics_vs_step", "figure", "05_quality", "galaxysd.evaluation.figures.figure4",
           "realism, diversity and consistency against training step"),
    Output("Figure 5", "fig5_pareto", "figure", "05_quality", "galaxysd.evaluation.figures.figure5",
           "realism against diversity per prompt type, with Pareto fronts"),
    Output("", "table_judge_check", "table", "05_quality", "galaxysd.stages.s05_quality.judge_check_stage",
           "each linear judge beside a ResNet-18 of its own on the same held-out galaxies"),
    Output("Table 2", "table2_classification", "table", "06_classification", "galaxysd.classify.figures.table2",
           "purity, completeness and F1 of spiral, disk, bar and bulge classifiers, three methods"),
    Output("", "fig_classification_sweep", "figure", "06_classification", "galaxysd.classify.figures.sweep_figure",
           "F1 against the number of generated positives added"),
    Output("Table 3", "table3_detg", "table", "07_detg_experiment", "galaxysd.stages.s07_detg_experiment.table3",
           "the 1:100 D-ETG experiment: baseline, focal loss, generated D-ETGs"),
    Output("Figure 6", "fig6_detg_experiment", "figure", "07_detg_experiment",
           "galaxysd.detg.figures.gallery_rows_figure", "generated and real D-ETGs; test galaxies each method got wrong"),
    Output("", "table_detg_search", "table", "08_detg_catalog", "galaxysd.detg.search.search_table",
           "candidates, confirmed and new D-ETGs per search iteration, beside the paper's"),
    Output("", "fig_detg_search", "figure", "08_detg_catalog", "galaxysd.detg.figures.search_figure",
           "the search per iteration, with completeness and purity against the simulation's truth"),
    Output("Figure 7", "fig7_detg_found", "figure", "08_detg_catalog", "galaxysd.detg.figures.gallery_rows_figure",
           "generated D-ETGs and D-ETGs the search found"),
    Output("", "fig_detg_control", "figure", "08_detg_catalog", "galaxysd.detg.figures.control_match_figure",
           "the control early types matched in redshift and stellar mass"),
    Output("Figure 8", "fig8_detg_redshift", "figure", "08_detg_catalog", "galaxysd.detg.figures.redshift_kde_figure",
           "redshift distributions of new and known D-ETGs"),
    Output("Figure 9", "fig9_detg_sfr_halo", "figure", "08_detg_catalog", "galaxysd.detg.figures.sfr_halo_figure",
           "cumulative SFR and halo mass: new, known, control"),
    Output("Figure D4", "figD4_detg_magnitude_mass", "figure", "08_detg_catalog",
           "galaxysd.detg.figures.magnitude_mass_figure", "cumulative r magnitude and stellar mass"),
    Output("", "detg_catalogue", "catalogue", "08_detg_catalog", "galaxysd.detg.catalogue.write_catalogue",
           "the catalogue of confirmed D-ETGs (FITS, ECSV and a VOTable with UCDs, with provenance; plain CSV)"),
]


def source_file(function: str) -> str:
    """The file, relative to the project, that defines a dotted function name (without importing it).

    Examples
    --------
    >>> source_file("galaxysd.plots.pipeline_schematic")
    'galaxysd/plots.py'
    """
    module = function.rsplit(".", 1)[0]
    relative = Path(*module.split(".")[1:])
    for candidate in (PACKAGE_DIR / relative.with_suffix(".py"), PACKAGE_DIR / relative / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(PACKAGE_DIR.parent).as_posix()
    spec = importlib.util.find_spec(module)
    return spec.origin if spec and spec.origin else module


def known_files() -> set[str]:
    """Every file name that some :data:`OUTPUTS` row is saved as."""
    return {name for output in OUTPUTS for name in output.files}


def index_table(profile: str, outputs: list[Output] | None = None) -> str:
    """The index as a Markdown table: figure or table → chapter → function → its source file → saved as.

    Examples
    --------
    >>> print(index_table("demo", OUTPUTS[:1]).splitlines()[2])
    | Figure 1: the pipeline, drawn by code | 01_data | `galaxysd.plots.pipeline_schematic` | `galaxysd/plots.py` | `figures/demo/fig1_schematic.png`, `.pdf` |
    """
    rows = []
    for o in outputs if outputs is not None else OUTPUTS:
        saved = f"`figures/{profile}/{o.files[0]}`" + {"figure": ", `.pdf`", "catalogue": ", `.ecsv`, `.vot`, `.csv`"}.get(o.kind, "")
        rows.append(f"| {o.paper + ': ' if o.paper else ''}{o.what} | {o.chapter} | `{o.function}` | `{source_file(o.function)}` | "
                    f"{saved} |")
    return ("| output | chapter | made by | in | saved as |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
