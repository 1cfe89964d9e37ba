"""Alt text for the book's figures: what each figure shows, for readers who cannot see it.

A figure function may say in words what its figure shows with :func:`describe`; where it does not,
:func:`alt_text` composes a description from the figure itself (its title, its panels' titles and axis
labels, how many images it holds). :func:`galaxysd.plots.publish` stores that text three ways: in the
PNG's ``Description`` field, in the PDF's ``Subject``, and in the glued output's metadata. The runner
then writes it as the ``:alt:`` option of the ``{glue:figure}`` directive that shows the figure in the
executed notebook (:func:`add_alt_to_notebook`), since myst-nb takes an image's alt from the directive's
options only. Without it, an ``<img>``'s ``alt`` is its hashed file name, which a screen reader reads out.
"""

from __future__ import annotations

import re
import weakref

#: Descriptions given by figure functions, per figure (weak keys: a closed figure takes its text along).
_DESCRIPTIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
#: Longest composed alt text: screen readers read alt text whole, so it stays a sentence or three.
MAX_ALT = 400


def describe(fig, text: str):
    """Say in words what a figure shows; :func:`alt_text` returns it instead of composing one.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    text : str
        One to three sentences: what is plotted against what, what the panels are.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``, so that a figure function can ``return describe(fig, "...")``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = describe(plt.figure(), "Training loss against step.")
    >>> alt_text(fig)
    'Training loss against step.'
    """
    _DESCRIPTIONS[fig] = " ".join(str(text).split())
    return fig


def _clean(text: str) -> str:
    text = re.sub(r"\$([^$]*)\$", r"\1", text)  # mathtext: keep the symbols' names, drop the dollars
    text = re.sub(r"\\(?:math\w+|text\w*|operatorname)\{([^}]*)\}", r"\1", text)  # \mathrm{FID} -> FID
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text).replace("{", "").replace("}", "").replace("_", " ")
    return " ".join(text.split()).strip(" .:")


def alt_text(fig) -> str:
    """What a figure shows, in words: its :func:`describe` text, else one composed from its labels.

    The composed text names the figure's title, then each panel by its title and its axes ("loss against
    step"), and how many images the figure holds; panels with nothing to name are counted.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.

    Returns
    -------
    str
        A non-empty description; a composed one has at most :data:`MAX_ALT` characters.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set(title="Fine-tuning", xlabel="step", ylabel="loss")
    >>> alt_text(fig)
    'Plot: Fine-tuning: loss against step.'
    """
    if fig in _DESCRIPTIONS:  # written by the figure's author: kept whole
        return _DESCRIPTIONS[fig]
    suptitle = _clean(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) else ""
    panels, unnamed, images = [], 0, 0
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        images += len(ax.images)
        title = "; ".join(t for t in (_clean(ax.get_title(loc)) for loc in ("left", "center", "right")) if t)
        xlabel, ylabel = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
        axes = f"{ylabel} against {xlabel}" if xlabel and ylabel else (xlabel or ylabel)
        part = ": ".join(p for p in (title, axes) if p)
        if part and part not in panels:
            panels.append(part)
        elif not part:
            unnamed += 1
    words = []
    if suptitle:
        words.append(suptitle + ".")
    if images:
        words.append(f"{images} image{'s' if images > 1 else ''}.")
    if panels:
        kind = "Panels" if len(panels) > 1 else "Plot"
        words.append(f"{kind}: " + "; ".join(panels) + ".")
    if unnamed and not images:
        words.append(f"{unnamed} unlabelled panel{'s' if unnamed > 1 else ''}.")
    text = " ".join(words) or "A figure without titles or labels."
    return text if len(text) <= MAX_ALT else text[:MAX_ALT - 1].rstrip() + "…"


def glued_alts(nb) -> dict[str, str]:
    """The alt text of each glued image of an executed notebook, by glue key."""
    found = {}
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            metadata = output.get("metadata", {}) or {}
            name = (metadata.get("scrapbook") or {}).get("name")
            alts = [v.get("alt") for v in metadata.values() if isinstance(v, dict) and v.get("alt")]
            if name and alts:
                found[name] = alts[0]
    return found


_GLUE_FIGURE = re.compile(r"^(?P<fence>[`:]{3,})\{glue:figure\}[ \t]+(?P<key>\S+)[ \t]*\n(?P<options>(?::[^\n]*\n)*)",
                          re.MULTILINE)


def _option_value(text: str) -> str:
    # a directive option is one line; quotes and colons are fine in it
    return " ".join(text.split())


def add_alt_to_notebook(nb):
    """Give every ``{glue:figure}`` of an executed notebook the alt text its glued image carries.

    A directive that already has an ``:alt:`` keeps it. Changes ``nb`` in place and returns it.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{glue:figure} f\\n```")])
    >>> nb.cells.insert(0, nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
    ...     "display_data", data={}, metadata={"image/png": {"alt": "A plot."}, "scrapbook": {"name": "f"}})]))
    >>> add_alt_to_notebook(nb).cells[1].source
    '```{glue:figure} f\\n:alt: A plot.\\n```'
    """
    alts = glued_alts(nb)

    def with_alt(match):
        key, options = match.group("key"), match.group("options")
        if key not in alts or re.search(r"^:alt:", options, re.MULTILINE):
            return match.group(0)
        head = match.group(0)[: match.start("options") - match.start(0)]
        return f"{head}:alt: {_option_value(alts[key])}\n{options}"

    for cell in nb.cells:
        if cell.get("cell_type") == "markdown" and "{glue:figure}" in cell.source:
            cell.source = _GLUE_FIGURE.sub(with_alt, cell.source)
        elif cell.get("cell_type") == "code":
            _image_alt_to_cell(cell)
    return nb


def _image_alt_to_cell(cell) -> None:
    # An image a cell displays itself (galaxysd.plots.show) carries its alt in the output's metadata, which
    # myst-nb ignores; it reads the cell's ``mystnb: image: alt`` option instead (one per cell).
    for output in cell.get("outputs", []):
        metadata = output.get("metadata", {}) or {}
        if (metadata.get("scrapbook") or {}).get("name"):
            continue  # glued: shown by its directive
        alt = (metadata.get("image/png") or {}).get("alt")
        if alt:
            options = cell.setdefault("metadata", {}).setdefault("mystnb", {}).setdefault("image", {})
            options.setdefault("alt", _option_value(alt))
            return
