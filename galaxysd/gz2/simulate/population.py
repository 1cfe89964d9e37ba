"""Draw a population of galaxies: physical properties and the true morphology of each.

The sample is flux limited like GZ2 (r <= 17): galaxies are drawn uniformly in comoving volume out to
z = 0.25 with a stellar mass from a simple mass function, and kept if bright enough, so distant
galaxies are massive and appear small (Malmquist bias). All draws are vectorised with numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from astropy.cosmology import FlatLambdaCDM

COSMO = FlatLambdaCDM(H0=70.0, Om0=0.3)
R_LIMIT = 17.0          # GZ2 magnitude limit (r band, Petrosian)
Z_RANGE = (0.005, 0.25)

#: Kinds of galaxy, with their share before the flux limit.
KINDS = ("elliptical", "disk", "irregular")
KIND_P = (0.40, 0.56, 0.04)
#: Bulge prominence classes of disks (t05 answers) and their bulge-to-total flux ratios.
BULGE_CLASSES = ("none", "just_noticeable", "obvious", "dominant")
BULGE_P = (0.12, 0.40, 0.36, 0.12)
BULGE_BT = (0.0, 0.08, 0.25, 0.5)
#: Arm windings (t10) and their pitch angles in degrees.
WINDINGS = ("tight", "medium", "loose")
WINDING_P = (0.35, 0.40, 0.25)
WINDING_PITCH = (11.0, 20.0, 32.0)
#: Arm numbers (t11; 5 stands for "more than 4").
ARMS = (1, 2, 3, 4, 5)
ARMS_P = (0.05, 0.55, 0.18, 0.14, 0.08)


def _choice(rng, n, p):
    return rng.choice(len(p), size=n, p=np.asarray(p) / np.sum(p))


def _draw_candidates(rng: np.random.Generator, n: int) -> pd.DataFrame:
    # Redshift uniform in comoving volume (p(z) ~ D_C^2 dD_C/dz), via a tabulated inverse CDF.
    zg = np.linspace(*Z_RANGE, 512)
    dc = COSMO.comoving_distance(zg).value
    cdf = dc ** 3 - dc[0] ** 3
    z = np.interp(rng.random(n) * cdf[-1], cdf, zg)
    kind = _choice(rng, n, KIND_P)
    # stellar mass (log10 Msun): kinds differ; a steep mass function below the knee
    mu = np.array([10.75, 10.35, 9.5])[kind]
    sig = np.array([0.45, 0.55, 0.45])[kind]
    logm = mu + sig * rng.standard_normal(n)
    # mass-to-light: absolute r magnitude
    abs_r = -21.0 - 1.9 * (logm - 10.7) + np.array([0.25, 0.0, -0.3])[kind] + 0.15 * rng.standard_normal(n)
    dl = COSMO.luminosity_distance(z).value
    r_mag = abs_r + 5 * np.log10(dl * 1e5) + 1.1 * z  # crude k-correction
    return pd.DataFrame({"z": z, "kind_id": kind, "logmstar": logm, "abs_r": abs_r, "r_mag": r_mag})


def draw_population(n: int, seed: int = 0) -> pd.DataFrame:
    """Draw ``n`` flux-limited galaxies with their physical properties and true morphology.

    Parameters
    ----------
    n : int
        Number of galaxies.
    seed : int, optional
        Seed; the same seed gives the same population.

    Returns
    -------
    pandas.DataFrame
        One row per galaxy: ``z``, ``kind`` (elliptical/disk/irregular), ``logmstar``, ``abs_r``,
        ``r_mag``, ``logsfr``, ``loghalo``, ``central``, size (``r90_kpc``, ``r90_arcsec``), shape
        (``axis_ratio``, ``pa_deg``, ``inclination_deg``, ``edge_on``), and the true features that the
        renderer paints and volunteers judge: ``bulge_class``, ``bulge_bt``, ``bulge_shape``
        (rounded/boxy/none, edge-on disks), ``spiral``, ``arms``, ``winding``, ``pitch_deg``, ``bar``,
        ``ring``, ``merger``, ``disturbed``, ``irregular``, ``lens``, ``dust_lane``, ``dust_orientation``
        (1 major, 2 minor, 3 skewed, 4 irregular), ``roundness`` (round/in_between/cigar, for smooth
        galaxies) and ``is_detg`` (an early type with a dust lane).
    """
    rng = np.random.default_rng([seed, 1])
    pop = _flux_limited(rng, n)
    kind = pop.pop("kind_id").to_numpy()
    ell, disk, irr = kind == 0, kind == 1, kind == 2
    pop["kind"] = np.array(KINDS)[kind]
    _add_sizes(pop, rng, ell)
    edge_on = _add_shapes(pop, rng, ell, disk)
    _add_disk_features(pop, rng, ell, disk, edge_on)
    _add_odd_features(pop, rng, ell, irr, edge_on)
    _add_star_formation_and_halo(pop, rng, ell)
    return pop


def _flux_limited(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Candidates drawn in batches until ``n`` pass the flux limit; the first ``n`` of them."""
    parts, have = [], 0
    while have < n:
        cand = _draw_candidates(rng, max(4 * (n - have), 256))
        cand = cand[cand.r_mag <= R_LIMIT]
        parts.append(cand)
        have += len(cand)
    return pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True)


def _add_sizes(pop: pd.DataFrame, rng: np.random.Generator, ell: np.ndarray) -> None:
    """R90 in kpc from a mass-size relation (ellipticals compact for their mass), and in arcsec."""
    n, z, logm = len(pop), pop.z.to_numpy(), pop.logmstar.to_numpy()
    r90_kpc = 10 ** (0.9 + 0.25 * (logm - 10.5) + np.where(ell, -0.05, 0.1) + 0.12 * rng.standard_normal(n))
    da = COSMO.angular_diameter_distance(z).value  # Mpc
    pop["r90_kpc"] = r90_kpc
    pop["r90_arcsec"] = r90_kpc / (da * 1e3) * 206265.0


