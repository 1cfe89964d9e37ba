"""Simple image statistics of galaxy images: shape, colour, concentration and brightness.

These are the quick, model-free measurements the book uses to check that generated galaxies follow
their prompts (round vs cigar-shaped in axis ratio, early vs late types in colour, bulge-dominated vs
disky in concentration) and that image-to-image sampling fixes the brightness of text-to-image.

All functions take uint8 or float RGB images of shape (H, W, 3) (or a stack (n, H, W, 3)). GZ2
images are gri composites shown as RGB = (i, r, g), so the green and blue channels stand in for the r
and g bands and ``-2.5 log10(blue / green)`` is a g-r-like colour (larger = redder). Intensities are
the asinh-stretched pixel values, not calibrated fluxes: the numbers compare images made the same
way, not galaxies in physical units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STAT_COLUMNS = ("axis_ratio", "colour", "concentration", "brightness")


def _as_float(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {image.shape}")
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255.0
    return image.astype(np.float64)


def _light(image: np.ndarray, sky_sigma: float = 3.0) -> np.ndarray:
    """Sky-subtracted luminance, zero below ``sky_sigma`` times the border noise."""
    lum = image.mean(axis=-1)
    border = np.concatenate([lum[0], lum[-1], lum[1:-1, 0], lum[1:-1, -1]])
    sky = np.median(border)
    noise = 1.4826 * np.median(np.abs(border - sky))
    light = lum - sky
    light[light < sky_sigma * noise] = 0.0
    return light


def mean_brightness(image: np.ndarray) -> float:
    """Mean pixel value over the image and its three channels, in [0, 1].

    Examples
    --------
    >>> round(mean_brightness(np.full((4, 4, 3), 51, np.uint8)), 3)
    0.2
    """
    return float(_as_float(image).mean())


def _centre(light: np.ndarray) -> tuple[float, float, float]:
    total = light.sum()
    if total <= 0:
        return np.nan, np.nan, 0.0
    y, x = np.indices(light.shape)
    return float((light * y).sum() / total), float((light * x).sum() / total), float(total)


def axis_ratio(image: np.ndarray) -> float:
    """Minor-to-major axis ratio from the light-weighted second moments (1 = round).

    Returns ``sqrt(l_min / l_max)`` of the eigenvalues of the intensity-weighted covariance of pixel
    positions about the light-weighted centre; NaN for an image with no light above the sky.

    Examples
    --------
    >>> y, x = np.indices((64, 64)) - 31.5
    >>> disc = np.exp(-0.5 * ((x / 8) ** 2 + (y / 4) ** 2))
    >>> round(axis_ratio(np.repeat(disc[..., None], 3, axis=-1)), 2)
    0.5
    """
    light = _light(_as_float(image))
    cy, cx, total = _centre(light)
    if total <= 0:
        return np.nan
    y, x = np.indices(light.shape)
    dy, dx = y - cy, x - cx
    cov = np.array([[(light * dx * dx).sum(), (light * dx * dy).sum()],
                    [(light * dx * dy).sum(), (light * dy * dy).sum()]]) / total
    low, high = np.linalg.eigvalsh(cov)
    return float(np.sqrt(max(low, 0.0) / high)) if high > 0 else np.nan


def colour(image: np.ndarray) -> float:
    """g-r-like colour, ``-2.5 log10(blue / green)`` of the sky-subtracted light (larger = redder).

    The channels are summed over the pixels where the luminance is above the sky; NaN if either sum
    is not positive.

    Examples
    --------
    >>> red = np.zeros((16, 16, 3)); red[4:12, 4:12] = (0.8, 0.5, 0.2)
    >>> colour(red) > 0
    True
    """
    img = _as_float(image)
    mask = _light(img) > 0
    if not mask.any():
        return np.nan
    sky = np.median(np.concatenate([img[0], img[-1], img[1:-1, 0], img[1:-1, -1]]), axis=0)
    green = (img[..., 1][mask] - sky[1]).sum()
    blue = (img[..., 2][mask] - sky[2]).sum()
    if green <= 0 or blue <= 0:
        return np.nan
    return float(-2.5 * np.log10(blue / green))


def concentration(image: np.ndarray) -> float:
    """Concentration ``R90 / R50``: radii holding 90 % and 50 % of the light about the centre.

    About 1.8 for a circular Gaussian, about 2.3 for an exponential disc and larger for a
    de Vaucouleurs bulge (before the PSF and the stretch). NaN for an image without light.

    Examples
    --------
    >>> y, x = np.indices((101, 101)) - 50
    >>> blob = np.exp(-0.5 * (x ** 2 + y ** 2) / 6.0 ** 2)
    >>> round(concentration(np.repeat(blob[..., None], 3, axis=-1)), 1)
    1.8
    """
    light = _light(_as_float(image))
    cy, cx, total = _centre(light)
    if total <= 0:
        return np.nan
    y, x = np.indices(light.shape)
    radius = np.hypot(y - cy, x - cx).ravel()
    order = np.argsort(radius)
    grown = np.cumsum(light.ravel()[order]) / total
    r = radius[order]
    r50 = np.interp(0.5, grown, r)
    r90 = np.interp(0.9, grown, r)
    return float(r90 / r50) if r50 > 0 else np.nan


def image_stats(images) -> pd.DataFrame:
    """All statistics of a stack of images, one row per image.

    Parameters
    ----------
    images : numpy.ndarray or sequence of arrays
        RGB images (n, H, W, 3).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STAT_COLUMNS`.

    Examples
    --------
    >>> image_stats(np.zeros((2, 8, 8, 3), np.uint8)).shape
    (2, 4)
    """
    rows = [(axis_ratio(im), colour(im), concentration(im), mean_brightness(im)) for im in images]
    return pd.DataFrame(rows, columns=list(STAT_COLUMNS))


def read_image_stats(paths) -> pd.DataFrame:
    """:func:`image_stats` of image files (any format Pillow reads), at their own size."""
    from PIL import Image

    rows = []
    for path in paths:
        with Image.open(path) as image:
            rows.append(np.asarray(image.convert("RGB")))
    return image_stats(rows)
