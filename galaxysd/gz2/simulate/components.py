"""The light components a simulated galaxy is made of, each a pure function of the pixel grid.

Every function takes coordinates in units of the galaxy's R90 (arrays that broadcast to
``(batch, size, size)``) and per-galaxy parameters of shape ``(batch, 1, 1)``, and returns a surface
brightness map; none draws random numbers (the renderer draws every nuisance parameter first, in a
fixed order, see :func:`galaxysd.gz2.simulate.render.draw_nuisance`). Profiles are shapes: the
renderer normalises each with :func:`unit_flux` and sets its share of the galaxy's light.
"""

from __future__ import annotations

import numpy as np

#: Disk scale length in units of R90 (R90 ~ 3.9 h for a pure exponential).
DISK_SCALE = 0.26


def unit_flux(img: np.ndarray) -> np.ndarray:
    """Scale each image (over the last two axes) to a total of 1; an all-zero image stays zero."""
    s = img.sum(axis=(-2, -1), keepdims=True)
    return img / np.where(s > 0, s, 1.0)


def rotate(x: np.ndarray, y: np.ndarray, angle) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates along and across a direction at ``angle`` radians from the x axis."""
    return x * np.cos(angle) + y * np.sin(angle), -x * np.sin(angle) + y * np.cos(angle)


def sersic(r: np.ndarray, re, n) -> np.ndarray:
    """Sérsic profile of index ``n``, 1 at the effective radius ``re`` (b_n ~ 2n - 1/3)."""
    b = 2.0 * n - 1.0 / 3.0
    return np.exp(-b * ((r / re) ** (1.0 / n) - 1.0))


def spheroid(xr, yr, q, edge, elliptical, boxy) -> np.ndarray:
    """An elliptical galaxy (n = 4) or a bulge (n = 2), of unit flux.

    ``xr``/``yr`` run along the major/minor axis. An elliptical keeps its axis ratio ``q``; an edge-on
    disk's bulge stands out of the thin disk (rounded 0.85, boxy 0.62: at 64 pixels a bulge must be
    wider than the disk is thick to be judged rounded or boxy); boxy isophotes are superellipses of
    exponent 4.
    """
    qb = np.where(elliptical, q, np.where(edge, np.where(boxy, 0.62, 0.85), np.clip(q + 0.3, 0, 1)))
    c_exp = np.where(boxy, 4.0, 2.0)
    rb = (np.abs(xr) ** c_exp + np.abs(yr / qb) ** c_exp) ** (1.0 / c_exp)
    re_sph = np.where(elliptical, 0.38, np.where(edge, np.where(boxy, 0.3, 0.28), 0.12))
    n_sph = np.where(elliptical, 4.0, 2.0)
    return unit_flux(sersic(np.maximum(rb, 1e-3), re_sph, n_sph))


def disk_plane(xr, yr, q, edge) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates in the disk's own plane, deprojected by the axis ratio: ``xd, yd, R, theta``.

    An edge-on disk keeps a thickness (cos i >= 0.24), a face-on one cos i >= 0.1.
    """
    cosi = np.where(edge, np.maximum(q, 0.24), np.clip(q, 0.1, 1.0))
    xd, yd = xr, yr / cosi
    return xd, yd, np.hypot(xd, yd), np.arctan2(yd, xd)


def exponential_disk(R) -> np.ndarray:
    """An exponential disk of scale length :data:`DISK_SCALE` (peak 1)."""
    return np.exp(-R / DISK_SCALE)


def spiral_arms(R, theta, m, pitch_deg, phase) -> np.ndarray:
    """``m`` logarithmic spiral arms of the given pitch angle, from 0.12 R90 outwards (peak <= 1).

    ``pitch_deg`` is clipped to 5-45 degrees; ``phase`` turns the pattern.
    """
    pitch = np.radians(np.clip(pitch_deg, 5, 45))
    arg = m * (theta - np.log(np.maximum(R, 1e-3) / DISK_SCALE) / np.tan(pitch)) + phase
    arm_shape = (0.5 * (1 + np.cos(arg))) ** 4
    arm_env = np.clip((R - 0.12) / 0.15, 0, 1) * np.exp(-R / (1.3 * DISK_SCALE))
    return arm_shape * arm_env


