"""Simple image statistics of galaxy images: shape, colour, concentration, mirror asymmetry, winding
spiral arms and brightness.

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

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd

STAT_COLUMNS = ("axis_ratio", "colour", "concentration", "mirror_asymmetry", "arm_strength", "brightness")

#: Arm numbers searched by :func:`spiral_arm_mode` (GZ2 asks for 1, 2, 3, 4 or more arms).
ARM_NUMBERS = (1, 2, 3, 4)
#: Pitch angles (degrees) searched by :func:`spiral_arm_mode`: spiral arms wind at about 5-50 degrees;
#: below 10 degrees, arms are hard to tell from rings on a 64 px image, above 50 from bars.
PITCH_RANGE = (10.0, 50.0)


def _as_float(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {image.shape}")
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255.0
    return image.astype(np.float64)


def _border(values: np.ndarray) -> np.ndarray:
    return np.concatenate([values[0], values[-1], values[1:-1, 0], values[1:-1, -1]])


def _light(image: np.ndarray, sky_sigma: float = 3.0) -> np.ndarray:
    """Sky-subtracted luminance of the central galaxy; zero outside it.

    The luminance (mean of the channels) minus the median of the border is smoothed with a Gaussian
    of one pixel; the galaxy is the connected region where the smoothed light exceeds ``sky_sigma``
    times the border's noise (robust, from the median absolute deviation) and that holds the
    brightest smoothed pixel of the central half of the image. Noise peaks and neighbours that do
    not touch it are dropped.
    """
    from scipy import ndimage

    lum = image.mean(axis=-1)
    light = lum - np.median(_border(lum))
    smooth = ndimage.gaussian_filter(light, 1.0)
    edge = _border(smooth)
    noise = 1.4826 * np.median(np.abs(edge - np.median(edge)))
    mask = smooth > max(sky_sigma * noise, 0.0)
    if not mask.any():
        return np.zeros_like(light)
    h, w = light.shape
    centre = np.zeros_like(mask)
    centre[h // 4: h - h // 4, w // 4: w - w // 4] = True
    region = np.where(centre & mask, smooth, -np.inf)
    if not np.isfinite(region).any():
        return np.zeros_like(light)
    peak = np.unravel_index(np.argmax(region), region.shape)
    labels, _ = ndimage.label(mask)
    galaxy = labels == labels[peak]
    return np.where(galaxy, np.clip(light, 0.0, None), 0.0)


def _smoothed_light(lum: np.ndarray) -> np.ndarray:
    """Luminance minus the border's median sky, smoothed by a Gaussian of one pixel, clipped at zero."""
    from scipy import ndimage

    return np.clip(ndimage.gaussian_filter(lum - np.median(_border(lum)), 1.0), 0.0, None)


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


def _ellipse(light: np.ndarray, isophote: float = 0.2) -> tuple[float, float, float, float] | None:
    """Centre, axis ratio and major-axis angle from the light-weighted second moments.

    Uses the pixels brighter than ``isophote`` times the (smoothed) peak, so that faint outskirts
    and sky noise, which weigh with the square of the radius, do not round the shape off. ``None``
    when there is no light.
    """
    if isophote > 0 and light.max() > 0:
        from scipy import ndimage

        smooth = ndimage.gaussian_filter(light, 1.0)
        light = np.where(smooth >= isophote * smooth.max(), light, 0.0)
    cy, cx, total = _centre(light)
    if total <= 0:
        return None
    y, x = np.indices(light.shape)
    dy, dx = y - cy, x - cx
    cov = np.array([[(light * dx * dx).sum(), (light * dx * dy).sum()],
                    [(light * dx * dy).sum(), (light * dy * dy).sum()]]) / total
    (low, high), vectors = np.linalg.eigh(cov)
    if high <= 0:
        return None
    major = vectors[:, 1]
    return cy, cx, float(np.sqrt(max(low, 0.0) / high)), float(np.arctan2(major[1], major[0]))


def axis_ratio(image: np.ndarray, isophote: float = 0.2) -> float:
    """Minor-to-major axis ratio from the light-weighted second moments (1 = round).

    Returns ``sqrt(l_min / l_max)`` of the eigenvalues of the intensity-weighted covariance of pixel
    positions about the light-weighted centre, using the pixels of the galaxy brighter than
    ``isophote`` times its (smoothed) peak, so that faint outskirts and sky noise, which weigh with
    the square of the radius, do not round the shape off. NaN for an image with no light above the
    sky.

    Examples
    --------
    >>> y, x = np.indices((64, 64)) - 31.5
    >>> disc = np.exp(-0.5 * ((x / 8) ** 2 + (y / 4) ** 2))
    >>> round(axis_ratio(np.repeat(disc[..., None], 3, axis=-1)), 2)
    0.5
    """
    ellipse = _ellipse(_light(_as_float(image)), isophote)
    return ellipse[2] if ellipse is not None else np.nan


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
    sky = np.median(_border(img), axis=0)
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


