"""Write a simulated survey to disk in the real data's formats.

Layout of the survey folder (the ``01_data/survey`` stage of a run)::

    gz2_hart16.csv.gz            231-column Hart et al. (2016) table (all samples)
    gz2_filename_mapping.csv     objid, sample, asset_id (more rows than galaxies with images)
    images/<asset_id>.jpg        gri composites, "original" sample only (as on Zenodo)
    dustlanes/Basic_Information.txt   the "known" D-ETGs, in the Kaviraj et al. (2012) layout
    gswlc/GSWLC-X2.dat.gz        GSWLC-2 layout: 24 columns, no header, -99 = missing
    yang/SDSS7, yang/imodelC_1, yang/modelC_group   Yang et al. (2007) group-catalogue layout
    truth/truth.csv.gz           ground truth the pipeline must not read: true morphology, true D-ETGs
    survey.json                  parameters and counts

The loaders of :mod:`galaxysd.gz2.loaders` read this folder exactly as they read the real files.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from PIL import Image

from galaxysd.cache import atomic_path, atomic_write_text
from galaxysd.gz2.simulate.population import draw_population
from galaxysd.gz2.simulate.render import render_batch
from galaxysd.gz2.simulate.volunteers import hart16_table, visibility
from galaxysd.progress import progress_bar

#: Bumped whenever the simulator's output changes, so cached surveys are remade.
SIMULATOR_VERSION = "4"
#: Shares of the three GZ2 samples in the Hart16 table (original, extra, stripe82).
SAMPLE_SHARES = {"original": 209294, "extra": 21844, "stripe82": 8557}


@dataclass(frozen=True)
class SurveyFiles:
    """The files of a survey folder (simulated or real, same layout)."""

    root: Path
    hart16: Path
    mapping: Path
    images: Path
    dustlanes: Path
    gswlc: Path
    yang_galaxies: Path
    yang_members: Path
    yang_groups: Path
    truth: Path
    info: Path

    def as_dict(self) -> dict[str, str]:
        """Paths as strings (for JSON and the CLI)."""
        return {k: str(v) for k, v in asdict(self).items()}


def survey_files(root: str | os.PathLike) -> SurveyFiles:
    """The paths of a survey folder's files (whether or not they exist yet)."""
    root = Path(root)
    return SurveyFiles(root, root / "gz2_hart16.csv.gz", root / "gz2_filename_mapping.csv", root / "images",
                       root / "dustlanes" / "Basic_Information.txt", root / "gswlc" / "GSWLC-X2.dat.gz",
                       root / "yang" / "SDSS7", root / "yang" / "imodelC_1", root / "yang" / "modelC_group",
                       root / "truth" / "truth.csv.gz", root / "survey.json")


