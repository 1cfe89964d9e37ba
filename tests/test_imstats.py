"""Image statistics on synthetic galaxies whose answers are known by hand."""

import numpy as np
import pytest

from galaxysd import imstats


def galaxy(q=1.0, angle=0.0, size=6.0, profile="gauss", rgb=(1.0, 1.0, 1.0), n=101, sky=0.0, noise=0.0,
           seed=0):
    """An elliptical blob of axis ratio q, position angle ``angle`` (radians), on a flat sky."""
    y, x = np.indices((n, n)) - (n - 1) / 2
    xr = x * np.cos(angle) + y * np.sin(angle)
    yr = -x * np.sin(angle) + y * np.cos(angle)
    r = np.hypot(xr, yr / q)
    light = np.exp(-0.5 * (r / size) ** 2) if profile == "gauss" else np.exp(-r / size)
    image = sky + light[..., None] * np.asarray(rgb) * 0.8
    image = image + np.random.default_rng(seed).normal(0, noise, image.shape)
    return np.clip(image, 0, 1)


def test_mean_brightness_is_the_pixel_mean_in_unit_range():
    assert imstats.mean_brightness(np.full((8, 8, 3), 255, np.uint8)) == pytest.approx(1.0)
    image = np.zeros((2, 2, 3), np.uint8)
    image[0, 0] = 255
    assert imstats.mean_brightness(image) == pytest.approx(0.25)


@pytest.mark.parametrize("q", [1.0, 0.7, 0.4, 0.2])
def test_axis_ratio_recovers_the_drawn_ellipse_at_any_angle(q):
    for angle in (0.0, 0.6, np.pi / 2):
        assert imstats.axis_ratio(galaxy(q=q, angle=angle, size=12)) == pytest.approx(q, abs=0.02)


def test_axis_ratio_survives_sky_and_noise():
    noisy = (galaxy(q=0.3, size=8, sky=0.1, noise=0.01) * 255).astype(np.uint8)
    assert imstats.axis_ratio(noisy) == pytest.approx(0.3, abs=0.05)


def test_concentration_of_a_circular_gaussian_is_sqrt_ln10_over_ln2():
    # enclosed light 1 - exp(-r^2 / 2 s^2): R50 = s sqrt(2 ln 2), R90 = s sqrt(2 ln 10)
    assert imstats.concentration(galaxy(size=6)) == pytest.approx(np.sqrt(np.log(10) / np.log(2)), abs=0.02)


def test_exponential_disc_is_more_concentrated_than_a_gaussian():
    # for an exponential disc R90 / R50 = 3.89 / 1.68 = 2.32
    assert imstats.concentration(galaxy(size=4, profile="exp")) == pytest.approx(2.32, abs=0.05)


def test_redder_galaxies_have_larger_colour():
    red = imstats.colour(galaxy(rgb=(1.0, 0.8, 0.5)))
    blue = imstats.colour(galaxy(rgb=(0.6, 0.8, 1.0)))
    grey = imstats.colour(galaxy(rgb=(1.0, 1.0, 1.0)))
    assert red > grey > blue
    assert grey == pytest.approx(0.0, abs=1e-9)
    assert red == pytest.approx(-2.5 * np.log10(0.5 / 0.8), abs=0.01)


def test_empty_image_gives_nan_not_an_error():
    blank = np.zeros((16, 16, 3), np.uint8)
    stats = imstats.image_stats([blank])
    assert list(stats.columns) == list(imstats.STAT_COLUMNS)
    assert np.isnan(stats.loc[0, "axis_ratio"]) and np.isnan(stats.loc[0, "concentration"])
    assert stats.loc[0, "brightness"] == 0.0


def test_read_image_stats_reads_files(tmp_path):
    from PIL import Image

    path = tmp_path / "g.png"
    Image.fromarray((galaxy(q=0.5, size=8) * 255).astype(np.uint8)).save(path)
    stats = imstats.read_image_stats([path])
    assert stats.loc[0, "axis_ratio"] == pytest.approx(0.5, abs=0.03)


def test_noise_peaks_and_a_detached_neighbour_do_not_round_off_an_edge_on_disc():
    image = galaxy(q=0.25, size=6, n=64, sky=0.05, noise=0.03, seed=1)
    y, x = np.indices((64, 64))
    image = image + 0.5 * np.exp(-0.5 * ((x - 8) ** 2 + (y - 54) ** 2) / 1.5 ** 2)[..., None]  # a star in a corner
    assert imstats.axis_ratio(np.clip(image, 0, 1)) == pytest.approx(0.25, abs=0.06)


def spiral(arms=2, pitch=0.5, handed=1, n=64, noise=0.0, seed=0):
    """A face-on exponential disc with logarithmic-ish arms of the given handedness (+1 or -1)."""
    y, x = np.indices((n, n)) - (n - 1) / 2
    r, phi = np.hypot(x, y), np.arctan2(y, x)
    light = np.exp(-r / 6) * (1 + 0.8 * np.cos(arms * phi - handed * r * pitch))
    image = 0.8 * light[..., None] * np.ones(3) / light.max()
    return np.clip(image + np.random.default_rng(seed).normal(0, noise, image.shape), 0, 1)