def mirror_asymmetry(image: np.ndarray) -> float:
    """How much a galaxy differs from its mirror image about its major axis (spiral arms).

    Smooth galaxies, round or elongated, and edge-on discs look the same in a mirror held along
    their major axis; spiral arms have a handedness and do not (the mirror image winds the other
    way). The statistic is ``sum |L - L_mirror| / (2 sum L)`` over the galaxy's pixels, where ``L``
    is the sky-subtracted luminance smoothed by a Gaussian of one pixel (to damp the sky noise) and
    ``L_mirror`` the same light reflected about the major axis through the light-weighted centre
    (the second moments of :func:`axis_ratio`). 0 for a perfectly mirror-symmetric galaxy; spiral
    arms, and also bars at an angle, lopsided mergers and clumps, raise it (:func:`spiral_arm_mode`
    tells winding arms from those). The sky noise adds a floor that depends on the image's noise:
    compare images made the same way.

    NaN for an image without light.

    Examples
    --------
    >>> y, x = np.indices((64, 64)) - 31.5
    >>> r, phi = np.hypot(x, y), np.arctan2(y, x)
    >>> smooth = np.exp(-np.hypot(x / 8, y / 4))
    >>> spiral = np.exp(-r / 6) * (1 + 0.8 * np.cos(2 * phi - r / 2))
    >>> rgb = lambda a: np.repeat(a[..., None], 3, axis=-1)
    >>> mirror_asymmetry(rgb(smooth)) < 0.01 < 0.1 < mirror_asymmetry(rgb(spiral))
    True
    """
    from scipy import ndimage

    img = _as_float(image)
    light = _light(img)
    ellipse = _ellipse(light)
    if ellipse is None:
        return np.nan
    cy, cx, _, angle = ellipse
    lum = img.mean(axis=-1)
    smooth = _smoothed_light(lum)
    galaxy = light > 0
    y, x = np.indices(lum.shape)
    dx, dy = x - cx, y - cy
    ux, uy = np.cos(angle), np.sin(angle)          # unit vector along the major axis, (x, y)
    along = dx * ux + dy * uy
    mirror_x, mirror_y = cx + 2 * along * ux - dx, cy + 2 * along * uy - dy
    mirrored = ndimage.map_coordinates(smooth, [mirror_y, mirror_x], order=1, mode="constant", cval=0.0)
    total = smooth[galaxy].sum()
    return float(np.abs(smooth - mirrored)[galaxy].sum() / (2 * total)) if total > 0 else np.nan


class ArmMode(NamedTuple):
    """The strongest winding mode of a galaxy's light (:func:`spiral_arm_mode`)."""

    strength: float   #: handedness of the mode, ``| |A(m, p)| - |A(m, -p)| |`` (0: no winding arms)
    arms: int         #: number of arms ``m`` of the mode (0 when the image has no light)
    pitch: float      #: pitch angle in degrees, ``arctan(m / |p|)`` (small: tightly wound)


