"""nnlib.datasets: shapes, values and seeds of every data set, and the helpers."""
import numpy as np
import pytest

from nnlib import datasets


@pytest.mark.parametrize("name, expected", [
    ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("nand", [1, 1, 1, 0]),
    ("nor", [1, 0, 0, 0]), ("xor", [0, 1, 1, 0]), ("XNOR", [1, 0, 0, 1]),
])
def test_logic_gates(name, expected):
    X, y = datasets.logic_gate(name)
    assert X.shape == (4, 2) and X.dtype == np.float64
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, expected)
    assert y.dtype == np.int64


def test_xor_and_unknown_gate():
    np.testing.assert_array_equal(datasets.xor()[1], [0, 1, 1, 0])
    with pytest.raises(ValueError, match="Did you mean 'xor'"):
        datasets.logic_gate("xorr")


def test_polish_example():
    X, y = datasets.polish_example()
    np.testing.assert_array_equal(X, [0.06, 0.87, 0.6, 0.71, 0.02])
    np.testing.assert_array_equal(y, [3.17, 4.73, 4.26, 4.57, 3.02])
    assert round(float(np.mean((y - 0.1 * X) ** 2)), 2) == 15.71


def test_bitmap_digits_3x5():
    X, Y = datasets.bitmap_digits_3x5()
    assert X.shape == (10, 15) and Y.shape == (10, 10)
    np.testing.assert_array_equal(Y, np.eye(10))
    as_text = ["".join(str(int(v)) for v in row) for row in X]
    assert as_text[1] == "001001001001001"   # the lecture's three examples
    assert as_text[9] == "111101111001111"
    assert as_text[0] == "111101101101111"
    assert len(set(as_text)) == 10            # ten different bitmaps
    X2, y = datasets.bitmap_digits_3x5(one_hot=False)
    np.testing.assert_array_equal(y, np.arange(10))


def test_digits_14x12():
    X, y = datasets.digits_14x12()
    assert X.shape == (10, 14, 12) and set(np.unique(X)) == {0.0, 1.0}
    np.testing.assert_array_equal(y, np.arange(10))
    flat = X.reshape(10, -1)
    assert len({row.tobytes() for row in flat}) == 10
    # each digit's ink stays off the border and is a real stroke
    assert X[:, 0, :].sum() == X[:, -1, :].sum() == 0
    assert (flat.sum(axis=1) >= 20).all()
    Xf, Y = datasets.digits_14x12(one_hot=True, flatten=True)
    assert Xf.shape == (10, 168) and Y.shape == (10, 10)
    # distinguishable: every pair of digits differs in at least 8 pixels
    diff = np.abs(flat[:, None, :] - flat[None, :, :]).sum(axis=2)
    assert diff[~np.eye(10, dtype=bool)].min() >= 8


def test_notes_grid_14x12():
    g = datasets.notes_grid_14x12()
    assert g.shape == (14, 12)
    assert g.min() == 0.0 and g.max() == 1.0
    np.testing.assert_array_equal(g[0, :7], [1.0, 1.0, 1.0, 0.9, 0.6, 0.6, 0.6])
    np.testing.assert_array_equal(g[-1], [1.0, 1.0, 1.0, 0.8, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])


def test_iris():
    X, y = datasets.iris()
    assert X.shape == (150, 4) and X.dtype == np.float64
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50])
    X, Y = datasets.iris(one_hot=True)
    assert Y.shape == (150, 3)
    np.testing.assert_array_equal(Y.sum(axis=1), np.ones(150))
    assert len(datasets.IRIS_FEATURE_NAMES) == 4 and len(datasets.IRIS_CLASS_NAMES) == 3


def test_digits_8x8():
    X, y = datasets.digits_8x8()
    assert X.shape == (1797, 64) and 0.0 <= X.min() and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    images, Y = datasets.digits_8x8(one_hot=True, images=True)
    assert images.shape == (1797, 8, 8) and Y.shape == (1797, 10)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)


