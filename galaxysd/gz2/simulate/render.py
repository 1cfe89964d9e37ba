"""Paint simulated galaxies as gri colour composites, many at a time.

Each galaxy is the sum of physically motivated components, evaluated on the pixel grid for a whole
batch at once (arrays of shape ``(batch, size, size)``; a component a galaxy lacks has zero
amplitude):

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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEEING_FWHM = 1.4        # arcsec
GZ2_FRAME_R90 = 8.48     # GZ2 images span 424 pixels of 0.02 R90
#: Colours (g, r, i flux relative to r) of each stellar population.
RED = np.array([0.55, 1.0, 1.3])
DISK = np.array([0.8, 1.0, 1.12])
BLUE = np.array([1.25, 1.0, 0.85])
#: Dust optical depth per band relative to r.
DUST_TAU = np.array([1.35, 1.0, 0.75])


def _sersic(r, re, n):
    b = 2.0 * n - 1.0 / 3.0
    return np.exp(-b * ((r / re) ** (1.0 / n) - 1.0))


def _norm(img):
    s = img.sum(axis=(-2, -1), keepdims=True)
    return img / np.where(s > 0, s, 1.0)


def _gauss_psf(images, sigma_px):
    """Convolve (B, 3, S, S) images with a Gaussian of per-galaxy width (pixels), via FFT."""
    size = images.shape[-1]
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    k2 = fx ** 2 + fy ** 2
    kernel = np.exp(-2.0 * np.pi ** 2 * sigma_px[:, None, None, None] ** 2 * k2)
    return np.fft.irfft2(np.fft.rfft2(images) * kernel, s=(size, size))


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
    """
    B = len(gal)
    g = {c: gal[c].to_numpy() for c in gal.columns}
    # pixel grid in units of R90, centred
    half = frame_r90 / 2.0
    ax = (np.arange(size) + 0.5) / size * 2 * half - half
    X, Y = np.meshgrid(ax, -ax)
    X, Y = X[None].astype(np.float32), Y[None].astype(np.float32)
    jitter = rng.normal(0, 0.03, (B, 2))
    pa = np.radians(g["pa_deg"])[:, None, None]
    x0 = X - jitter[:, 0, None, None]
    y0 = Y - jitter[:, 1, None, None]
    xr = x0 * np.cos(pa) + y0 * np.sin(pa)      # along major axis
    yr = -x0 * np.sin(pa) + y0 * np.cos(pa)     # along minor axis
    col = lambda c: g[c][:, None, None]  # noqa: E731

    kind = g["kind"]
    ell, disk, irr = kind == "elliptical", kind == "disk", kind == "irregular"
    q = np.clip(col("axis_ratio"), 0.08, 1.0)
    edge = col("edge_on").astype(bool)

    # --- spheroid (elliptical or bulge) ---
    # edge-on bulges must stand out of the thin disk to be judged rounded or boxy at 64 px: at least
    # 30% of the light, in a spheroid wider than the disk is thick (boxy: a flattened superellipse)
    bt = col("bulge_bt")
    bt = np.where(edge & (bt > 0), np.maximum(bt, 0.35), bt)
    is_ell = ell[:, None, None]
    boxy = (g["bulge_shape"] == "boxy")[:, None, None]
    qb = np.where(is_ell, q, np.where(edge, np.where(boxy, 0.62, 0.85), np.clip(q + 0.3, 0, 1)))
    c_exp = np.where(boxy, 4.0, 2.0)
    rb = (np.abs(xr) ** c_exp + np.abs(yr / qb) ** c_exp) ** (1.0 / c_exp)
    re_sph = np.where(is_ell, 0.38, np.where(edge, np.where(boxy, 0.3, 0.28), 0.12))
    n_sph = np.where(is_ell, 4.0, 2.0)
    sph = _norm(_sersic(np.maximum(rb, 1e-3), re_sph, n_sph))

    # --- disk in its own plane ---
    h = 0.26  # scale length in R90 units (R90 ~ 3.9 h for a pure exponential)
    cosi = np.where(edge, np.maximum(q, 0.24), np.clip(q, 0.1, 1.0))  # edge-on disks have thickness
    xd, yd = xr, yr / cosi
    R = np.hypot(xd, yd)
    theta = np.arctan2(yd, xd)
    disk_img = np.exp(-R / h)
    # spiral arms: log spirals, enhancement in blue light
    spiral = col("spiral").astype(bool)
    m = col("arms").astype(float)
    m = np.where(m >= 5, 5.0 + rng.integers(0, 2, B)[:, None, None], m)
    pitch = np.radians(np.clip(col("pitch_deg"), 5, 45))
    phase = rng.uniform(0, 2 * np.pi, B)[:, None, None]
    arg = m * (theta - np.log(np.maximum(R, 1e-3) / h) / np.tan(pitch)) + phase
    arm_shape = (0.5 * (1 + np.cos(arg))) ** 4
    arm_env = np.clip((R - 0.12) / 0.15, 0, 1) * np.exp(-R / (1.3 * h))
    arms = np.where(spiral, arm_shape * arm_env, 0.0)
    # bar
    bar_ang = rng.uniform(0, np.pi, B)[:, None, None]
    xb = xd * np.cos(bar_ang) + yd * np.sin(bar_ang)
    yb = -xd * np.sin(bar_ang) + yd * np.cos(bar_ang)
    bar_len = rng.uniform(0.28, 0.4, B)[:, None, None]
    bar = np.where(col("bar").astype(bool), np.exp(-((xb / bar_len) ** 2 + (yb / (0.22 * bar_len)) ** 2) ** 1.5), 0.0)
    if bar.any():  # arms start at the bar ends
        arms = arms * np.where(col("bar").astype(bool), np.clip((R - bar_len) / 0.08 + 1, 0, 1), 1.0)
    # ring
    r_ring = rng.uniform(0.35, 0.55, B)[:, None, None]
    ring = np.where(col("ring").astype(bool), np.exp(-((R - r_ring) / 0.06) ** 2), 0.0)

    disk_n = _norm(disk_img)
    arms_n = _norm(arms)
    bar_n = _norm(bar)
    ring_n = _norm(ring)
    has_disk = (disk | irr)[:, None, None]
    f_disk = np.where(has_disk, 1.0 - bt, 0.0)
    f_sph = np.where(is_ell, 1.0, bt)
    has_ring = col("ring").astype(bool)
    arm_f = np.where(spiral, np.where(has_ring, 0.25, 0.45), 0.0) * f_disk  # a ring outshines its arms
    bar_f = np.where(col("bar").astype(bool), 0.28, 0.0)
    ring_f = np.where(has_ring, 0.6, 0.0)

    # --- irregular clumps ---
    clumps = np.zeros_like(disk_n)
    if irr.any():
        for _ in range(6):
            cx = rng.normal(0, 0.3, B)[:, None, None]
            cy = rng.normal(0, 0.3, B)[:, None, None]
            w = rng.uniform(0.04, 0.09, B)[:, None, None]
            clumps += rng.uniform(0.3, 1.0, B)[:, None, None] * np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * w ** 2))
        clumps = np.where(irr[:, None, None], _norm(clumps), 0.0)

    # --- mergers: a companion and tidal tails; disturbed: lopsided outer light ---
    merger = col("merger").astype(bool)
    ang = rng.uniform(0, 2 * np.pi, B)[:, None, None]
    dist = rng.uniform(0.35, 0.75, B)[:, None, None]
    cx, cy = dist * np.cos(ang), dist * np.sin(ang)
    comp = np.exp(-np.hypot(X - cx, Y - cy) / rng.uniform(0.07, 0.14, B)[:, None, None])
    rt = np.hypot(X, Y)
    tt = np.arctan2(Y, X)
    tail_arg = tt - ang - np.log(np.maximum(rt, 1e-3) / 0.3) / np.tan(np.radians(25))
    tail = (0.5 * (1 + np.cos(tail_arg))) ** 8 * np.clip((rt - 0.25) / 0.2, 0, 1) * np.exp(-rt / 0.6)
    merge_img = np.where(merger, 0.55 * _norm(comp) + 0.35 * _norm(tail), 0.0)
    lop = np.where(col("disturbed").astype(bool),
                   1.0 + 1.2 * np.clip(rt / 0.4, 0, 2) * np.cos(tt - ang), 1.0)
    lop = np.clip(lop, 0.2, None)
    arc = np.where(col("lens").astype(bool),
                   np.exp(-((rt - 0.75) / 0.03) ** 2) * np.exp(-((np.angle(np.exp(1j * (tt - ang)))) / 0.5) ** 2), 0.0)

    # --- assemble gri ---
    red_part = f_sph * sph
    # inside a ring the disk is emptied (the gas went into the ring)
    inner_gap = np.where(has_ring, 1.0 - 0.6 * np.exp(-((R - 0.6 * r_ring) / (0.35 * r_ring)) ** 2), 1.0)
    disk_part = f_disk * disk_n * (1 - np.where(spiral, 0.45, 0.0)) * inner_gap + bar_f * bar_n
    blue_part = arm_f * arms_n + ring_f * ring_n + np.where(irr[:, None, None], 0.6, 0.0) * clumps \
        + 0.15 * _norm(arc)
    img = (red_part[:, None] * RED[None, :, None, None] + disk_part[:, None] * DISK[None, :, None, None]
           + blue_part[:, None] * BLUE[None, :, None, None])
    img = img * lop[:, None]
    img = img + merge_img[:, None] * DISK[None, :, None, None]

    # --- dust lane: attenuation along the midplane (disks) or at its orientation (early types) ---
    dust = col("dust_lane").astype(bool)
    orient = g["dust_orientation"]
    lane_ang = np.where(orient == 2, np.pi / 2, np.where(orient == 3, np.pi / 4, np.where(orient == 4, rng.uniform(0, np.pi, B), 0.0)))
    lane_ang = lane_ang[:, None, None] + rng.normal(0, 0.05, B)[:, None, None]
    xl = xr * np.cos(lane_ang) + yr * np.sin(lane_ang)
    yl = -xr * np.sin(lane_ang) + yr * np.cos(lane_ang)
    lane_w = np.where(edge, 0.07, 0.085)
    offset = np.where(edge, rng.uniform(-0.01, 0.02, B)[:, None, None], rng.normal(0, 0.02, B)[:, None, None])
    curve = np.where(orient[:, None, None] == 4, 0.25 * xl ** 2, 0.0)
    lane = np.exp(-((yl - offset - curve) / lane_w) ** 2) * np.exp(-(xl / np.where(edge, 0.9, 0.5)) ** 2)
    tau = np.where(dust, np.where(edge, rng.uniform(3.0, 5.0, B)[:, None, None],
                                    rng.uniform(2.0, 3.5, B)[:, None, None]), 0.0) * lane
    img = img * np.exp(-tau[:, None] * DUST_TAU[None, :, None, None])

    # --- flux and surface brightness: image in flux per arcsec^2 ---
    pix_arcsec = frame_r90 * g["r90_arcsec"] / size
    flux = 10 ** (-0.4 * (g["r_mag"] - 15.0))
    img = img * (flux / pix_arcsec ** 2)[:, None, None, None]
    # field sources: a faint star or background galaxy now and then
    n_field = rng.poisson(0.6, B)
    for b in np.nonzero(n_field)[0]:
        for _ in range(n_field[b]):
            sx, sy = rng.uniform(-half, half, 2)
            amp = 10 ** (-0.4 * (rng.uniform(17.5, 21.0) - 15.0)) / pix_arcsec[b] ** 2
            img[b] += amp * np.exp(-((X[0] - sx) ** 2 + (Y[0] - sy) ** 2) / (2 * (0.4 / g["r90_arcsec"][b]) ** 2 + 1e-4))[None] \
                * rng.choice([RED, BLUE])[:, None, None] * 0.02
    sigma_px = SEEING_FWHM / 2.355 / pix_arcsec
    img = _gauss_psf(img, sigma_px)
    # sky noise: per-pixel noise in flux/arcsec^2 falls as 1/pixel side
    noise = sky_noise / pix_arcsec
    img = img + rng.standard_normal(img.shape) * noise[:, None, None, None]

    # --- asinh stretch, (i, r, g) -> (R, G, B) ---
    mean = np.maximum(img.mean(axis=1, keepdims=True), 1e-12) / softening
    rgb = img[:, ::-1] / softening * (np.arcsinh(mean) / mean) / top
    rgb = np.clip(rgb, 0, 1)
    return (rgb.transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8)
