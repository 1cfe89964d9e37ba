"""A dust-lane measure: one number per image, as :func:`galaxysd.imstats.spiral_arm_strength` is for arms.

A dust lane is a dark band through (or near) the centre of a galaxy that is deepest in the bluest band:
dust dims g more than r and r more than i (the simulator's optical depths are 1.35 : 1 : 0.75,
:data:`galaxysd.gz2.simulate.render.DUST_TAU`), so the band is also redder than the light beside it.
No library measures this (photometry packages fit smooth profiles and leave the residuals to the
reader), so it is written here with NumPy and SciPy:

1. the galaxy's centre, axis ratio and major axis come from its light-weighted second moments
   (:func:`galaxysd.imstats.axis_ratio`'s ellipse);
2. a smooth model of each channel is the upper percentile of the light in elliptical annuli of
   one pixel: the upper part of each annulus is the light the dust has not dimmed, so a lane that
   covers a good part of an annulus (an edge-on disc's midplane) still leaves the model above it;
3. the image divided by the model is flat for a smooth galaxy of any profile; a lane is a trough in
   it. For each direction through the centre (every 5 degrees, so the lane's angle to the major axis
   does not matter) the light-weighted mean of that ratio on the line, out to 1.5 times the
   galaxy's major-axis second moment, is compared with the mean on the two parallel lines a lane's
   width or two away on either side: ``depth = 1 - on_line / beside``. Comparing with the lines
   beside, not with the model itself, cancels what the model gets wrong along the whole line (a
   profile that is not elliptical, a bulge rounder than its disc);
4. the dust-lane depth is the largest depth of the g band (the blue channel: RGB = i, r, g), where
   dust is darkest, over the directions; the reddening is the g depth minus the i depth (the red
   channel) on that line, positive when the band is redder than its surroundings, as dust is and a
   gap between spiral arms is not.

Intensities are the asinh-stretched pixel values of the image, so the numbers compare images made the
same way (a survey's images, a model's samples), not optical depths.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from galaxysd.imstats import _as_float, _border, _ellipse, _light

#: Directions searched, every 5 degrees over half a turn (a line through the centre has no sense).
N_ANGLES = 36
#: Percentile of each elliptical annulus taken as the undimmed light of the smooth model.
MODEL_PERCENTILE = 75.0
#: Columns of :func:`dust_lane_stats`.
LANE_COLUMNS = ("lane_depth", "lane_reddening", "lane_angle")


class DustLane(NamedTuple):
    """The deepest dark band through a galaxy's centre (:func:`dust_lane`)."""

    depth: float       #: fractional deficit of the g band on the line against the lines beside it
    reddening: float   #: g depth minus i depth on that line (> 0: the band is redder, as dust makes it)
    angle: float       #: direction of the line from the major axis, degrees in [0, 180)


def _annulus_model(channel: np.ndarray, rho: np.ndarray, galaxy: np.ndarray, percentile: float) -> np.ndarray:
    """Smooth model of one channel: the ``percentile`` of each one-pixel elliptical annulus, interpolated."""
    bins = np.floor(rho).astype(int)
    top = int(bins[galaxy].max()) + 1
    levels = np.full(top, np.nan)
    for b in range(top):
        values = channel[galaxy & (bins == b)]
        if values.size:
            levels[b] = np.percentile(values, percentile)
    centres = np.arange(top) + 0.5
    good = np.isfinite(levels)
    model = np.interp(rho, centres[good], levels[good], right=0.0)
    return np.where(galaxy, np.clip(model, 0.0, None), 0.0)


