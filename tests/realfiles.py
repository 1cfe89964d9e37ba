"""Writers of small files in the real data's formats (``reference/data.md``), shared by the tests.

The loaders' unit tests write a few rows by hand with these; :func:`paper_data_folder` writes a whole
data folder the paper profile reads unchanged: a simulated survey's Hart16 table, mapping, images
packed in the Zenodo zip layout (with its ``__MACOSX`` junk), the Kaviraj et al. (2012) dust-lane
list, GSWLC-2 and the Yang et al. group files, each with the real file's missing-value sentinel.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

#: The free-text header of a Kaviraj et al. (2012) file: title, numbered columns (with a range),
#: notes naming the -999 sentinel, references.
DUST_HEADER = """Early-type galaxies with dust lanes
Kaviraj et al. 2012

Columns:
(1) objID
(2-3) RA, Dec
(4) redshift
(5) dust-lane orientation
(6) morphology
(7) log halo mass
(8) density

Notes:
We assign value -999 if there is no counterpart in the cross-matching.

References:
Kaviraj et al. 2012
"""

#: Three header lines of free text before the rows of ``modelC_group``.
YANG_GROUP_HEADER = "group catalogue\n  columns: id ra dec z\n# header 3\n"


def jpeg_bytes(value=128, size=8):
    """A uniform ``size`` x ``size`` gri JPEG."""
    buf = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def write_zenodo_zip(path, assets, broken=(), source=None):
    """``images_gz2.zip`` as on Zenodo: folder entries, ``images/<asset>.jpg`` and a
    ``__MACOSX/images/._<asset>.jpg`` resource fork beside each. The JPEG bytes come from
    ``source/<asset>.jpg`` when ``source`` is a folder, else a uniform 8-px image; assets in ``broken``
    get bytes that do not decode."""
    with zipfile.ZipFile(path, "w") as zf:
        for folder in ("images/", "__MACOSX/", "__MACOSX/images/"):
            zf.writestr(folder, b"")
        for a in assets:
            if a in broken:
                data = b"not a jpeg"
            else:
                data = (Path(source) / f"{a}.jpg").read_bytes() if source is not None else jpeg_bytes()
            zf.writestr(f"images/{a}.jpg", data)
            zf.writestr(f"__MACOSX/images/._{a}.jpg", b"\x00\x05\x16\x07 mac resource fork")
    return path


def write_mapping(path, rows):
    """``gz2_filename_mapping.csv`` (``objid, sample, asset_id``) from ``(objid, sample, asset)`` rows."""
    pd.DataFrame(rows, columns=["objid", "sample", "asset_id"]).to_csv(path, index=False)
    return path


def dustlane_line(objid, ra, dec, z, orientation=1, morphology=3, log_mhalo=-999, density=1.0):
    """One data line of ``Basic_Information.txt`` (-999: no counterpart)."""
    return f"{int(objid)} {ra:.6f} {dec:.6f} {z:.5f} {int(orientation)} {int(morphology)} {log_mhalo:g} {density:.3f}"


def gswlc_line(objid, ra, dec, sfr=-0.3, sfr_err=0.1):
    """One row of GSWLC-2: 24 whitespace-separated columns (-99: missing)."""
    vals = [objid, 12, 266, 51630, 3, ra, dec, 0.05, 1.1, 10.5, 0.05, sfr, sfr_err, 1, 0.2, 0.5, 0.1,
            0.3, 0.05, 0, 1, 1, 0, 1]
    return " ".join(str(v) for v in vals)


def write_yang(tmp_path, member_group=2):
    """Two galaxies in the Yang et al. layout; the second group has no halo mass (0.0)."""
    (tmp_path / "SDSS7").write_text("1 101 150.1 2.2 0.05 16.2 17.77 0.9 -21 0.7 -21 0.7 1\n"
                                    "2 102 151.0 2.3 0.07 16.8 17.77 0.9 -20 0.6 -20 0.6 1\n")
    (tmp_path / "imodelC_1").write_text(f"1 101 1 1 1\n2 102 {member_group} 1 1\n")
    (tmp_path / "modelC_group").write_text(YANG_GROUP_HEADER +
                                           "1 150.1 2.2 0.05 10.5 10.8 12.9 13.0 1.0\n"
                                           "2 151.0 2.3 0.07 10.1 10.3 0.0 0.0 1.0\n")
    return tmp_path / "SDSS7", tmp_path / "imodelC_1", tmp_path / "modelC_group"


def paper_data_folder(data_dir, n_galaxies=400, image_size=64, seed=0, unlisted_detg=1):
    """Write ``<data_dir>/gz2/`` in the real files' layout, from a simulated survey's votes and images.

    The simulator (:func:`galaxysd.gz2.simulate.simulate_survey`) supplies realistic votes (so the
    thresholds select galaxies for training) and images; they are then packed as the providers ship
    them: ``images_gz2.zip`` in the Zenodo layout, a dust-lane list in the Kaviraj et al. layout that
    names every true dusty early type of the table (halo mass -999 for every other one) plus
    ``unlisted_detg`` objIDs outside the table, and a ``modelC_group`` with a free-text header and
    groups without a halo mass (0.0). No ground truth is left in the data folder.

    Returns
    -------
    dict
        ``root`` (the ``gz2`` folder), ``n_table``, ``n_images``, ``n_listed``, ``n_listed_in_table``.
    """
    from galaxysd.gz2.simulate import simulate_survey

    data_dir = Path(data_dir)
    sim = simulate_survey(data_dir.parent / f"{data_dir.name}-simulated", n_galaxies=n_galaxies,
                          image_size=image_size, seed=seed, progress=False)
    root = data_dir / "gz2"
    for sub in ("dustlanes", "gswlc", "yang"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(sim.hart16, root / "gz2_hart16.csv.gz")
    shutil.copy(sim.mapping, root / "gz2_filename_mapping.csv")
    assets = sorted(int(p.stem) for p in sim.images.glob("*.jpg"))
    write_zenodo_zip(root / "images_gz2.zip", assets, source=sim.images)

    table = pd.read_csv(sim.hart16, usecols=["dr7objid", "ra", "dec"])
    truth = pd.read_csv(sim.truth).merge(table, left_on="objid", right_on="dr7objid")
    detg = truth[truth.is_detg]
    lines = [dustlane_line(r.objid, r.ra, r.dec, r.z, max(int(r.dust_orientation), 1), 3,
                           r.loghalo if i % 2 else -999) for i, r in enumerate(detg.itertuples())]
    lines += [dustlane_line(588848899000000000 + i, 200.0 + i, 10.0, 0.05) for i in range(unlisted_detg)]
    (root / "dustlanes" / "Basic_Information.txt").write_text(DUST_HEADER + "\n".join(lines) + "\n")

    shutil.copy(sim.gswlc, root / "gswlc" / "GSWLC-X2.dat.gz")  # -99 where an SFR is missing
    shutil.copy(sim.yang_galaxies, root / "yang" / "SDSS7")
    shutil.copy(sim.yang_members, root / "yang" / "imodelC_1")
    rows = [line.split() for line in sim.yang_groups.read_text().splitlines() if not line.startswith("#")]
    for row in rows[::10]:
        row[6] = row[7] = "0.0"
    (root / "yang" / "modelC_group").write_text(YANG_GROUP_HEADER + "\n".join(" ".join(r) for r in rows) + "\n")
    shutil.rmtree(sim.root)
    return {"root": root, "n_table": len(table), "n_images": len(assets), "n_listed": len(lines),
            "n_listed_in_table": len(detg)}
