"""Paint simulated galaxies as gri colour composites, many at a time.

Each galaxy is the sum of physically motivated components (:mod:`~galaxysd.gz2.simulate.components`),
evaluated on the pixel grid for a whole batch at once (arrays of shape ``(batch, size, size)``; a
component a galaxy lacks has zero amplitude):

- a Sérsic spheroid (n = 4 for ellipticals, 2 for bulges), boxy for boxy edge-on bulges;
- an exponential disk, inclined, with logarithmic spiral arms (m arms, pitch angle by winding);
- a bar (a flattened Gaussian in the disk plane) and a ring;
- a dust lane: a band of attenuation exp(-tau_band) with tau_g > tau_r > tau_i, along the disk
  midplane or, for early types, at the lane's orientation;
- companions and tidal tails for mergers, a lopsided mode for disturbed galaxies, clumps for
  irregulars, a faint arc for lenses.

The image spans ``frame_r90`` times the galaxy's R90 (GZ2 cutouts span 424 x 0.02 = 8.48 R90), so
the pixel scale in arcsec grows with the galaxy's angular size; the PSF (SDSS seeing, 1.4 arcsec
FWHM) and the sky noise are fixed in arcsec, so small (distant) galaxies are blurred and their
surface brightness is dimmed as (1+z)^-4 through their flux and angular size. A fixed asinh stretch
(Lupton et al. 2004) maps i, r, g to red, green, blue.

:func:`render_batch` runs four named steps: :func:`draw_nuisance` (every random choice, in a fixed
order), :func:`galaxy_light` (the components in g, r, i), :func:`observe` (flux, field sources, PSF,
sky noise) and :func:`asinh_rgb` (the stretch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from galaxysd.gz2.simulate import components as comp

SEEING_FWHM = 1.4        # arcsec
GZ2_FRAME_R90 = 8.48     # GZ2 images span 424 pixels of 0.02 R90
#: Colours (g, r, i flux relative to r) of each stellar population.
RED = np.array([0.55, 1.0, 1.3])
DISK = np.array([0.8, 1.0, 1.12])
BLUE = np.array([1.25, 1.0, 0.85])
#: Dust optical depth per band relative to r.
DUST_TAU = np.array([1.35, 1.0, 0.75])


@dataclass
class Nuisance:
    """The random parts of a batch's pictures, one value (or row) per galaxy.

    Drawn all at once by :func:`draw_nuisance`, in an order that is part of the simulator's
    contract: changing it changes every simulated image (bump ``SIMULATOR_VERSION`` if you do).
    """

    jitter: np.ndarray            # (B, 2) offset of the centre, R90
    extra_arm: np.ndarray         # 0 or 1 arm added to "more than four" (5 or 6 arms)
    arm_phase: np.ndarray         # radians
    bar_angle: np.ndarray         # in the disk plane, radians
    bar_length: np.ndarray        # R90
    ring_radius: np.ndarray       # R90
    knots: list                   # irregulars' clumps: (cx, cy, width, amplitude), each (B, 1, 1)
    companion: tuple              # (angle, distance, width), each (B, 1, 1); the angle also points
                                  # the lopsided light and the lens arc
    lane_angle: np.ndarray        # dust lane from the major axis, radians (B, 1, 1)
    lane_offset: np.ndarray       # R90 (B, 1, 1)
    lane_tau: np.ndarray          # r-band optical depth on the lane's axis (B, 1, 1)
    field: list                   # field sources: (galaxy index, x, y, r magnitude, colour)


def _col(values) -> np.ndarray:
    return np.asarray(values)[:, None, None]


def draw_nuisance(rng: np.random.Generator, g: dict, half: float) -> Nuisance:
    """Draw every random choice of a batch's pictures except the pixel noise, in the fixed order.

    Parameters
    ----------
    rng : numpy.random.Generator
        The batch's generator.
    g : dict
        Column name -> array of the batch's population rows.
    half : float
        Half the image side in R90 (field sources fall anywhere in the frame).

    Returns
    -------
    Nuisance
    """
    B = len(g["kind"])
    jitter = rng.normal(0, 0.03, (B, 2))
    extra_arm = rng.integers(0, 2, B)
    arm_phase = rng.uniform(0, 2 * np.pi, B)
    bar_angle = rng.uniform(0, np.pi, B)
    bar_length = rng.uniform(0.28, 0.4, B)
    ring_radius = rng.uniform(0.35, 0.55, B)
    knots = []
    if (g["kind"] == "irregular").any():
        for _ in range(6):
            knots.append((_col(rng.normal(0, 0.3, B)), _col(rng.normal(0, 0.3, B)),
                          _col(rng.uniform(0.04, 0.09, B)), _col(rng.uniform(0.3, 1.0, B))))
    companion = (_col(rng.uniform(0, 2 * np.pi, B)), _col(rng.uniform(0.35, 0.75, B)),
                 _col(rng.uniform(0.07, 0.14, B)))
    orient = g["dust_orientation"]
    lane_angle = np.where(orient == 2, np.pi / 2, np.where(orient == 3, np.pi / 4,
                                                           np.where(orient == 4, rng.uniform(0, np.pi, B), 0.0)))
    lane_angle = _col(lane_angle) + _col(rng.normal(0, 0.05, B))
    edge = _col(g["edge_on"]).astype(bool)
    lane_offset = np.where(edge, _col(rng.uniform(-0.01, 0.02, B)), _col(rng.normal(0, 0.02, B)))
    lane_tau = np.where(edge, _col(rng.uniform(3.0, 5.0, B)), _col(rng.uniform(2.0, 3.5, B)))
    n_field = rng.poisson(0.6, B)
    field = []
    for b in np.nonzero(n_field)[0]:
        for _ in range(n_field[b]):
            sx, sy = rng.uniform(-half, half, 2)
            mag = rng.uniform(17.5, 21.0)
            field.append((b, sx, sy, mag, rng.choice([RED, BLUE])))
    return Nuisance(jitter, extra_arm, arm_phase, bar_angle, bar_length, ring_radius, knots, companion,
                    lane_angle, lane_offset, lane_tau, field)


def pixel_grid(size: int, frame_r90: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres ``X, Y`` (each of shape (1, size, size), float32) in R90, centred, y up."""
    half = frame_r90 / 2.0
    ax = (np.arange(size) + 0.5) / size * 2 * half - half
    X, Y = np.meshgrid(ax, -ax)
    return X[None].astype(np.float32), Y[None].astype(np.float32)