@pytest.mark.parametrize("make, n_classes", [
    (datasets.make_moons, 2), (datasets.make_circles, 2),
    (datasets.make_spirals, 3), (datasets.make_blobs, 3),
])
def test_synthetic_sets_shapes_and_seeds(make, n_classes):
    X, y = make(n_samples=150, seed=7)
    assert X.shape == (150, 2) and y.shape == (150,)
    assert np.bincount(y).tolist() == [150 // n_classes] * n_classes
    X2, y2 = make(n_samples=150, seed=7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(n_samples=150, seed=8)
    assert not np.array_equal(X, X3)


def test_moons_and_circles_geometry():
    X, y = datasets.make_moons(n_samples=200, noise=0.0)
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0)
    X, y = datasets.make_circles(n_samples=200, noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3)


def test_spirals_classes_and_blob_centres():
    X, y = datasets.make_spirals(n_samples=400, n_classes=4, noise=0.0)
    assert set(np.unique(y)) == {0, 1, 2, 3}
    assert np.hypot(*X.T).max() <= 1.0 + 1e-12
    centers = np.array([[0.0, 0.0], [10.0, 10.0]])
    X, y = datasets.make_blobs(n_samples=400, centers=centers, cluster_std=0.5)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.15)


def test_synthetic_argument_errors():
    with pytest.raises(ValueError, match="n_samples"):
        datasets.make_moons(n_samples=0)
    with pytest.raises(ValueError, match="noise"):
        datasets.make_circles(noise=-1)
    with pytest.raises(ValueError, match="n_classes"):
        datasets.make_spirals(n_classes=1)


@pytest.mark.parametrize("name", ["scene", "checkerboard", "circle", "stripes", "gradient", "digit"])
def test_sample_images(name):
    img = datasets.sample_image(name)
    assert img.shape == (64, 64) and img.dtype == np.float64
    assert 0.0 <= img.min() and img.max() <= 1.0
    assert img.std() > 0.1  # not a flat image: there is something to filter
    assert datasets.sample_image(name, size=32).shape == (32, 32)


def test_sample_image_contents():
    board = datasets.sample_image("checkerboard")
    assert board[0, 0] == 0.0 and board[0, 8] == 1.0 and board[8, 8] == 0.0
    disc = datasets.sample_image("circle")
    assert disc[32, 32] == 1.0 and disc[0, 0] == 0.0
    assert disc.mean() == pytest.approx(np.pi * 0.3 ** 2, abs=0.01)
    scene = datasets.sample_image("scene")
    assert len(np.unique(scene)) > 10  # gradient background plus shapes
    digit = datasets.sample_image("digit", size=64, index=0)
    small, _ = datasets.digits_8x8(images=True)
    np.testing.assert_array_equal(digit[::8, ::8], small[0])
    with pytest.raises(ValueError, match="Did you mean 'circle'"):
        datasets.sample_image("circel")


def test_one_hot():
    np.testing.assert_array_equal(datasets.one_hot([2, 0, 1]), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert datasets.one_hot(np.array([[1], [0]]), num_classes=4).shape == (2, 4)
    np.testing.assert_array_equal(datasets.one_hot([1.0, 0.0]), [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="out of range"):
        datasets.one_hot([0, 3], num_classes=3)
    with pytest.raises(ValueError, match=">= 0"):
        datasets.one_hot([-1, 0])
    with pytest.raises(ValueError, match="whole numbers"):
        datasets.one_hot([0.5, 1.0])


def test_train_test_split():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(X_te) == 3 and len(X_tr) == 7      # ceil(2.5) as scikit-learn
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)  # rows stay paired with labels
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_te])), y)
    again = datasets.train_test_split(X, y, test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[3], y_te)
    _, X_te, _, _ = datasets.train_test_split(X, y, test_size=4, shuffle=False)
    np.testing.assert_array_equal(X_te[:, 0], [0, 2, 4, 6])
    with pytest.raises(ValueError, match="same number of samples"):
        datasets.train_test_split(X, y[:5])
    with pytest.raises(ValueError, match="at least 1"):
        datasets.train_test_split(X, y, test_size=10)


def test_nothing_downloaded(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("a data set tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    datasets.iris()
    datasets.digits_8x8()
    datasets.sample_image("digit")