@contextmanager
def _gzip_file(path: Path) -> Iterator[gzip.GzipFile]:
    """A gzip file to write at ``path``, atomically.

    The header holds neither a time stamp nor a file name (as ``gzip -n``), so the same seed gives
    byte-identical files whatever the temporary file was called.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as raw, \
            gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as packed:
        yield packed


def _write_gzip_csv(path: Path, table: pd.DataFrame) -> None:
    with _gzip_file(path) as packed, io.TextIOWrapper(packed, encoding="utf-8", newline="") as text:
        table.to_csv(text, index=False)


def _sky(rng, n, sample):
    """RA/Dec in the SDSS legacy footprint; Stripe 82 on the celestial equator."""
    ra = rng.uniform(110, 260, n)
    dec = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-5)), np.sin(np.radians(68)), n)))
    s82 = sample == "stripe82"
    ra[s82] = rng.uniform(-50, 59, s82.sum()) % 360
    dec[s82] = rng.uniform(-1.25, 1.25, s82.sum())
    return ra, dec


def _write_dustlanes(path: Path, rows: pd.DataFrame) -> None:
    header = [
        "Early-type galaxies with dust lanes (simulated; layout of Kaviraj et al. 2012, Basic_Information)",
        "",
        "Columns:",
        "(1) SDSS DR7 objID",
        "(2) Right ascension (J2000, degrees)",
        "(3) Declination (J2000, degrees)",
        "(4) Redshift",
        "(5) Dust-lane orientation (1 major axis, 2 minor axis, 3 skewed, 4 irregular)",
        "(6) Morphology (1 merger, 2 tidal features, 3 relaxed)",
        "(7) log halo mass from the Yang et al. group catalogue",
        "(8) Environment density",
        "",
        "Notes:",
        "We assign value -999 if there is no counterpart in the cross-matching.",
        "",
        "References:",
        "Kaviraj et al. 2012, MNRAS 423, 49 (format); values simulated by galaxysd.",
        "",
    ]
    lines = [f"{int(r.objid)} {r.ra:.6f} {r.dec:.6f} {r.z:.5f} {int(r.orient)} {int(r.morph)} "
             f"{r.loghalo:.3f} {r.density:.3f}" for r in rows.itertuples()]
    atomic_write_text(path, "\n".join(header + lines) + "\n")


def _write_gswlc(path: Path, pop: pd.DataFrame, meta: pd.DataFrame, rng) -> np.ndarray:
    n = len(pop)
    covered = rng.random(n) < 0.92
    idx = np.nonzero(covered)[0]
    m = len(idx)
    sfr_missing = rng.random(m) < 0.03
    logm = pop.logmstar.to_numpy()[idx] + rng.normal(0, 0.05, m)
    logsfr = np.where(sfr_missing, -99.0, pop.logsfr.to_numpy()[idx] + rng.normal(0, 0.1, m))
    jitter = rng.normal(0, 0.2 / 3600, (m, 2))
    cols = [
        1237645000000000000 + rng.choice(10 ** 14, m, replace=False),   # objid (19 digits)
        rng.integers(1, 10 ** 9, m),                                         # glxid
        rng.integers(266, 2974, m), rng.integers(51578, 54663, m), rng.integers(1, 641, m),
        meta.ra.to_numpy()[idx] + jitter[:, 0], meta.dec.to_numpy()[idx] + jitter[:, 1],
        pop.z.to_numpy()[idx],
        rng.uniform(0.3, 3.0, m),                                            # chi2
        logm, np.full(m, 0.05), logsfr, np.where(sfr_missing, -99.0, 0.12),
        rng.uniform(0, 2, m), np.full(m, 0.2), rng.uniform(0, 1, m), np.full(m, 0.1),
        rng.uniform(0, 0.8, m), np.full(m, 0.08),
        np.where(sfr_missing, 1, 0), rng.integers(0, 3, m), rng.integers(0, 3, m), rng.integers(0, 2, m),
        np.ones(m, int),
    ]
    fmt = ["%d", "%d", "%d", "%d", "%d", "%.6f", "%.6f", "%.5f", "%.2f"] + ["%.3f"] * 10 + ["%d"] * 5
    lines = "\n".join(" ".join(f % v for f, v in zip(fmt, row)) for row in zip(*cols)) + "\n"
    with _gzip_file(path) as packed:
        packed.write(lines.encode())
    return covered


def _write_yang(files: SurveyFiles, pop: pd.DataFrame, meta: pd.DataFrame, rng) -> np.ndarray:
    n = len(pop)
    covered = (rng.random(n) < 0.95) & (pop.z.to_numpy() > 0.01)
    idx = np.nonzero(covered)[0]
    m = len(idx)
    gal_id = np.arange(1, m + 1)
    nyu = rng.choice(10 ** 6, m, replace=False)
    r_mag = pop.r_mag.to_numpy()[idx]
    gal_lines = "\n".join(
        f"{g} {u} {ra:.6f} {dec:.6f} {z:.5f} {r:.3f} 17.770 0.95 {ar:.3f} 0.70 {ar - 0.1:.3f} 0.72 1"
        for g, u, ra, dec, z, r, ar in zip(gal_id, nyu, meta.ra.to_numpy()[idx], meta.dec.to_numpy()[idx],
                                          pop.z.to_numpy()[idx], r_mag, pop.abs_r.to_numpy()[idx])) + "\n"
    atomic_write_text(files.yang_galaxies, gal_lines)
    central = pop.central.to_numpy()[idx]
    group_id = gal_id.copy()  # every galaxy its own group: the halo mass is what later notebooks use
    mem_lines = "\n".join(f"{g} {u} {grp} {int(c)} {int(c)}" for g, u, grp, c in
                          zip(gal_id, nyu, group_id, central)) + "\n"
    atomic_write_text(files.yang_members, mem_lines)
    logh = pop.loghalo.to_numpy()[idx]
    grp_lines = ["# group catalogue (simulated; layout of Yang et al. 2007 modelC_group)",
                 "# 1 group id, 2 ra, 3 dec, 4 z, 5 log L_group, 6 log M_stellar,",
                 "# 7 log M_halo (luminosity ranking), 8 log M_halo (stellar-mass ranking), 9 f_edge"]
    grp_lines += [f"{g} {ra:.6f} {dec:.6f} {z:.5f} {lm - 0.3:.3f} {lm:.3f} {h:.3f} {h + d:.3f} 1.0"
                  for g, ra, dec, z, lm, h, d in zip(group_id, meta.ra.to_numpy()[idx], meta.dec.to_numpy()[idx],
                                                    pop.z.to_numpy()[idx], pop.logmstar.to_numpy()[idx], logh,
                                                    rng.normal(0, 0.1, m))]
    atomic_write_text(files.yang_groups, "\n".join(grp_lines) + "\n")
    return covered


def simulate_survey(out_dir: str | os.PathLike, n_galaxies: int = 5000, image_size: int = 64, seed: int = 0,
                    frame_r90: float = 5.0, batch: int = 128, jpeg_quality: int = 92,
                    progress: bool = True) -> SurveyFiles:
    """Simulate a GZ2-like survey and write it in the real files' formats.

    Parameters
    ----------
    out_dir : str or path-like
        Survey folder (created). Images already there are kept, so an interrupted run resumes.
    n_galaxies : int, optional
        Galaxies in the Hart16 table (about 87% are in the "original" sample and get images).
    image_size : int, optional
        Image side in pixels (GZ2: 424).
    seed : int, optional
        Seed; the same seed and parameters give identical files.
    frame_r90 : float, optional
        Image width in units of the galaxy's R90. GZ2 cutouts span 8.48 R90; the default 5.0 zooms in
        so that arms, bars and dust lanes survive at 64 pixels.
    batch : int, optional
        Galaxies rendered at once.
    jpeg_quality : int, optional
        JPEG quality of the images.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    SurveyFiles
        Paths of everything written.

    Examples
    --------
    >>> files = simulate_survey("/tmp/survey", n_galaxies=300, image_size=48, seed=1)  # doctest: +SKIP
    """
    files = survey_files(out_dir)
    files.root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 4])
    pop = draw_population(n_galaxies, seed)
    meta = _identities(rng, len(pop))
    table = hart16_table(pop, meta, seed)
    _write_gzip_csv(files.hart16, table)
    mapping = _filename_mapping(rng, meta)
    atomic_write_text(files.mapping, mapping.to_csv(index=False))
    asset = mapping["asset_id"].to_numpy()[:len(pop)]
    with_image = np.nonzero(meta["sample"].to_numpy() == "original")[0]
    _render_images(files.images, pop, with_image, asset, image_size, seed, frame_r90, batch, jpeg_quality,
                   progress)
    known = _known_detg(rng, pop, table)
    _write_dustlanes(files.dustlanes, _dustlane_rows(rng, pop, meta, known))
    in_gswlc = _write_gswlc(files.gswlc, pop, meta, rng)
    in_yang = _write_yang(files, pop, meta, rng)
    truth = _truth(pop, meta, asset, known, in_gswlc, in_yang)
    _write_gzip_csv(files.truth, truth)
    sample = meta["sample"].to_numpy()
    info = {"n_galaxies": len(pop), "image_size": image_size, "seed": seed, "frame_r90": frame_r90,
            "n_images": int(len(with_image)), "n_mapping_rows": int(len(mapping)),
            "n_true_detg": int(pop.is_detg.sum()), "n_known_detg": int(known.sum()),
            "samples": {k: int((sample == k).sum()) for k in SAMPLE_SHARES}}
    atomic_write_text(files.info, json.dumps(info, indent=2))
    return files


def _identities(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Each galaxy's DR7 objid, sky position and GZ2 sample (``dr7objid``, ``ra``, ``dec``, ``sample``)."""
    shares = np.array(list(SAMPLE_SHARES.values()), float)
    sample = np.array(list(SAMPLE_SHARES))[rng.choice(3, n, p=shares / shares.sum())]
    objid = 587722981741363000 + np.sort(rng.choice(10 ** 12, n, replace=False)).astype(np.int64)
    objid = rng.permutation(objid)
    ra, dec = _sky(rng, n, sample)
    return pd.DataFrame({"dr7objid": objid, "ra": ra, "dec": dec, "sample": sample})