def galaxy_light(g: dict, X: np.ndarray, Y: np.ndarray, nz: Nuisance) -> np.ndarray:
    """The galaxies' light in g, r, i (shape (B, 3, S, S)), total ~1 before dust, on the grid ``X, Y``."""
    col = lambda c: g[c][:, None, None]  # noqa: E731
    is_ell, has_disk = _col(g["kind"] == "elliptical"), _col(np.isin(g["kind"], ("disk", "irregular")))
    irr = _col(g["kind"] == "irregular")
    q = np.clip(col("axis_ratio"), 0.08, 1.0)
    edge, boxy = col("edge_on").astype(bool), _col(g["bulge_shape"] == "boxy")
    spiral, has_bar, has_ring = col("spiral").astype(bool), col("bar").astype(bool), col("ring").astype(bool)
    pa = np.radians(g["pa_deg"])[:, None, None]
    xr, yr = comp.rotate(X - nz.jitter[:, 0, None, None], Y - nz.jitter[:, 1, None, None], pa)

    # edge-on bulges carry at least 30% of the light, to stand out of the thin disk
    bt = col("bulge_bt")
    bt = np.where(edge & (bt > 0), np.maximum(bt, 0.35), bt)
    sph = comp.spheroid(xr, yr, q, edge, is_ell, boxy)
    xd, yd, R, theta = comp.disk_plane(xr, yr, q, edge)
    m = col("arms").astype(float)
    m = np.where(m >= 5, 5.0 + nz.extra_arm[:, None, None], m)
    arms = np.where(spiral, comp.spiral_arms(R, theta, m, col("pitch_deg"), _col(nz.arm_phase)), 0.0)
    bar_len = _col(nz.bar_length)
    bar = np.where(has_bar, comp.bar(xd, yd, _col(nz.bar_angle), bar_len), 0.0)
    if bar.any():
        arms = arms * np.where(has_bar, comp.arms_outside_bar(R, bar_len), 1.0)
    r_ring = _col(nz.ring_radius)
    ring = np.where(has_ring, comp.ring(R, r_ring), 0.0)
    disk_n = comp.unit_flux(comp.exponential_disk(R))
    clumps = np.zeros_like(disk_n)
    if nz.knots:
        clumps = np.where(irr, comp.unit_flux(comp.clumps(X, Y, nz.knots)), 0.0)
    angle = nz.companion[0]
    merger = np.where(col("merger").astype(bool), comp.companion_and_tails(X, Y, *nz.companion), 0.0)
    lop = np.where(col("disturbed").astype(bool), comp.lopsided(X, Y, angle), 1.0)
    arc = np.where(col("lens").astype(bool), comp.lens_arc(X, Y, angle), 0.0)

    # shares of the light: the spheroid red, the disk and bar its own colour, arms, ring, knots blue
    f_disk = np.where(has_disk, 1.0 - bt, 0.0)
    f_sph = np.where(is_ell, 1.0, bt)
    arm_f = np.where(spiral, np.where(has_ring, 0.25, 0.45), 0.0) * f_disk  # a ring outshines its arms
    bar_f = np.where(has_bar, 0.28, 0.0)
    ring_f = np.where(has_ring, 0.6, 0.0)
    red_part = f_sph * sph
    inner_gap = np.where(has_ring, comp.ring_gap(R, r_ring), 1.0)
    disk_part = f_disk * disk_n * (1 - np.where(spiral, 0.45, 0.0)) * inner_gap + bar_f * comp.unit_flux(bar)
    blue_part = arm_f * comp.unit_flux(arms) + ring_f * comp.unit_flux(ring) + np.where(irr, 0.6, 0.0) * clumps \
        + 0.15 * comp.unit_flux(arc)
    img = colour(red_part, RED) + colour(disk_part, DISK) + colour(blue_part, BLUE)
    img = img * lop[:, None]
    img = img + colour(merger, DISK)

    lane = comp.dust_lane(xr, yr, nz.lane_angle, nz.lane_offset, edge, _col(g["dust_orientation"]) == 4)
    tau = np.where(col("dust_lane").astype(bool), nz.lane_tau, 0.0) * lane
    return attenuate(img, tau)


