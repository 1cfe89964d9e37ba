"""Figures shared by several notebooks: saving, profile labels, and Figure 1 (the schematic)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from galaxysd.accessibility import alt_text, describe
from galaxysd.cache import atomic_path

FORMATS = ("png", "pdf")

#: The book's matplotlib style: font sizes, spines, resolution. Every figure module imports this module,
#: so importing any of them applies it; figures set no literal font sizes of their own.
BOOK_STYLE = Path(__file__).parent / "assets" / "book.mplstyle"


def apply_book_style() -> None:
    """Apply the book's matplotlib style (``galaxysd/assets/book.mplstyle``) to every later figure."""
    plt.style.use(BOOK_STYLE)


apply_book_style()


def save_figure(fig: "plt.Figure", figures_dir: str | os.PathLike, name: str, dpi: int = 150,
                alt: str | None = None) -> list[Path]:
    """Save a figure as PNG and PDF, atomically, with its alt text in the files' metadata.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    figures_dir : str or path-like
        The profile's figure folder (``RunPaths.figures``).
    name : str
        File stem, e.g. ``"fig1_schematic"``.
    dpi : int, optional
        Resolution of the PNG.
    alt : str, optional
        What the figure shows (default: :func:`galaxysd.accessibility.alt_text`), written as the PNG's
        ``Description`` and the PDF's ``Subject``.

    Returns
    -------
    list of pathlib.Path
        The files written, PNG first.

    Examples
    --------
    >>> save_figure(fig, paths.figures, "fig2_upset")  # doctest: +SKIP
    """
    folder = Path(figures_dir)
    folder.mkdir(parents=True, exist_ok=True)
    alt = alt or alt_text(fig)
    written = []
    for fmt in FORMATS:
        target = folder / f"{name}.{fmt}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=fmt,
                        metadata={"png": {"Description": alt}, "pdf": {"Subject": alt}}.get(fmt))
        written.append(target)
    return written


def publish(fig: "plt.Figure", figures_dir: str | os.PathLike, name: str, dpi: int = 150,
            alt: str | None = None) -> list[Path]:
    """Save a figure as PNG and PDF, hand it to the book under ``name`` with its alt text, and close it.

    The book shows the figure where a ``{glue:figure} name`` directive asks for it, with its caption;
    closing it keeps the notebook from also printing it as a bare cell output. The alt text (what the
    figure shows, for a screen reader) travels in the glued output's metadata; the runner writes it into
    the directive (:func:`galaxysd.accessibility.add_alt_to_notebook`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    figures_dir : str or path-like
        The profile's figure folder.
    name : str
        File stem and glue key, e.g. ``"fig3_prompts"``.
    dpi : int, optional
        Resolution of the PNG.
    alt : str, optional
        What the figure shows; default: the figure function's :func:`galaxysd.accessibility.describe`
        text, else one composed from the figure's titles and labels.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> publish(fig, paths.figures, "fig1_schematic")  # doctest: +SKIP
    """
    alt = alt or alt_text(fig)
    written = save_figure(fig, figures_dir, name, dpi, alt)
    try:
        from myst_nb import glue
    except ImportError:  # outside the book toolchain the files on disk are what matters
        glue = None
    if glue is not None:
        # Glue the saved PNG rather than the figure object: a figure's rich display depends on the
        # kernel's matplotlib backend (none under MPLBACKEND=Agg), the file's does not.
        from IPython.display import Image

        glue(name, Image(data=written[0].read_bytes(), format="png", metadata={"alt": alt}), display=False)
    plt.close(fig)
    return written


def show(fig: "plt.Figure", alt: str | None = None) -> None:
    """Show a figure in the notebook with its alt text, without saving it, and close it.

    For figures that are not the paper's (an exercise's plot, say): the book renders the image with
    what it shows as its ``alt`` (:func:`galaxysd.accessibility.add_alt_to_notebook` moves the text
    from the output's metadata into the cell's image options), where a figure left for the notebook's
    backend to print would get its hashed file name as alt text.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    alt : str, optional
        What the figure shows; default: as :func:`publish`.

    Examples
    --------
    >>> show(report.loss_curve_figure(history, label))  # doctest: +SKIP
    """
    import io

    alt = alt or alt_text(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, bbox_inches="tight", format="png", metadata={"Description": alt})
    plt.close(fig)
    try:
        from IPython.display import Image, display
    except ImportError:  # no notebook: nothing to show
        return
    display(Image(data=buffer.getvalue(), format="png", metadata={"alt": alt}))