def arms_outside_bar(R, bar_length) -> np.ndarray:
    """The factor that starts the arms at the bar's ends (0 inside, 1 beyond ~0.08 R90 outside)."""
    return np.clip((R - bar_length) / 0.08 + 1, 0, 1)


def bar(xd, yd, angle, length) -> np.ndarray:
    """A bar in the disk plane: a flattened (axis ratio 0.22) super-Gaussian along ``angle`` (peak 1)."""
    xb, yb = rotate(xd, yd, angle)
    return np.exp(-((xb / length) ** 2 + (yb / (0.22 * length)) ** 2) ** 1.5)


def ring(R, radius) -> np.ndarray:
    """A ring of the given radius in the disk plane (Gaussian width 0.06 R90, peak 1)."""
    return np.exp(-((R - radius) / 0.06) ** 2)


def ring_gap(R, radius) -> np.ndarray:
    """The factor that empties the disk inside a ring (the gas went into the ring); 0.4 at its deepest."""
    return 1.0 - 0.6 * np.exp(-((R - 0.6 * radius) / (0.35 * radius)) ** 2)


def clumps(X, Y, knots) -> np.ndarray:
    """Star-forming knots of an irregular galaxy: a sum of round Gaussians.

    ``knots`` is a sequence of ``(cx, cy, width, amplitude)``, each of shape ``(batch, 1, 1)``.
    """
    light = 0.0
    for cx, cy, w, amp in knots:
        light = light + amp * np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * w ** 2))
    return light


def companion_and_tails(X, Y, angle, distance, width) -> np.ndarray:
    """A merger: a companion at ``distance`` along ``angle`` and two tidal tails (unit flux 0.9)."""
    cx, cy = distance * np.cos(angle), distance * np.sin(angle)
    comp = np.exp(-np.hypot(X - cx, Y - cy) / width)
    rt, tt = np.hypot(X, Y), np.arctan2(Y, X)
    tail_arg = tt - angle - np.log(np.maximum(rt, 1e-3) / 0.3) / np.tan(np.radians(25))
    tail = (0.5 * (1 + np.cos(tail_arg))) ** 8 * np.clip((rt - 0.25) / 0.2, 0, 1) * np.exp(-rt / 0.6)
    return 0.55 * unit_flux(comp) + 0.35 * unit_flux(tail)


def lopsided(X, Y, angle) -> np.ndarray:
    """The factor (>= 0.2) that brightens the outer light toward ``angle``: a disturbed galaxy."""
    rt, tt = np.hypot(X, Y), np.arctan2(Y, X)
    return np.clip(1.0 + 1.2 * np.clip(rt / 0.4, 0, 2) * np.cos(tt - angle), 0.2, None)


def lens_arc(X, Y, angle) -> np.ndarray:
    """A thin arc at 0.75 R90 centred on ``angle``: a background source lensed by the galaxy."""
    rt, tt = np.hypot(X, Y), np.arctan2(Y, X)
    return np.exp(-((rt - 0.75) / 0.03) ** 2) * np.exp(-((np.angle(np.exp(1j * (tt - angle)))) / 0.5) ** 2)


def dust_lane(xr, yr, angle, offset, edge, curved) -> np.ndarray:
    """Where a dust lane lies (1 on its axis): a band along ``angle`` from the major axis.

    The band is 0.07 R90 wide on an edge-on disk (where it follows the midplane, 0.9 R90 long), else
    0.085 R90 wide and 0.5 R90 long; ``offset`` moves it off the centre and ``curved`` bends it (an
    irregular lane). The renderer multiplies it by an optical depth per band.
    """
    xl, yl = rotate(xr, yr, angle)
    lane_w = np.where(edge, 0.07, 0.085)
    curve = np.where(curved, 0.25 * xl ** 2, 0.0)
    return np.exp(-((yl - offset - curve) / lane_w) ** 2) * np.exp(-(xl / np.where(edge, 0.9, 0.5)) ** 2)
