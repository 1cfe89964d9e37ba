"""Control matching in redshift and stellar mass, bootstrap CDF bands, side tables with sentinels counted."""

import numpy as np
import pandas as pd
import pytest

from galaxysd.detg.control import match_control
from galaxysd.detg.distributions import cdf_band, side_values
from galaxysd.errors import DataError, ParameterError
from galaxysd.gz2.sidetables import read_gswlc, read_yang, side_table


def _pool(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"objid": np.arange(10 ** 6, 10 ** 6 + n), "z": rng.uniform(0.01, 0.2, n),
                         "logmstar": rng.uniform(9.5, 11.8, n)})


def _targets(n=100, seed=1):
    rng = np.random.default_rng(seed)
    # targets sit at high z and high mass, unlike the flat pool
    return pd.DataFrame({"objid": np.arange(n), "z": rng.normal(0.15, 0.015, n),
                         "logmstar": rng.normal(11.2, 0.15, n)})


def test_controls_are_drawn_without_replacement_and_follow_the_targets():
    pool, targets = _pool(20000), _targets()
    m = match_control(targets, pool, n_control=400, seed=0)
    assert len(m.control_ids) == 400 and len(np.unique(m.control_ids)) == 400
    assert set(m.control_ids) <= set(pool.objid)
    ctl = pool.set_index("objid").loc[m.control_ids]
    assert abs(ctl.z.mean() - targets.z.mean()) < 0.01 and abs(ctl.logmstar.mean() - targets.logmstar.mean()) < 0.08
    assert abs(pool.z.mean() - targets.z.mean()) > 0.04  # the pool alone would not do
    assert (m.pairs.groupby("target").size() == 4).all()  # 400 controls, 100 targets: four rounds
    assert set(m.distributions["sample"]) == {"target", "control", "pool"}
    assert m.ks.loc["z", "p_value"] > 0.01


def test_each_target_first_gets_its_nearest_neighbour_when_the_pool_is_dense():
    pool = pd.DataFrame({"objid": [10, 11, 12, 13], "z": [0.05, 0.1, 0.15, 0.2], "logmstar": [10., 10, 10, 10]})
    targets = pd.DataFrame({"objid": [1, 2], "z": [0.049, 0.151], "logmstar": [10., 10]})
    m = match_control(targets, pool, n_control=2)
    assert dict(zip(m.pairs.target, m.pairs.control)) == {1: 10, 2: 12}


def test_matching_is_seeded():
    a = match_control(_targets(), _pool(), n_control=300, seed=3).control_ids
    b = match_control(_targets(), _pool(), n_control=300, seed=3).control_ids
    assert np.array_equal(a, b)


def test_galaxies_without_redshift_or_mass_are_counted_not_matched():
    pool, targets = _pool(), _targets()
    pool.loc[:9, "z"] = np.nan
    targets.loc[:4, "logmstar"] = np.nan
    pool = pd.concat([pool, targets.iloc[10:12]])  # two targets also in the pool
    m = match_control(targets, pool, n_control=100)
    assert m.counts["n_targets_unmatchable"] == 5 and m.counts["n_pool_unmatchable"] == 10
    assert m.counts["n_pool_targets"] == 2
    assert not set(m.control_ids) & set(targets.objid)


def test_a_pool_too_small_or_a_tight_caliper_raises():
    with pytest.raises(DataError, match="fewer than n_control"):
        match_control(_targets(), _pool(50), n_control=100)
    with pytest.raises(DataError, match="caliper"):
        match_control(_targets(), _pool(), n_control=2000, caliper=0.05)
    with pytest.raises(ParameterError):
        match_control(_targets(), _pool(), n_control=0)


def test_the_cdf_band_holds_one_sigma_of_the_resampled_cdfs():
    x = np.random.default_rng(0).normal(size=400)
    band = cdf_band(x, grid=[-1.0, 0.0, 1.0], n_resamples=2000, seed=0)
    assert np.allclose(band.cdf, [(x <= g).mean() for g in (-1, 0, 1)])
    half = (band.high - band.low) / 2
    expected = np.sqrt(band.cdf * (1 - band.cdf) / 400)   # binomial standard error of a CDF point
    assert np.allclose(half, expected, rtol=0.25)
    assert (band.low <= band.cdf).all() and (band.cdf <= band.high).all()
    wide = cdf_band(x[:40], grid=[0.0], seed=0)
    assert wide.high - wide.low > band.high[1] - band.low[1]


def test_a_cdf_band_refuses_nan_and_empty_samples():
    with pytest.raises(DataError, match="NaN"):
        cdf_band([1.0, np.nan])
    with pytest.raises(DataError, match="empty"):
        cdf_band([])


def _gswlc_line(objid, ra, dec, z, logm, logsfr):
    vals = [objid, 1, 300, 52000, 10, ra, dec, z, 1.0, logm, 0.05, logsfr, 0.1] + [0.1] * 6 + [0, 1, 1, 0, 1]
    return " ".join(str(v) for v in vals)


def test_side_table_sentinels_are_counted_per_column(tmp_path):
    hart = pd.DataFrame({"dr7objid": [101, 102, 103, 104], "ra": [150.0, 151.0, 152.0, 153.0],
                         "dec": [10.0, 11.0, 12.0, 13.0]})
    (tmp_path / "gswlc.dat").write_text("\n".join([
        _gswlc_line(1237645000000000001, 150.0, 10.0, 0.05, 10.5, -0.5),
        _gswlc_line(1237645000000000002, 151.0, 11.0, 0.06, 10.9, -99),     # SFR missing
        _gswlc_line(1237645000000000003, 152.0, 12.0, 0.07, -99, -99)]) + "\n")  # mass and SFR missing
    (tmp_path / "SDSS7").write_text("1 11 150.0 10.0 0.05 16.5\n2 12 152.0 12.0 0.07 17.1\n")
    (tmp_path / "imodelC_1").write_text("1 11 1 1 1\n2 12 2 1 1\n")
    (tmp_path / "modelC_group").write_text("# header\n1 150.0 10.0 0.05 10.1 10.6 12.3 12.4\n"
                                           "2 152.0 12.0 0.07 10.0 10.2 0.0 0.0\n")   # no halo mass
    sides = side_table(hart, read_gswlc(tmp_path / "gswlc.dat"),
                       read_yang(tmp_path / "SDSS7", tmp_path / "imodelC_1", tmp_path / "modelC_group"))
    values, counts = side_values(sides, [101, 102, 103, 104, 999], ["logmstar", "logsfr", "loghalo"])
    assert counts.loc["logsfr"].to_dict() == {"n_sample": 5, "not_in_catalog": 1, "not_in_side_table": 1,
                                              "missing_value": 2, "n_used": 1}
    assert counts.loc["logmstar", "missing_value"] == 1 and counts.loc["logmstar", "n_used"] == 2
    assert counts.loc["loghalo"].to_dict() == {"n_sample": 5, "not_in_catalog": 1, "not_in_side_table": 2,
                                               "missing_value": 1, "n_used": 1}
    assert (counts.drop(columns="n_sample").sum(axis=1) == counts.n_sample).all()
    assert values.set_index("objid").loc[101, "logsfr"] == pytest.approx(-0.5)


def test_side_values_name_a_missing_catalogue_column():
    with pytest.raises(DataError, match="in_yang"):
        side_values(pd.DataFrame({"objid": [1], "loghalo": [12.0]}), [1], ["loghalo"])