def _filename_mapping(rng: np.random.Generator, meta: pd.DataFrame) -> pd.DataFrame:
    """objid -> asset_id for every table row, plus rows for objects outside the table (as on Zenodo)."""
    n = len(meta)
    n_extra = max(1, n // 12)
    extra_ids = 588000000000000000 + rng.choice(10 ** 12, n_extra, replace=False).astype(np.int64)
    asset = rng.permutation(n + n_extra) + 1
    return pd.DataFrame({"objid": np.concatenate([meta["dr7objid"].to_numpy(), extra_ids]),
                         "sample": np.concatenate([meta["sample"].to_numpy(), np.array(["extra"] * n_extra)]),
                         "asset_id": asset})


def _render_images(folder: Path, pop: pd.DataFrame, rows: np.ndarray, asset: np.ndarray, image_size: int,
                   seed: int, frame_r90: float, batch: int, jpeg_quality: int, progress: bool) -> None:
    """Render ``pop.iloc[rows]`` as ``<asset_id>.jpg``, ``batch`` at a time; a batch already on disk is
    skipped (each batch has its own generator, so a resumed run writes the same images)."""
    folder.mkdir(parents=True, exist_ok=True)
    batches = [rows[i:i + batch] for i in range(0, len(rows), batch)]
    for b, part in enumerate(progress_bar(batches, desc="rendering galaxies", unit="batch", disable=not progress,
                                          mininterval=2.0)):
        targets = [folder / f"{asset[i]}.jpg" for i in part]
        if all(t.is_file() for t in targets):
            continue
        imgs = render_batch(pop.iloc[part], image_size, np.random.default_rng([seed, 5, b]), frame_r90=frame_r90)
        for img, target in zip(imgs, targets):
            with atomic_path(target) as tmp:
                Image.fromarray(img).save(tmp, format="JPEG", quality=jpeg_quality)


def _known_detg(rng: np.random.Generator, pop: pd.DataFrame, table: pd.DataFrame) -> np.ndarray:
    """The known D-ETGs: true ones that volunteers flagged (>= 1 dust-lane vote) and experts confirmed;
    experts confirm nearby ones more easily (0.01 < z < 0.1, as in Kaviraj et al. 2012)."""
    flagged = table["t08_odd_feature_a38_dust_lane_count"].to_numpy() > 0
    z = pop.z.to_numpy()
    confirm = rng.random(len(pop)) < 0.95 * np.exp(-((z / 0.1) ** 2))
    return pop.is_detg.to_numpy() & flagged & confirm & (z > 0.01) & (z < 0.1)


def _dustlane_rows(rng: np.random.Generator, pop: pd.DataFrame, meta: pd.DataFrame, known: np.ndarray
                   ) -> pd.DataFrame:
    """The rows of the D-ETG catalogue (Kaviraj et al. 2012 columns) for the ``known`` galaxies."""
    kidx = np.nonzero(known)[0]
    has_halo = rng.random(len(kidx)) < 0.45
    return pd.DataFrame({"objid": meta["dr7objid"].to_numpy()[kidx], "ra": meta["ra"].to_numpy()[kidx],
                         "dec": meta["dec"].to_numpy()[kidx], "z": pop.z.to_numpy()[kidx],
                         "orient": pop.dust_orientation.to_numpy()[kidx],
                         "morph": np.where(pop.merger.to_numpy()[kidx], 1, rng.choice([2, 3], len(kidx))),
                         "loghalo": np.where(has_halo, pop.loghalo.to_numpy()[kidx], -999.0),
                         "density": rng.uniform(0.1, 3.0, len(kidx))})


def _truth(pop: pd.DataFrame, meta: pd.DataFrame, asset: np.ndarray, known_detg: np.ndarray,
           in_gswlc: np.ndarray, in_yang: np.ndarray) -> pd.DataFrame:
    """The ground truth the pipeline must not read: the population with its identities, whether it is a
    known D-ETG and whether the side tables hold it."""
    truth = pop.copy()
    sample = meta["sample"].to_numpy()
    truth.insert(0, "objid", meta["dr7objid"].to_numpy())
    truth.insert(1, "asset_id", asset)
    truth.insert(2, "sample", sample)
    truth["has_image"] = sample == "original"
    truth["visibility"] = visibility(pop.r90_arcsec.to_numpy(), pop.r_mag.to_numpy())
    truth["known_detg"] = known_detg
    truth["in_gswlc"] = in_gswlc
    truth["in_yang"] = in_yang
    return truth