def colour(light: np.ndarray, gri: np.ndarray) -> np.ndarray:
    """(B, S, S) light of one stellar population -> (B, 3, S, S) in g, r, i with its colours ``gri``."""
    return light[:, None] * gri[None, :, None, None]


def attenuate(img: np.ndarray, tau_r: np.ndarray) -> np.ndarray:
    """Dim (B, 3, S, S) g, r, i light through dust of optical depth ``tau_r`` (r band; g more, i less)."""
    return img * np.exp(-tau_r[:, None] * DUST_TAU[None, :, None, None])


def gaussian_psf(images: np.ndarray, sigma_px: np.ndarray) -> np.ndarray:
    """Convolve (B, 3, S, S) images with a Gaussian of per-galaxy width (pixels), via FFT (flux kept)."""
    size = images.shape[-1]
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    k2 = fx ** 2 + fy ** 2
    kernel = np.exp(-2.0 * np.pi ** 2 * sigma_px[:, None, None, None] ** 2 * k2)
    return np.fft.irfft2(np.fft.rfft2(images) * kernel, s=(size, size))


def add_field_sources(img: np.ndarray, X: np.ndarray, Y: np.ndarray, field: list, pix_arcsec: np.ndarray,
                      r90_arcsec: np.ndarray) -> None:
    """Add, in place, faint stars and background galaxies (0.4 arcsec Gaussians) to images in flux/arcsec^2."""
    for b, sx, sy, mag, gri in field:
        amp = 10 ** (-0.4 * (mag - 15.0)) / pix_arcsec[b] ** 2
        img[b] += amp * np.exp(-((X[0] - sx) ** 2 + (Y[0] - sy) ** 2) / (2 * (0.4 / r90_arcsec[b]) ** 2 + 1e-4))[None] \
            * gri[:, None, None] * 0.02


