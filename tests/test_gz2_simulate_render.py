"""The simulator's light components, one property each, and the renderer that adds them up."""

import numpy as np
import pytest

from galaxysd.gz2.simulate import components as comp
from galaxysd.gz2.simulate import render
from galaxysd.gz2.simulate.population import draw_population


def _grid(size=201, half=1.5):
    ax = np.linspace(-half, half, size)
    X, Y = np.meshgrid(ax, -ax)
    return X[None], Y[None]


def _moments(img, X, Y):
    """Second moments of an image: (major/minor axis ratio, angle of the major axis in radians)."""
    w = img / img.sum()
    x0, y0 = (w * X).sum(), (w * Y).sum()
    cov = np.array([[(w * (X - x0) ** 2).sum(), (w * (X - x0) * (Y - y0)).sum()],
                    [(w * (X - x0) * (Y - y0)).sum(), (w * (Y - y0) ** 2).sum()]])
    vals, vecs = np.linalg.eigh(cov)
    return np.sqrt(vals[1] / vals[0]), np.arctan2(vecs[1, 1], vecs[0, 1]) % np.pi


def _col(x):
    return np.asarray([x])[:, None, None]


def test_an_elliptical_has_unit_flux_and_its_axis_ratio():
    X, Y = _grid(301, 3.0)
    q = 0.5
    light = comp.spheroid(X, Y, _col(q), _col(False), _col(True), _col(False))
    assert light.sum() == pytest.approx(1.0) and light.min() > 0
    _, angle = _moments(light[0], X[0], Y[0])
    assert min(angle, np.pi - angle) < 0.01  # along x, the major axis
    # one isophote through (0.4, 0) on the major axis and (0, 0.4 q) on the minor axis
    on_axes = comp.spheroid(np.array([[[0.4, 0.0, 0.0]]]), np.array([[[0.0, 0.4 * q, 0.3]]]), _col(q),
                            _col(False), _col(True), _col(False))[0, 0]
    assert on_axes[0] == pytest.approx(on_axes[1]) and on_axes[2] < on_axes[1]


def test_a_boxy_bulge_reaches_further_along_its_diagonals_than_its_axes_allow():
    X, Y = _grid()
    boxy = comp.spheroid(X, Y, _col(0.2), _col(True), _col(False), _col(True))[0]
    rounded = comp.spheroid(X, Y, _col(0.2), _col(True), _col(False), _col(False))[0]
    # light at (0.25, 0.25 q_b) relative to the light on the major axis at 0.25: a superellipse of
    # exponent 4 is fuller in its corners than an ellipse
    def corner_to_axis(img, qb):
        iy = np.argmin(np.abs(Y[0][:, 0] - 0.25 * qb))
        ix = np.argmin(np.abs(X[0][0] - 0.25))
        return img[iy, ix] / img[np.argmin(np.abs(Y[0][:, 0])), ix]
    assert corner_to_axis(boxy, 0.62) > corner_to_axis(rounded, 0.85)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_spiral_arms_have_the_requested_multiplicity(m):
    X, Y = _grid()
    R, theta = np.hypot(X, Y), np.arctan2(Y, X)
    arms = comp.spiral_arms(R, theta, _col(float(m)), _col(20.0), _col(0.3))[0]
    ring = np.abs(R[0] - 0.5) < 0.01  # light around a circle of radius 0.5 R90, by angle
    order = np.argsort(theta[0][ring])
    power = np.abs(np.fft.rfft(np.interp(np.linspace(-np.pi, np.pi, 256, endpoint=False),
                                         theta[0][ring][order], arms[ring][order])))
    assert np.argmax(power[1:8]) + 1 == m


def test_arms_are_dark_at_the_centre_and_start_beyond_the_bar():
    R = np.linspace(0, 1.0, 101)[None, None]
    arms = comp.spiral_arms(R, np.zeros_like(R), _col(2.0), _col(20.0), _col(0.0))
    assert arms[..., R[0, 0] < 0.12].max() == 0
    assert comp.arms_outside_bar(R, _col(0.35))[..., R[0, 0] < 0.27].max() == 0
    assert comp.arms_outside_bar(R, _col(0.35))[..., R[0, 0] > 0.35].min() == 1


@pytest.mark.parametrize("angle", [0.3, 1.2, 2.5])
def test_a_bar_is_elongated_along_its_angle(angle):
    X, Y = _grid()
    bar = comp.bar(X, Y, _col(angle), _col(0.35))[0]
    ratio, major = _moments(bar, X[0], Y[0])
    assert ratio > 3
    assert abs(np.angle(np.exp(2j * (major - angle)))) < 0.02


def test_a_ring_peaks_at_its_radius_and_empties_the_disk_inside_it():
    R = np.linspace(0, 1.0, 1001)[None, None]
    assert R[0, 0, np.argmax(comp.ring(R, _col(0.45))[0, 0])] == pytest.approx(0.45, abs=1e-3)
    gap = comp.ring_gap(R, _col(0.45))[0, 0]
    assert gap.min() == pytest.approx(0.4, abs=1e-3) and gap[-1] > 0.99


def test_an_inclined_disk_is_flattened_by_its_axis_ratio():
    X, Y = _grid(301, 3.0)
    _, _, R, _ = comp.disk_plane(X, Y, _col(0.5), _col(False))
    ratio, _ = _moments(comp.exponential_disk(R)[0], X[0], Y[0])
    assert ratio == pytest.approx(2.0, rel=0.05)


