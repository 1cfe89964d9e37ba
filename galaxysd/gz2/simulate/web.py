"""A second simulated picture collection, standing for the web images Stable Diffusion v1.5 learnt from.

The paper's model could draw dusty early types it never saw in training because SD1.5 arrived
knowing what a dust lane looks like (Ma et al. 2026, Appendix E): photographs of Centaurus A, the
Sombrero galaxy and edge-on spirals are on the web with captions that say so. The demo's tiny model
is pre-trained on this collection before chapter 02's fine-tuning, so that it too meets "early type"
and "dust lane" with a prior. The collection differs from the GZ2-like survey
(:mod:`~galaxysd.gz2.simulate.survey`) the way web photos differ from SDSS cutouts:

- **population**: every morphology of :func:`~galaxysd.gz2.simulate.population.draw_population`,
  with dust lanes on galaxies of every type and far more often than in the survey
  (:data:`DUST_P`); ``dusty_early_types=False`` keeps dust lanes on disks only (the experiment of
  whether the fine-tuned model's D-ETGs need the prior);
- **imaging style** (:class:`WebStyle`): rendered at a lower resolution and enlarged, a wider PSF
  fixed in pixels, each picture exposed to its own brightest pixels, a logarithmic stretch with a
  warm colour balance, more noise and a coarse JPEG;
- **framing**: closer and at several scales (:data:`WebStyle.frames_r90`), off-centre;
- **captions**: plain language in varied wording (:mod:`~galaxysd.gz2.simulate.web_captions`).

Layout of a collection folder (written by :func:`write_web_collection`)::

    images/web-NNNNNN.jpg    the pictures
    manifest.csv             objid, image_path (relative to the folder), tags (true features, "|"-joined),
                             caption (alternatives, "|"-joined); :func:`read_web_manifest` reads it
    truth.csv                the population (kind, dust_lane, is_detg, ...), one row per picture
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from galaxysd.cache import atomic_path, atomic_write_text
from galaxysd.errors import DataError, ParameterError
from galaxysd.gz2.simulate.population import draw_population
from galaxysd.gz2.simulate.render import draw_nuisance, galaxy_light, gaussian_psf, pixel_grid
from galaxysd.gz2.simulate.web_captions import web_captions
from galaxysd.progress import progress_bar

#: Bumped whenever the collection's pictures or captions change, so cached collections are remade.
WEB_VERSION = "1"
#: Offset of the collection's seeds from the survey's, so the two never share a galaxy.
WEB_SEED_OFFSET = 7_000_003
#: Probability of a dust lane by kind of galaxy (the survey: 3 % of ellipticals, 30 % of edge-on disks,
#: none elsewhere); dusty galaxies are what the web's famous pictures show.
DUST_P = {"elliptical": 0.25, "edge_on": 0.5, "disk": 0.15, "irregular": 0.1}
#: First objid of the collection (well away from SDSS DR7 objids).
FIRST_ID = 10 ** 9


@dataclass(frozen=True)
class WebStyle:
    """How a web picture is made, where it differs from the survey's SDSS-like cutouts.

    Attributes
    ----------
    frames_r90 : tuple of float
        Picture widths in R90 (the survey: 5.0); each picture takes one at random.
    offset_r90 : float
        Largest shift of the galaxy from the centre, in R90 (the survey: 0.03 rms).
    downsample : float
        Rendered at this fraction of the side, then enlarged (a softer, lower-resolution picture).
    psf_px : float
        Gaussian PSF sigma in pixels of the rendered picture (the survey: 1.4 arcsec FWHM).
    noise : float
        Pixel noise relative to the picture's brightest light.
    dust_boost : float
        Dust lanes' optical depth relative to the survey's (the web's famous dusty galaxies are nearby
        and well resolved, so their lanes are dark).
    log_gain : float
        Stretch ``log(1 + gain x) / log(1 + gain)`` (the survey: asinh, Lupton et al. 2004).
    balance : tuple of float
        Gains of red, green and blue (a warm colour balance).
    jpeg_quality : int
        JPEG quality (the survey: 92).
    """

    frames_r90: tuple = (3.2, 4.0, 5.0, 6.5)
    offset_r90: float = 0.45
    downsample: float = 0.7
    psf_px: float = 0.9
    noise: float = 0.02
    dust_boost: float = 1.5
    log_gain: float = 25.0
    balance: tuple = (1.06, 1.0, 0.9)
    jpeg_quality: int = 40


def draw_web_population(n: int, seed: int = 0, dusty_early_types: bool = True) -> pd.DataFrame:
    """Draw the collection's galaxies: every morphology, dust lanes on every type.

    Parameters
    ----------
    n : int
        Number of pictures.
    seed : int, optional
        Seed (offset by :data:`WEB_SEED_OFFSET` from the survey's).
    dusty_early_types : bool, optional
        ``False`` keeps dust lanes off early types (ellipticals): dust lanes on disks only.

    Returns
    -------
    pandas.DataFrame
        :func:`~galaxysd.gz2.simulate.population.draw_population`'s columns, with ``dust_lane``,
        ``dust_orientation`` and ``is_detg`` redrawn with :data:`DUST_P`.

    Raises
    ------
    ParameterError
        If ``n`` is not positive.

    Examples
    --------
    >>> pop = draw_web_population(100, seed=0, dusty_early_types=False)
    """
    if n < 1:
        raise ParameterError(f"pretrain_collection_size must be a positive number of pictures, got {n}")
    pop = draw_population(n, seed + WEB_SEED_OFFSET)
    rng = np.random.default_rng([seed, 41])
    kind, edge_on = pop["kind"].to_numpy(), pop["edge_on"].to_numpy()
    ell = kind == "elliptical"
    p = np.where(ell, DUST_P["elliptical"] if dusty_early_types else 0.0,
                 np.where(edge_on, DUST_P["edge_on"], np.where(kind == "disk", DUST_P["disk"], DUST_P["irregular"])))
    dust = rng.random(n) < p
    orient = np.where(edge_on, 1, rng.choice(4, n, p=(0.45, 0.15, 0.3, 0.1)) + 1)
    pop["dust_lane"] = dust
    pop["dust_orientation"] = np.where(dust, orient, 0)
    pop["is_detg"] = ell & dust
    return pop


def _stretch(light: np.ndarray, style: WebStyle) -> np.ndarray:
    """(B, 3, S, S) g, r, i light exposed to each picture's brightest light -> float RGB in [0, 1]."""
    peak = np.percentile(light.mean(axis=1), 99.8, axis=(1, 2))
    x = np.clip(light[:, ::-1] / np.maximum(peak, 1e-12)[:, None, None, None], 0, None)
    rgb = np.log1p(style.log_gain * x) / np.log1p(style.log_gain)
    return np.clip(rgb * np.asarray(style.balance)[None, :, None, None], 0, 1)


def _as_jpeg(rgb: np.ndarray, size: int, quality: int) -> bytes:
    """One (3, s, s) float RGB picture enlarged to ``size`` and encoded as JPEG."""
    img = Image.fromarray((rgb.transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8))
    buf = io.BytesIO()
    img.resize((size, size), Image.BICUBIC).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def render_web_batch(gal: pd.DataFrame, size: int, rng: np.random.Generator,
                     style: WebStyle = WebStyle()) -> list[bytes]:
    """Render galaxies as web pictures (JPEG bytes), in the survey's light model and the web's style.

    The light of each galaxy (Sérsic spheroid, disk, arms, bar, ring, dust lane... of
    :func:`~galaxysd.gz2.simulate.render.galaxy_light`) is framed at one of ``style.frames_r90``
    and off-centre, blurred, exposed, stretched and compressed as :class:`WebStyle` says.

    Parameters
    ----------
    gal : pandas.DataFrame
        Rows of :func:`draw_web_population`.
    size : int
        Picture side in pixels.
    rng : numpy.random.Generator
        Framing, nuisance parameters and noise.
    style : WebStyle, optional

    Returns
    -------
    list of bytes
        One JPEG a galaxy, in row order.

    Examples
    --------
    >>> jpegs = render_web_batch(draw_web_population(4), 64, np.random.default_rng(0))
    """
    small = max(8, int(round(size * style.downsample)))
    frames = rng.choice(np.asarray(style.frames_r90, float), len(gal))
    out: list[bytes | None] = [None] * len(gal)
    for frame in np.unique(frames):
        rows = np.nonzero(frames == frame)[0]
        g = {c: gal[c].to_numpy()[rows] for c in gal.columns}
        nz = draw_nuisance(rng, g, frame / 2.0)
        nz.jitter = rng.uniform(-style.offset_r90, style.offset_r90, (len(rows), 2))
        nz.lane_tau = nz.lane_tau * style.dust_boost
        X, Y = pixel_grid(small, float(frame))
        light = gaussian_psf(galaxy_light(g, X, Y, nz), np.full(len(rows), style.psf_px))
        rgb = _stretch(light, style)
        rgb = np.clip(rgb + rng.standard_normal(rgb.shape) * style.noise, 0, 1)
        for i, r in enumerate(rows):
            out[r] = _as_jpeg(rgb[i], size, style.jpeg_quality)
    return out  # type: ignore[return-value]


def _tags(pop: pd.DataFrame) -> list[str]:
    """Each galaxy's true features as short tags (bookkeeping; training reads the captions)."""
    from galaxysd.gz2.simulate.web_captions import feature_keys, subject_key

    return ["|".join([subject_key(row), *feature_keys(row)]) for row in pop.itertuples(index=False)]


def write_web_collection(out_dir: str | os.PathLike, n: int, size: int, seed: int = 0,
                         dusty_early_types: bool = True, style: WebStyle = WebStyle(), batch: int = 128,
                         progress: bool = True) -> Path:
    """Draw, render and caption the web collection into ``out_dir``.

    Parameters
    ----------
    out_dir : str or path-like
        Collection folder (created); see the module's layout.
    n : int
        Number of pictures.
    size : int
        Picture side in pixels (the diffusion model's resolution).
    seed : int, optional
        Seed; the same seed and parameters give the same collection.
    dusty_early_types : bool, optional
        ``False``: no early type carries a dust lane (:func:`draw_web_population`).
    style : WebStyle, optional
    batch : int, optional
        Pictures rendered at once.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    pathlib.Path
        The collection's ``manifest.csv`` (columns ``objid``, ``image_path`` relative to ``out_dir``
        so that the folder may move, ``tags``, ``caption``).

    Examples
    --------
    >>> manifest = write_web_collection("/tmp/web", n=64, size=32)  # doctest: +SKIP
    """
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    pop = draw_web_population(n, seed, dusty_early_types)
    objid = FIRST_ID + np.arange(n, dtype=np.int64)
    paths = [out / "images" / f"web-{i:06d}.jpg" for i in range(n)]
    starts = range(0, n, batch)
    for b, start in enumerate(progress_bar(starts, desc="rendering web pictures", unit="batch",
                                           disable=not progress, mininterval=2.0)):
        part = pop.iloc[start:start + batch]
        for jpeg, path in zip(render_web_batch(part, size, np.random.default_rng([seed, 43, b]), style),
                              paths[start:start + batch]):
            with atomic_path(path) as tmp:
                Path(tmp).write_bytes(jpeg)
    manifest = pd.DataFrame({"objid": objid, "image_path": [str(p.relative_to(out)) for p in paths], "tags": _tags(pop),
                             "caption": web_captions(pop, seed)})
    atomic_write_text(out / "manifest.csv", manifest.to_csv(index=False))
    truth = pop.copy()
    truth.insert(0, "objid", objid)
    atomic_write_text(out / "truth.csv", truth.to_csv(index=False))
    return out / "manifest.csv"


def read_web_manifest(folder: str | os.PathLike) -> pd.DataFrame:
    """The web collection's manifest with absolute image paths.

    Parameters
    ----------
    folder : str or path-like
        A folder written by :func:`write_web_collection`.

    Returns
    -------
    pandas.DataFrame
        ``objid``, ``image_path`` (absolute), ``tags``, ``caption``.

    Raises
    ------
    DataError
        If the folder has no ``manifest.csv``.

    Examples
    --------
    >>> manifest = read_web_manifest(run_dir / "02_finetune" / "web")  # doctest: +SKIP
    """
    folder = Path(folder)
    path = folder / "manifest.csv"
    if not path.is_file():
        raise DataError(f"web collection {folder} has no manifest.csv; delete the folder to have it written again")
    manifest = pd.read_csv(path, dtype={"tags": str, "caption": str})
    manifest["image_path"] = [str(folder / p) for p in manifest["image_path"]]
    return manifest