def dust_lane(image: np.ndarray, n_angles: int = N_ANGLES, percentile: float = MODEL_PERCENTILE) -> DustLane:
    """The deepest, reddest dark band through a galaxy's centre: depth, reddening and direction.

    See the module's description for the method.

    Parameters
    ----------
    image : numpy.ndarray
        RGB image (H, W, 3), RGB = (i, r, g) as GZ2 composites are; uint8 or float.
    n_angles : int, optional
        Directions searched over half a turn.
    percentile : float, optional
        Percentile of each elliptical annulus taken as the smooth model.

    Returns
    -------
    DustLane
        ``depth`` (0 for a smooth galaxy up to noise; a lane that halves the g light gives about 0.5
        before the seeing), ``reddening`` and ``angle``; NaN for an image without a galaxy.

    Examples
    --------
    >>> y, x = np.indices((64, 64)) - 31.5
    >>> smooth = np.exp(-np.hypot(x / 9, y / 6)) * np.array([1.0, 0.8, 0.6])[:, None, None]
    >>> lane = smooth * np.exp(-np.exp(-(y / 1.0) ** 2) * np.array([0.75, 1.0, 1.35])[:, None, None])
    >>> rgb = lambda a: np.moveaxis(a, 0, -1)
    >>> dust_lane(rgb(smooth)).depth < 0.05 < 0.2 < dust_lane(rgb(lane)).depth
    True
    """
    from scipy import ndimage

    img = _as_float(image)
    light = _light(img)
    ellipse = _ellipse(light)
    galaxy = light > 0
    if ellipse is None or galaxy.sum() < 9:
        return DustLane(np.nan, np.nan, np.nan)
    cy, cx, q, major = ellipse
    q = max(q, 0.15)
    sky = np.median(_border(img), axis=0)
    y, x = np.indices(light.shape)
    dx, dy = x - cx, y - cy
    along = dx * np.cos(major) + dy * np.sin(major)
    across = -dx * np.sin(major) + dy * np.cos(major)
    rho = np.hypot(along, across / q)
    # the extent of the light along the major axis sets the line's length and the lines beside it
    weights = np.where(galaxy, light, 0.0)
    scale = float(np.sqrt((weights * along ** 2).sum() / weights.sum()))
    half_length, gap = max(2.0, 1.5 * scale), max(1.5, 0.5 * scale)
    channels = {}
    for name, index in (("g", 2), ("i", 0)):
        observed = np.clip(img[..., index] - sky[index], 0.0, None)
        observed = np.where(galaxy, ndimage.gaussian_filter(observed, 0.5), 0.0)
        channels[name] = (observed, _annulus_model(observed, rho, galaxy, percentile))
    t = np.arange(-half_length, half_length + 1e-9, 0.5)
    best = DustLane(-np.inf, np.nan, np.nan)
    for phi in np.arange(n_angles) * np.pi / n_angles:
        direction = major + phi
        ux, uy = np.cos(direction), np.sin(direction)
        depths = {}
        for name, (observed, model) in channels.items():
            sums = []
            for offset in (0.0, -gap, gap):
                xs, ys = cx + t * ux - offset * uy, cy + t * uy + offset * ux
                sampled = [ndimage.map_coordinates(a, [ys, xs], order=1, mode="constant", cval=0.0)
                           for a in (observed, model)]
                sums.append((sampled[0].sum(), sampled[1].sum()))
            (on, on_model), (left, left_model), (right, right_model) = sums
            beside_model = left_model + right_model
            if on_model <= 0 or beside_model <= 0 or left + right <= 0:
                depths[name] = np.nan
                continue
            depths[name] = 1.0 - (on / on_model) / ((left + right) / beside_model)
        if np.isfinite(depths["g"]) and depths["g"] > best.depth:
            best = DustLane(float(depths["g"]), float(depths["g"] - depths["i"]), float(np.degrees(phi) % 180.0))
    return best if np.isfinite(best.depth) else DustLane(np.nan, np.nan, np.nan)


def dust_lane_depth(image: np.ndarray) -> float:
    """:func:`dust_lane`'s ``depth``: one number per image (0: no lane; NaN: no galaxy)."""
    return dust_lane(image).depth


def dust_lane_stats(images) -> pd.DataFrame:
    """:func:`dust_lane` of a stack of images, one row per image (columns :data:`LANE_COLUMNS`).

    Examples
    --------
    >>> dust_lane_stats(np.zeros((2, 16, 16, 3), np.uint8)).shape
    (2, 3)
    """
    return pd.DataFrame([tuple(dust_lane(im)) for im in images], columns=list(LANE_COLUMNS))


def read_dust_lane_stats(paths, size: int | None = None) -> pd.DataFrame:
    """:func:`dust_lane_stats` of image files, resized to ``size`` pixels if given (else their own size).

    Read by :func:`galaxysd.diffusion.sample.load_images` (resized) or
    :func:`galaxysd.gz2.images.read_image`; a broken file raises :class:`galaxysd.errors.DataError`.

    Examples
    --------
    >>> read_dust_lane_stats(survey["image_path"][:8], 64)  # doctest: +SKIP
    """
    paths = list(paths)
    if not paths:
        return pd.DataFrame(columns=list(LANE_COLUMNS))
    if size is None:
        from galaxysd.gz2.images import read_image

        return dust_lane_stats([read_image(path) for path in paths])
    from galaxysd.diffusion.sample import load_images

    return dust_lane_stats(load_images(paths, size))
