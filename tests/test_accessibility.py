"""Alt text: what a figure shows, carried from the figure function to the book's <img alt>."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from galaxysd import accessibility, plots  # noqa: E402


def test_composed_alt_names_title_panels_axes_and_images():
    fig, axes = plt.subplots(1, 3)
    fig.suptitle("Figure 4: metrics against step")
    axes[0].set(title="FID", xlabel="training step", ylabel="$\\mathrm{FID}$")
    axes[1].imshow(np.zeros((4, 4)))
    axes[1].imshow(np.ones((4, 4)))
    axes[2].axis("off")
    text = accessibility.alt_text(fig)
    assert text.startswith("Figure 4: metrics against step.")
    assert "Plot: FID: FID against training step." in text
    assert "2 images" in text
    plt.close(fig)


def test_description_beats_composition_and_length_is_capped():
    fig, ax = plt.subplots()
    ax.set(xlabel="x", ylabel="y")
    assert accessibility.alt_text(accessibility.describe(fig, "Two  lines\n cross.")) == "Two lines cross."
    fig2, ax2 = plt.subplots()
    ax2.set_title("t" * 1000)
    assert len(accessibility.alt_text(fig2)) <= accessibility.MAX_ALT
    assert accessibility.alt_text(plt.figure())  # never empty
    plt.close("all")


def test_publish_writes_alt_into_png_and_glue_metadata_and_runner_into_directive(tmp_path, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    outputs = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: outputs.append((data, metadata))
    fig, ax = plt.subplots()
    ax.set(title="Loss", xlabel="step", ylabel="loss")
    plots.publish(fig, tmp_path, "fig_loss")
    assert Image.open(tmp_path / "fig_loss.png").text["Description"] == "Plot: Loss: loss against step."
    (data, metadata), = outputs
    assert metadata["scrapbook"]["name"] == "fig_loss"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data=data, metadata=metadata)]),
        nbformat.v4.new_markdown_cell("Text.\n\n```{glue:figure} fig_loss\n:name: fig-loss\n\n**Figure.** Loss.\n```"),
        nbformat.v4.new_markdown_cell("```{glue:figure} fig_loss\n:alt: kept as written\n```"),
    ])
    accessibility.add_alt_to_notebook(nb)
    assert nb.cells[1].source == ("Text.\n\n```{glue:figure} fig_loss\n:alt: Plot: Loss: loss against step.\n"
                                  ":name: fig-loss\n\n**Figure.** Loss.\n```")
    assert nb.cells[2].source == "```{glue:figure} fig_loss\n:alt: kept as written\n```"


def test_an_image_a_cell_shows_itself_gets_its_alt_as_the_cells_image_option(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig, ax = plt.subplots()
    ax.set(title="Loss of a shorter fine-tune", xlabel="step", ylabel="loss")
    plots.show(fig)
    assert not plt.fignum_exists(fig.number), "the figure is closed, so the backend does not print it again"
    data, metadata = shown[0]._repr_png_()
    assert data.startswith("iVBORw0KGgo") and "loss against step" in metadata["alt"]  # a base64 PNG
    cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo="}, metadata={"image/png": metadata})])
    glued = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo="},
        metadata={"image/png": {"alt": "glued"}, "scrapbook": {"name": "fig3"}})])
    nb = accessibility.add_alt_to_notebook(nbformat.v4.new_notebook(cells=[cell, glued]))
    assert nb.cells[0].metadata["mystnb"]["image"]["alt"] == metadata["alt"]
    assert "mystnb" not in nb.cells[1].metadata, "a glued figure takes its alt from its directive"