def spiral_arm_mode(image: np.ndarray, arm_numbers: Sequence[int] = ARM_NUMBERS,
                    pitch_range: tuple[float, float] = PITCH_RANGE, n_pitch: int = 24,
                    n_radii: int = 32, n_angles: int = 64) -> ArmMode:
    """Winding spiral arms: the strongest logarithmic-spiral mode that has a handedness.

    The galaxy is deprojected with its second-moment ellipse (:func:`axis_ratio`), and its
    sky-subtracted, one-pixel-smoothed light ``I`` between the radius holding 30 % of the galaxy's
    light and 1.5 times the one holding 90 % (the disc, without the bulge) is decomposed into
    logarithmic spirals, as the 2DFFT method of pitch-angle measurement does (Puerari & Dottori 1992;
    Davis et al. 2012): ``A(m, p) = sum I exp(-i (m theta + p ln r)) / sum I`` for ``m`` arms and
    pitch angle ``arctan(m / |p|)``. A mirror image turns ``|A(m, p)|`` into ``|A(m, -p)|``, so
    ``| |A(m, p)| - |A(m, -p)| |`` is zero for every mirror-symmetric galaxy (smooth, elongated,
    edge-on, ringed, barred, or one bright clump) and large for arms that wind one way. Unlike
    :func:`mirror_asymmetry`, it stays small for light that is merely patchy or lopsided, which has no
    winding sense: several clumps give some, a coherent spiral much more.

    Parameters
    ----------
    image : numpy.ndarray
        RGB image (H, W, 3).
    arm_numbers : sequence of int, optional
        Arm numbers ``m`` searched.
    pitch_range : (float, float), optional
        Smallest and largest pitch angle searched, in degrees.
    n_pitch : int, optional
        Pitch angles per arm number.

    Returns
    -------
    ArmMode
        ``strength`` (NaN for an image without light), ``arms`` and ``pitch`` of the strongest mode.

    Examples
    --------
    >>> y, x = np.indices((64, 64)) - 31.5
    >>> r, theta = np.hypot(x, y) + 1e-9, np.arctan2(y, x)
    >>> arms = np.exp(-r / 6) * (1 + 0.8 * np.cos(2 * theta - 2 / np.tan(np.radians(25)) * np.log(r)))
    >>> mode = spiral_arm_mode(np.repeat(arms[..., None], 3, axis=-1))
    >>> mode.arms, 20 < mode.pitch < 30, mode.strength > 0.1
    (2, True, True)
    """
    from scipy import ndimage

    img = _as_float(image)
    light = _light(img)
    ellipse = _ellipse(light)
    if ellipse is None:
        return ArmMode(np.nan, 0, np.nan)
    cy, cx, q, angle = ellipse
    q = max(q, 0.2)                     # deprojection of edge-on discs capped at 5x
    lum = img.mean(axis=-1)
    smooth = _smoothed_light(lum)
    y, x = np.indices(lum.shape)
    dx, dy = x - cx, y - cy
    along = dx * np.cos(angle) + dy * np.sin(angle)
    across = (-dx * np.sin(angle) + dy * np.cos(angle)) / q   # deprojected
    radius = np.hypot(along, across)
    galaxy = light > 0
    order = np.argsort(radius[galaxy])
    grown = np.cumsum(light[galaxy][order]) / light[galaxy].sum()
    r_in = max(float(np.interp(0.3, grown, radius[galaxy][order])), 1.5)
    r_out = 1.5 * float(np.interp(0.9, grown, radius[galaxy][order]))
    if r_out <= r_in:
        return ArmMode(np.nan, 0, np.nan)
    # Sample the disc on a polar grid in the deprojected plane, symmetric about the major axis, rather
    # than over the image's pixels: a rotated pixel grid is not mirror-symmetric, and its steps gave
    # smooth ellipses at odd angles a spurious handedness.
    log_r = np.linspace(np.log(r_in), np.log(r_out), n_radii)
    theta = (np.arange(n_angles) + 0.5) * 2 * np.pi / n_angles
    grid_u, grid_t = np.meshgrid(log_r, theta, indexing="ij")
    grid_along, grid_across = np.exp(grid_u) * np.cos(grid_t), np.exp(grid_u) * np.sin(grid_t) * q
    xs = cx + grid_along * np.cos(angle) - grid_across * np.sin(angle)
    ys = cy + grid_along * np.sin(angle) + grid_across * np.cos(angle)
    sampled = ndimage.map_coordinates(smooth, [ys, xs], order=1, mode="constant", cval=0.0)
    weights = (sampled * np.exp(2 * grid_u)).ravel()    # light per unit area: dx dy = r^2 dln(r) dtheta
    total = weights.sum()
    if total <= 0:
        return ArmMode(np.nan, 0, np.nan)
    pitches = np.radians(np.linspace(pitch_range[0], pitch_range[1], n_pitch))
    m = np.repeat(np.asarray(arm_numbers, dtype=float), n_pitch)
    p = m / np.tan(np.tile(pitches, len(arm_numbers)))
    phase_t, phase_u = grid_t.ravel()[None], grid_u.ravel()[None]
    winding = np.exp(-1j * (m[:, None] * phase_t + p[:, None] * phase_u)) @ weights
    unwinding = np.exp(-1j * (m[:, None] * phase_t - p[:, None] * phase_u)) @ weights
    handed = np.abs(np.abs(winding) - np.abs(unwinding)) / total
    best = int(np.argmax(handed))
    # the pitch angle: where the arms' own winding sense has most light, for the best arm number
    same_m = m == m[best]
    arms_side = np.abs(winding if abs(winding[best]) > abs(unwinding[best]) else unwinding)
    pitch = np.degrees(np.arctan(m[best] / p[same_m][int(np.argmax(arms_side[same_m]))]))
    return ArmMode(float(handed[best]), int(m[best]), float(pitch))


def spiral_arm_strength(image: np.ndarray) -> float:
    """Strength of winding spiral arms, :func:`spiral_arm_mode`'s ``strength`` (0: none; NaN: no light)."""
    return spiral_arm_mode(image).strength


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
    (2, 6)
    """
    rows = [(axis_ratio(im), colour(im), concentration(im), mirror_asymmetry(im), spiral_arm_strength(im),
             mean_brightness(im)) for im in images]
    return pd.DataFrame(rows, columns=list(STAT_COLUMNS))


def read_image_stats(paths) -> pd.DataFrame:
    """:func:`image_stats` of image files (any format Pillow reads), at their own size.

    Read by :func:`galaxysd.gz2.images.read_image`; a broken file raises
    :class:`galaxysd.errors.DataError` naming it.
    """
    from galaxysd.gz2.images import read_image

    return image_stats([read_image(path) for path in paths])
