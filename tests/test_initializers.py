"""nnlib.initializers: fans, the variance each initializer promises, names, seeds."""
import math

import numpy as np
import pytest

from nnlib import initializers as init


def test_fans_of_dense_and_conv_kernels():
    assert init.compute_fans((4, 3)) == (4, 3)                  # Dense (in, out)
    assert init.compute_fans((3, 3, 8, 16)) == (72, 144)        # Conv2D (kh, kw, in, out)
    assert init.compute_fans((5,)) == (5, 5)                    # a bias


@pytest.mark.parametrize("name, shape", [
    ("glorot_uniform", (300, 200)),
    ("glorot_normal", (300, 200)),
    ("he_normal", (3, 3, 32, 64)),
    ("he_uniform", (3, 3, 32, 64)),
    ("random_normal", (200, 300)),
])
def test_variance_matches_the_formula(name, shape):
    w = init.get(name)(shape, np.random.default_rng(0))
    fan_in, fan_out = init.compute_fans(shape)
    expected = init.VARIANCE[name](fan_in, fan_out)
    assert w.shape == shape and w.dtype == np.float64
    assert abs(w.var() / expected - 1) < 0.03                  # 60 000 draws: sampling error ~0.6 %
    assert abs(w.mean()) < 3 * math.sqrt(expected / w.size) + 1e-12


def test_uniform_limits_and_truncation():
    rng = np.random.default_rng(1)
    w = init.glorot_uniform((100, 50), rng)
    limit = math.sqrt(6 / 150)
    assert w.max() <= limit and w.min() >= -limit and w.max() > 0.95 * limit
    w = init.he_normal((400, 100), rng)
    sigma = math.sqrt(2 / 400) / 0.87962566103423978
    assert np.abs(w).max() <= 2 * sigma                        # truncated at two standard deviations
    w = init.random_normal((200, 200), rng, mean=1.0, stddev=0.5)
    assert abs(w.mean() - 1) < 0.01 and abs(w.std() - 0.5) < 0.01


def test_constant_initializers_and_dtype():
    np.testing.assert_array_equal(init.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.ones(4), np.ones(4))
    assert init.glorot_uniform((3, 2), 0, dtype="float32").dtype == np.float32


def test_seeds_make_draws_reproducible():
    a = init.he_uniform((5, 5), np.random.default_rng(7))
    b = init.he_uniform((5, 5), 7)                             # an int is a seed
    np.testing.assert_array_equal(a, b)
    init.set_random_seed(3)
    c = init.glorot_normal((4, 4))
    init.set_random_seed(3)
    np.testing.assert_array_equal(c, init.glorot_normal((4, 4)))
    assert not np.array_equal(c, init.glorot_normal((4, 4)))   # the global generator moves on


def test_get_by_name_with_suggestions():
    assert init.get("Glorot_Uniform") is init.glorot_uniform
    assert init.get("xavier_normal") is init.glorot_normal
    custom = lambda shape, rng=None: np.full(shape, 0.5)  # noqa: E731
    assert init.get(custom) is custom
    with pytest.raises(ValueError, match="Did you mean 'he_normal'"):
        init.get("he_norml")
    with pytest.raises(ValueError, match="shape must be a tuple of non-negative integers"):
        init.zeros((2, -1))
    assert set(init.LATEX) >= {"zeros", "ones", "random_normal", "glorot_uniform", "glorot_normal",
                               "he_normal", "he_uniform"}
