"""One image reader: every image the project reads goes through gz2.images.read_image."""

import numpy as np
import pytest
from PIL import Image

from galaxysd.errors import DataError
from galaxysd.gz2 import images


@pytest.fixture
def files(tmp_path):
    """A good 48-px JPEG, the same JPEG cut in half, an empty file, a text file and a PNG."""
    rng = np.random.default_rng(0)
    y, x = np.indices((48, 48)) - 23.5
    blob = np.exp(-0.5 * ((x / 8) ** 2 + (y / 5) ** 2))[..., None] * [230, 180, 120]
    pixels = np.clip(blob + rng.normal(0, 8, (48, 48, 3)), 0, 255).astype(np.uint8)
    good = tmp_path / "587722981736.jpg"
    Image.fromarray(pixels).save(good, quality=90)
    truncated = tmp_path / "587722981737.jpg"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    empty = tmp_path / "587722981738.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "587722981739.jpg"
    text.write_text("<html><body>404 Not Found</body></html>")
    png = tmp_path / "generated.png"
    Image.fromarray(pixels).save(png)
    return {"good": good, "truncated": truncated, "empty": empty, "text": text, "png": png,
            "missing": tmp_path / "587722981740.jpg"}


@pytest.mark.parametrize("kind, words", [("truncated", "is truncated or corrupt"), ("empty", "is empty"),
                                         ("text", "is not an image file"), ("missing", "does not exist")])
def test_a_broken_image_raises_data_error_naming_the_file(files, kind, words):
    with pytest.raises(DataError, match=words) as info:
        images.read_image(files[kind], 32)
    assert str(files[kind]) in str(info.value)


def test_bytes_of_a_truncated_image_are_named_by_the_caller(files):
    with pytest.raises(DataError, match="images_gz2.zip:images/12.jpg is truncated"):
        images.read_image(files["truncated"].read_bytes(), name="images_gz2.zip:images/12.jpg")


def test_resizing_uses_the_one_lanczos_filter(files):
    with Image.open(files["good"]) as img:
        expected = np.asarray(img.convert("RGB").resize((32, 32), Image.Resampling.LANCZOS))
    assert images.RESAMPLING == Image.Resampling.LANCZOS
    assert np.array_equal(images.read_image(files["good"], 32), expected)
    assert images.read_image(files["good"]).shape == (48, 48, 3)


def test_training_latents_references_and_statistics_read_the_same_pixels(files):
    from galaxysd import imstats
    from galaxysd.diffusion import latents, sample

    one = images.read_image(files["good"], 32)
    assert np.array_equal(latents.load_image(files["good"], 32).transpose(1, 2, 0), one)
    assert np.array_equal(sample.load_images([files["good"]], 32)[0], one)
    assert imstats.read_image_stats([files["good"]]).equals(imstats.image_stats([images.read_image(files["good"])]))


@pytest.mark.parametrize("reader", ["latents", "references", "statistics"])
def test_every_reader_raises_the_projects_error_for_a_truncated_file(files, reader):
    from galaxysd import imstats
    from galaxysd.diffusion import latents, sample

    call = {"latents": lambda p: latents.load_images([p], 32, progress=False),
            "references": lambda p: sample.load_images([p], 32),
            "statistics": lambda p: imstats.read_image_stats([p])}[reader]
    with pytest.raises(DataError, match="587722981737.jpg is truncated"):
        call(files["truncated"])


def test_check_images_reports_every_broken_image_by_objid_and_passes_good_ones(files):
    order = ["good", "truncated", "png", "empty", "text", "missing"]
    objids = [587722981736 + i for i in range(len(order))]
    broken = images.check_images([files[k] for k in order], objids, progress=False)
    assert broken["objid"].tolist() == [objids[1], objids[3], objids[4], objids[5]]
    assert broken["reason"].str.contains("truncated|empty|not an image|does not exist").all()
    assert images.check_images([files["good"], files["png"]], progress=False).empty