def add_sky_noise(img: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B, 3, S, S) images plus Gaussian pixel noise of standard deviation ``sigma`` per galaxy."""
    return img + rng.standard_normal(img.shape) * sigma[:, None, None, None]


def observe(light: np.ndarray, g: dict, X: np.ndarray, Y: np.ndarray, nz: Nuisance, frame_r90: float,
            sky_noise: float, rng: np.random.Generator) -> np.ndarray:
    """Light of unit total -> what SDSS records, in flux per arcsec^2: flux, field sources, seeing, sky.

    The pixel side in arcsec is ``frame_r90`` R90 over the image side; seeing (:data:`SEEING_FWHM`) and
    the sky noise (``sky_noise`` in one arcsec^2) are fixed in arcsec, so small galaxies blur more.
    """
    size = light.shape[-1]
    pix_arcsec = frame_r90 * g["r90_arcsec"] / size
    flux = 10 ** (-0.4 * (g["r_mag"] - 15.0))
    img = light * (flux / pix_arcsec ** 2)[:, None, None, None]
    add_field_sources(img, X, Y, nz.field, pix_arcsec, g["r90_arcsec"])
    img = gaussian_psf(img, SEEING_FWHM / 2.355 / pix_arcsec)
    # sky noise: per-pixel noise in flux/arcsec^2 falls as 1/pixel side
    return add_sky_noise(img, sky_noise / pix_arcsec, rng)


def asinh_rgb(img: np.ndarray, softening: float, top: float) -> np.ndarray:
    """Lupton et al. (2004) asinh stretch of (B, 3, S, S) g, r, i -> uint8 (B, S, S, 3) RGB = (i, r, g).

    Colours are kept: every band is scaled by the same asinh(mean / softening) / mean; ``top`` is the
    asinh value that maps to full brightness.
    """
    mean = np.maximum(img.mean(axis=1, keepdims=True), 1e-12) / softening
    rgb = img[:, ::-1] / softening * (np.arcsinh(mean) / mean) / top
    rgb = np.clip(rgb, 0, 1)
    return (rgb.transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8)


def render_batch(gal: pd.DataFrame, size: int, rng: np.random.Generator,
                 frame_r90: float = GZ2_FRAME_R90, sky_noise: float = 1.5e-4,
                 softening: float = 2.5e-4, top: float = 6.5) -> np.ndarray:
    """Render a batch of galaxies.

    Parameters
    ----------
    gal : pandas.DataFrame
        Rows of :func:`~galaxysd.gz2.simulate.population.draw_population`.
    size : int
        Image side in pixels.
    rng : numpy.random.Generator
        Noise and nuisance parameters (arm phases, companion positions...).
    frame_r90 : float, optional
        Image width in units of the galaxy's R90 (GZ2: 8.48; smaller zooms in).
    sky_noise : float, optional
        Sky noise (1 sigma) in one arcsec^2, in flux per arcsec^2 (unit: an r = 15 source per arcsec^2).
    softening : float, optional
        Surface brightness where the asinh stretch turns from linear to logarithmic.
    top : float, optional
        asinh(SB / softening) that maps to full brightness.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape (batch, size, size, 3), RGB = (i, r, g).

    Examples
    --------
    >>> images = render_batch(draw_population(8, seed=0), 64, np.random.default_rng(0))  # doctest: +SKIP
    """
    g = {c: gal[c].to_numpy() for c in gal.columns}
    nuisance = draw_nuisance(rng, g, frame_r90 / 2.0)
    X, Y = pixel_grid(size, frame_r90)
    light = galaxy_light(g, X, Y, nuisance)
    img = observe(light, g, X, Y, nuisance, frame_r90, sky_noise, rng)
    return asinh_rgb(img, softening, top)