@pytest.mark.parametrize("q, angle", [(1.0, 0.0), (0.6, 0.4), (0.25, 1.2)])
def test_smooth_ellipses_are_mirror_symmetric_at_any_shape_and_angle(q, angle):
    # bilinear resampling of the mirrored light leaves ~0.01 for thin discs at odd angles
    assert imstats.mirror_asymmetry(galaxy(q=q, angle=angle, size=6, n=64)) < 0.02


def test_spiral_arms_are_mirror_asymmetric_whichever_way_they_wind():
    smooth = imstats.mirror_asymmetry(galaxy(size=6, n=64, profile="exp"))
    for handed in (1, -1):
        assert imstats.mirror_asymmetry(spiral(handed=handed)) > 10 * max(smooth, 0.005)
    # a mirror image of a spiral is exactly as asymmetric as the spiral
    assert imstats.mirror_asymmetry(spiral()[:, ::-1]) == pytest.approx(imstats.mirror_asymmetry(spiral()), rel=0.05)


def test_mirror_asymmetry_separates_noisy_spirals_from_noisy_smooth_galaxies():
    noisy_smooth = [imstats.mirror_asymmetry(galaxy(q=0.7, size=6, n=64, sky=0.05, noise=0.03, seed=s)) for s in range(3)]
    noisy_spiral = [imstats.mirror_asymmetry(np.clip(spiral(noise=0.03, seed=s) + 0.05, 0, 1)) for s in range(3)]
    assert max(noisy_smooth) < min(noisy_spiral)


def log_spiral(arms=2, pitch_deg=25.0, handed=1, n=64, noise=0.0, seed=0):
    """A face-on exponential disc with logarithmic arms of known number, pitch angle and handedness."""
    y, x = np.indices((n, n)) - (n - 1) / 2
    r, phi = np.hypot(x, y) + 1e-9, np.arctan2(y, x)
    p = arms / np.tan(np.radians(pitch_deg))
    light = np.exp(-r / 6) * (1 + 0.8 * np.cos(arms * phi - handed * p * np.log(r)))
    image = 0.8 * light[..., None] * np.ones(3) / light.max()
    return np.clip(image + np.random.default_rng(seed).normal(0, noise, image.shape), 0, 1)


@pytest.mark.parametrize("arms, pitch", [(1, 15.0), (2, 15.0), (2, 30.0), (3, 25.0), (4, 20.0), (4, 45.0)])
def test_spiral_arm_mode_recovers_arm_number_and_pitch_angle(arms, pitch):
    mode = imstats.spiral_arm_mode(log_spiral(arms=arms, pitch_deg=pitch))
    assert mode.arms == arms
    assert mode.pitch == pytest.approx(pitch, abs=4.0)
    assert mode.strength > 0.1


def test_loosely_wound_arms_have_larger_pitch_than_tightly_wound_ones():
    # the disc spans a factor of about 6 in radius: too little to pin down a loose one- or two-armed
    # spiral's pitch (40 degrees comes out near 33), but enough to rank it
    for arms in (1, 2):
        tight, loose = (imstats.spiral_arm_mode(log_spiral(arms=arms, pitch_deg=p)).pitch for p in (15.0, 40.0))
        assert loose > tight + 8


def test_winding_arms_are_strong_whichever_way_they_wind_and_in_a_mirror():
    right, left = (imstats.spiral_arm_strength(log_spiral(handed=h)) for h in (1, -1))
    assert right == pytest.approx(left, rel=0.05)
    assert imstats.spiral_arm_strength(log_spiral()[:, ::-1]) == pytest.approx(right, rel=0.05)


@pytest.mark.parametrize("q, angle", [(1.0, 0.0), (0.6, 0.4), (0.3, 1.2)])
def test_mirror_symmetric_light_has_no_arm_strength(q, angle):
    # exactly 0 along the pixel axes; the pixels of a thin disc at an odd angle leave ~0.01
    assert imstats.spiral_arm_strength(galaxy(q=q, angle=angle, size=6, n=64, profile="exp")) < 0.02
    assert imstats.spiral_arm_strength(galaxy(q=q, size=6, n=64, profile="exp")) < 1e-6


def test_a_bright_clump_is_lopsided_but_not_a_winding_arm():
    # one clump breaks mirror symmetry about the major axis but is its own mirror image about the line
    # through it and the centre, so it has no winding sense
    image = galaxy(q=0.6, size=6, n=64, profile="exp")
    y, x = np.indices((64, 64))
    image = np.clip(image + 0.4 * np.exp(-0.5 * ((x - 40) ** 2 + (y - 38) ** 2) / 1.5 ** 2)[..., None], 0, 1)
    assert imstats.mirror_asymmetry(image) > 0.05
    assert imstats.spiral_arm_strength(image) < 0.2 * imstats.spiral_arm_strength(log_spiral())


def test_arm_strength_separates_noisy_spirals_from_noisy_smooth_galaxies():
    noisy_smooth = [imstats.spiral_arm_strength(galaxy(q=0.7, size=6, n=64, sky=0.05, noise=0.03, seed=s))
                    for s in range(3)]
    noisy_spiral = [imstats.spiral_arm_strength(np.clip(log_spiral(noise=0.03, seed=s) + 0.05, 0, 1))
                    for s in range(3)]
    assert max(noisy_smooth) < 0.5 * min(noisy_spiral)


def test_arm_mode_of_an_empty_image_is_nan():
    mode = imstats.spiral_arm_mode(np.zeros((16, 16, 3), np.uint8))
    assert np.isnan(mode.strength) and mode.arms == 0