def _add_shapes(pop: pd.DataFrame, rng: np.random.Generator, ell: np.ndarray, disk: np.ndarray) -> np.ndarray:
    """Position angle, inclination, axis ratio and roundness; returns which galaxies are edge-on disks."""
    n = len(pop)
    pa = rng.uniform(0, 180, n)
    cosi = rng.random(n)
    incl = np.degrees(np.arccos(cosi))
    q0 = 0.11
    q_disk = np.sqrt(cosi ** 2 * (1 - q0 ** 2) + q0 ** 2)
    edge_on = disk & (q_disk < 0.25)
    # ellipticals: round / in-between / cigar by intrinsic + projected flattening
    round_cls = _choice(rng, n, (0.42, 0.43, 0.15))
    q_ell = np.select([round_cls == 0, round_cls == 1], [rng.uniform(0.82, 1.0, n), rng.uniform(0.5, 0.78, n)],
                      rng.uniform(0.25, 0.45, n))
    pop["axis_ratio"] = np.where(ell, q_ell, np.where(disk, q_disk, rng.uniform(0.4, 0.9, n)))
    pop["pa_deg"] = pa
    pop["inclination_deg"] = np.where(disk, incl, np.nan)
    pop["edge_on"] = edge_on
    pop["roundness"] = np.where(ell, np.array(["round", "in_between", "cigar"])[round_cls], "")
    return edge_on


def _add_disk_features(pop: pd.DataFrame, rng: np.random.Generator, ell: np.ndarray, disk: np.ndarray,
                       edge_on: np.ndarray) -> None:
    """Bulge class, flux ratio and shape; spiral arms (number, winding, pitch); bars and rings."""
    n = len(pop)
    bcls = _choice(rng, n, BULGE_P)
    pop["bulge_class"] = np.where(disk, np.array(BULGE_CLASSES)[bcls], np.where(ell, "dominant", "none"))
    pop["bulge_bt"] = np.where(disk, np.array(BULGE_BT)[bcls], np.where(ell, 1.0, 0.0))
    boxy = rng.random(n) < 0.3
    pop["bulge_shape"] = np.where(edge_on, np.where(bcls == 0, "none", np.where(boxy, "boxy", "rounded")), "")
    spiral = disk & ~edge_on & (rng.random(n) < 0.82)
    pop["spiral"] = spiral
    pop["arms"] = np.where(spiral, np.array(ARMS)[_choice(rng, n, ARMS_P)], 0)
    wcls = _choice(rng, n, WINDING_P)
    pop["winding"] = np.where(spiral, np.array(WINDINGS)[wcls], "")
    pop["pitch_deg"] = np.where(spiral, np.array(WINDING_PITCH)[wcls] + rng.normal(0, 2.0, n), 0.0)
    pop["bar"] = disk & ~edge_on & (rng.random(n) < 0.30)
    pop["ring"] = disk & ~edge_on & (rng.random(n) < 0.07)


def _add_odd_features(pop: pd.DataFrame, rng: np.random.Generator, ell: np.ndarray, irr: np.ndarray,
                      edge_on: np.ndarray) -> None:
    """Mergers, disturbed and irregular galaxies, lenses, and dust lanes (D-ETGs: dusty ellipticals)."""
    n = len(pop)
    pop["merger"] = rng.random(n) < 0.045
    pop["disturbed"] = ~pop.merger.to_numpy() & (rng.random(n) < np.where(irr, 0.5, 0.025))
    pop["irregular"] = irr
    pop["lens"] = rng.random(n) < 0.004
    dust_p = np.where(edge_on, 0.30, np.where(ell, 0.03, 0.0))
    dust = rng.random(n) < dust_p
    pop["dust_lane"] = dust
    orient = np.where(edge_on, 1, _choice(rng, n, (0.45, 0.15, 0.3, 0.1)) + 1)
    pop["dust_orientation"] = np.where(dust, orient, 0)
    pop["is_detg"] = ell & dust


def _add_star_formation_and_halo(pop: pd.DataFrame, rng: np.random.Generator, ell: np.ndarray) -> None:
    """Star formation rate, halo mass and whether the galaxy is its group's central."""
    n, logm = len(pop), pop.logmstar.to_numpy()
    # star formation (log Msun/yr): main sequence for disks and irregulars, quiescent early types;
    # dusty early types are rejuvenated by the gas-rich minor merger that brought the dust
    ms = 0.75 * (logm - 10.0) - 0.05
    logsfr = np.where(ell, ms - 1.6, ms) + 0.3 * rng.standard_normal(n)
    logsfr = np.where(pop.is_detg, ms - 0.7 + 0.3 * rng.standard_normal(n), logsfr)
    pop["logsfr"] = logsfr
    # halo mass (log Msun/h): inverse stellar-to-halo relation; satellites live in bigger haloes
    central = rng.random(n) < np.where(ell, 0.6, 0.75)
    loghalo = 11.9 + 1.6 * np.clip(logm - 10.5, -1.5, None) + 0.2 * rng.standard_normal(n)
    loghalo = np.where(central, loghalo, loghalo + rng.uniform(0.3, 2.0, n))
    loghalo = np.where(pop.is_detg, loghalo - 0.15, loghalo)
    pop["loghalo"] = np.clip(loghalo, 11.0, 15.2)
    pop["central"] = central