def test_clumps_peak_at_their_knots():
    X, Y = _grid()
    light = comp.clumps(X, Y, [(_col(0.5), _col(-0.3), _col(0.05), _col(1.0))])[0]
    iy, ix = np.unravel_index(np.argmax(light), light.shape)
    assert (X[0, iy, ix], Y[0, iy, ix]) == pytest.approx((0.5, -0.3), abs=0.02)


def test_a_merger_adds_a_companion_where_it_was_placed_and_disturbed_light_leans_to_one_side():
    X, Y = _grid()
    merger = comp.companion_and_tails(X, Y, _col(np.pi / 2), _col(0.6), _col(0.1))[0]
    assert merger.sum() == pytest.approx(0.9)
    iy, ix = np.unravel_index(np.argmax(merger), merger.shape)
    assert (X[0, iy, ix], Y[0, iy, ix]) == pytest.approx((0.0, 0.6), abs=0.02)
    lop = comp.lopsided(X, Y, _col(0.0))[0]
    assert lop.min() >= 0.2 and lop[100, 180] > 1 > lop[100, 20]  # brighter toward +x


def test_a_lens_arc_lies_at_0_75_r90_toward_its_angle():
    X, Y = _grid()
    arc = comp.lens_arc(X, Y, _col(np.pi))[0]
    iy, ix = np.unravel_index(np.argmax(arc), arc.shape)
    assert (X[0, iy, ix], Y[0, iy, ix]) == pytest.approx((-0.75, 0.0), abs=0.02)


def test_a_dust_lane_darkens_the_midplane_and_blue_light_most():
    X, Y = _grid()
    lane = comp.dust_lane(X, Y, _col(0.0), _col(0.0), _col(True), _col(False))
    img = render.attenuate(np.ones((1, 3) + X.shape[1:]), 4.0 * lane)
    mid, off = img[0, :, 100, 100], img[0, :, 40, 100]  # centre vs 0.9 R90 above it
    assert np.all(mid < 0.05) and np.all(off > 0.99)
    assert mid[0] < mid[1] < mid[2]  # g is dimmed more than r, r more than i


def test_the_psf_keeps_the_flux_and_spreads_a_point_to_the_seeing():
    img = np.zeros((1, 3, 64, 64))
    img[0, :, 32, 32] = 1.0
    blurred = render.gaussian_psf(img, np.array([3.0]))
    assert blurred.sum(axis=(-2, -1))[0] == pytest.approx([1.0, 1.0, 1.0])
    y = np.arange(64)[:, None] - 32
    assert np.sqrt((blurred[0, 0] * y ** 2).sum()) == pytest.approx(3.0, rel=0.01)


def test_sky_noise_has_the_requested_level_per_galaxy():
    noisy = render.add_sky_noise(np.zeros((2, 3, 64, 64)), np.array([0.1, 2.0]), np.random.default_rng(0))
    assert noisy[0].std() == pytest.approx(0.1, rel=0.05) and noisy[1].std() == pytest.approx(2.0, rel=0.05)


def test_the_asinh_stretch_keeps_colours_and_order_of_brightness():
    gri = np.array([0.55, 1.0, 1.3])[None, :, None, None]  # a red galaxy: i > r > g
    levels = np.array([1e-5, 1e-4, 1e-3, 1e-1])[:, None, None, None]
    rgb = render.asinh_rgb(gri * levels * np.ones((1, 1, 2, 2)), 2.5e-4, 6.5)
    assert rgb.dtype == np.uint8 and rgb.shape == (4, 2, 2, 3)
    assert np.all(np.diff(rgb[:, 0, 0, 1].astype(int)) >= 0) and rgb[-1, 0, 0, 0] == 255
    assert np.all(rgb[1:3, 0, 0, 0] > rgb[1:3, 0, 0, 2])  # red (i) above blue (g)


def test_an_elliptical_without_dust_has_its_colour_and_unit_flux():
    pop = draw_population(400, seed=2)
    ell = pop[(pop.kind == "elliptical") & ~pop.dust_lane & ~pop.merger & ~pop.lens & ~pop.disturbed].iloc[:3]
    g = {c: ell[c].to_numpy() for c in ell.columns}
    nuisance = render.draw_nuisance(np.random.default_rng(0), g, 4.0)
    X, Y = render.pixel_grid(256, 8.0)
    light = render.galaxy_light(g, X, Y, nuisance)
    assert light.min() >= 0
    assert light.sum(axis=(-2, -1)) == pytest.approx(np.tile(render.RED, (3, 1)), rel=0.02)


def test_rendered_images_are_deterministic_per_generator_and_show_a_galaxy():
    pop = draw_population(6, seed=4)
    one = render.render_batch(pop, 48, np.random.default_rng(9), frame_r90=5.0)
    two = render.render_batch(pop, 48, np.random.default_rng(9), frame_r90=5.0)
    assert one.shape == (6, 48, 48, 3) and one.dtype == np.uint8
    assert np.array_equal(one, two)
    centre, corner = one[:, 20:28, 20:28].mean(axis=(1, 2, 3)), one[:, :6, :6].mean(axis=(1, 2, 3))
    assert np.all(centre > corner)