def save_table(table, figures_dir: str | os.PathLike, name: str) -> Path:
    """Save a table as ``<figures_dir>/<name>.csv``, atomically, beside the figures.

    Parameters
    ----------
    table : pandas.DataFrame
        The table; its index is written as the first column(s).
    figures_dir : str or path-like
        The profile's figure folder.
    name : str
        File stem, with the paper's number: ``"table1_prompts"``.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> save_table(table1, paths.figures, "table1_prompts")  # doctest: +SKIP
    """
    folder = Path(figures_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.csv"
    with atomic_path(target) as tmp:
        table.to_csv(tmp)
    return target


def profile_label(profile: str, real_data: bool | None) -> str:
    """A short caption tag that says which profile and which data a figure was made from.

    Parameters
    ----------
    profile : str
        The profile's name.
    real_data : bool or None
        Whether the run read the real GZ2 data (:func:`galaxysd.gz2.reads_real_data`); decided from
        what the run read, never from the profile's name. ``None``: not known yet.

    Examples
    --------
    >>> profile_label("my-gpu", True)
    'my-gpu profile: real GZ2 data'
    >>> profile_label("demo", False)
    "demo profile: simulated survey (not the paper's data)"
    """
    if real_data:
        return f"{profile} profile: real GZ2 data"
    if real_data is None:
        return f"{profile} profile"
    return f"{profile} profile: simulated survey (not the paper's data)"


def _box(ax, x, y, w, h, title, lines, colour):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.03",
                                facecolor=colour, edgecolor="0.25", linewidth=1.2))
    ax.text(x + w / 2, y + h - 0.06, title, ha="center", va="top", fontsize="large", weight="bold")
    ax.text(x + w / 2, y + h - 0.17, "\n".join(lines), ha="center", va="top",
            linespacing=1.5)


def _arrow(ax, start, end, label=""):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=16, linewidth=1.4,
                                 color="0.2"))
    if label:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.035, label, ha="center",
                fontsize="small", style="italic")


def pipeline_schematic(profile: str = "demo", example_prompt: str =
                       "sdss, spiral galaxy, tightly wound spiral arms, 2 spiral arms",
                       real_data: bool = False) -> "plt.Figure":
    """Figure 1: the pipeline from GZ2 images and tags to fine-tuning, generation and downstream use.

    Parameters
    ----------
    profile : str, optional
        Profile name, written in the corner so the figure says where it came from.
    example_prompt : str, optional
        A caption in the authors' style, shown on the training and generation boxes.
    real_data : bool, optional
        Whether the run reads the real GZ2 data (written in the corner with the profile).

    Returns
    -------
    matplotlib.figure.Figure
        The schematic.

    Examples
    --------
    >>> fig = pipeline_schematic("demo")  # doctest: +SKIP
    """
    fig, ax = plt.subplots(figsize=(12, 4.2))
    ax.set_xlim(0, 4.3)
    ax.set_ylim(0, 1.1)
    ax.axis("off")
    wrapped = example_prompt.replace(", ", ",\n", 2)
    _box(ax, 0.05, 0.15, 0.9, 0.8, "Galaxy Zoo 2", [
        "gri images (424×424)", "volunteer votes → tags", "(debiased fraction > 0.8)", "",
        f"\"{wrapped}\""], "#dbe9f6")
    _box(ax, 1.15, 0.15, 0.9, 0.8, "Fine-tuning", [
        "Stable Diffusion v1.5", "UNet + CLIP text encoder", "ε-prediction MSE loss",
        "captions resampled", "from tags each step"], "#fde5c8")
    _box(ax, 2.25, 0.15, 0.9, 0.8, "Generation", [
        "morphology prompt", "{dust lane:1.3} weights", "img2img from a real", "reference (strength 1.0)",
        "Euler-a, 40 steps"], "#e2f0d9")
    _box(ax, 3.35, 0.15, 0.9, 0.8, "Downstream tasks", [
        "quality: realism,", "diversity, consistency", "classification with", "augmented training sets",
        "rare D-ETG search"], "#eadcf2")
    for x0 in (0.95, 2.05, 3.15):
        _arrow(ax, (x0 + 0.01, 0.55), (x0 + 0.19, 0.55))
    ax.text(1.05, 0.6, "pairs", ha="center", fontsize="small", style="italic")
    ax.text(2.15, 0.6, "weights", ha="center", fontsize="small", style="italic")
    ax.text(3.25, 0.6, "images", ha="center", fontsize="small", style="italic")
    ax.text(4.25, 0.02, profile_label(profile, real_data), ha="right", fontsize="small", color="0.4")
    fig.tight_layout()
    return describe(fig, "Schematic of the pipeline in four boxes joined by arrows: Galaxy Zoo 2 images and "
                    "tags, fine-tuning Stable Diffusion v1.5, generation from morphology prompts, and the "
                    "downstream tasks (quality, classification, the rare D-ETG search).")
