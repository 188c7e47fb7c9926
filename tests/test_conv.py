"""nnlib.conv: convolve2d on hand-computed examples, the named kernels, padding and bad input."""
import numpy as np
import pytest

from nnlib import conv

IMAGE_3X3 = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=float)
KERNEL_2X2 = np.array([[1, 2], [3, 4]], dtype=float)


def test_valid_cross_correlation_by_hand():
    # top-left: 1*1 + 2*2 + 4*3 + 5*4 = 37, and so on
    np.testing.assert_array_equal(conv.convolve2d(IMAGE_3X3, KERNEL_2X2), [[37, 47], [67, 77]])


def test_flip_gives_the_textbook_convolution():
    # the kernel turned by 180 degrees is [[4, 3], [2, 1]]: top-left 4*1 + 3*2 + 2*4 + 1*5 = 23
    np.testing.assert_array_equal(conv.convolve2d(IMAGE_3X3, KERNEL_2X2, flip=True), [[23, 33], [53, 63]])


def test_same_mode_pads_with_zeros():
    box_sum = conv.convolve2d(IMAGE_3X3, np.ones((3, 3)), mode="same")
    np.testing.assert_array_equal(box_sum, [[12, 21, 16], [27, 45, 33], [24, 39, 28]])


def test_full_mode_by_hand():
    out = conv.convolve2d(KERNEL_2X2, KERNEL_2X2, mode="full")
    np.testing.assert_array_equal(out, [[4, 11, 6], [14, 30, 14], [6, 11, 4]])


def test_stride_two():
    image = np.arange(25, dtype=float).reshape(5, 5)
    # each 3x3 window of this linear ramp sums to 9 times its centre: 6, 8, 16, 18
    np.testing.assert_array_equal(conv.convolve2d(image, np.ones((3, 3)), stride=2), [[54, 72], [144, 162]])
    assert conv.convolve2d(image, np.ones((3, 3)), mode="same", stride=2).shape == (3, 3)
    assert conv.convolve2d(image, np.ones((3, 3)), stride=(1, 2)).shape == (3, 2)


@pytest.mark.parametrize("kernel_shape", [(3, 3), (2, 2), (4, 3), (1, 5)])
@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_agrees_with_scipy_correlate2d(kernel_shape, mode):
    from scipy import signal
    rng = np.random.default_rng(0)
    image, kernel = rng.standard_normal((7, 8)), rng.standard_normal(kernel_shape)
    np.testing.assert_allclose(conv.convolve2d(image, kernel, mode), signal.correlate2d(image, kernel, mode),
                               atol=1e-12)
    if mode != "same" or kernel_shape[0] % 2 and kernel_shape[1] % 2:  # scipy centres even kernels otherwise
        np.testing.assert_allclose(conv.convolve2d(image, kernel, mode, flip=True),
                                   signal.convolve2d(image, kernel, mode), atol=1e-12)


def test_colour_image_is_filtered_channel_by_channel():
    rng = np.random.default_rng(1)
    image = rng.random((6, 5, 3))
    out = conv.convolve2d(image, "sharpen", mode="same")
    assert out.shape == (6, 5, 3)
    for c in range(3):
        np.testing.assert_allclose(out[..., c], conv.convolve2d(image[..., c], "sharpen", mode="same"))


def test_float32_stays_float32_and_ints_become_float64():
    assert conv.convolve2d(np.ones((4, 4), np.float32), "box_blur").dtype == np.float32
    assert conv.convolve2d(np.ones((4, 4), int), "box_blur").dtype == np.float64


def test_named_kernels_have_the_lecture_values():
    k = conv.KERNELS
    np.testing.assert_array_equal(k["identity"], [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(k["edge_detection_1"], [[1, 0, -1], [0, 0, 0], [-1, 0, 1]])
    np.testing.assert_array_equal(k["edge_detection_2"], [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    np.testing.assert_array_equal(k["edge_detection_3"], [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(k["sharpen"], [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_allclose(k["box_blur"], np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(k["gaussian_blur"] * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(k["sobel_x"], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(k["sobel_y"], k["sobel_x"].T)
    np.testing.assert_array_equal(k["prewitt_x"], [[-1, 0, 1]] * 3)
    np.testing.assert_array_equal(k["prewitt_y"], k["prewitt_x"].T)
    assert set(conv.DESCRIPTIONS) == set(k)


def test_what_the_kernels_do_to_an_image():
    rng = np.random.default_rng(2)
    image = rng.random((8, 8))
    np.testing.assert_allclose(conv.convolve2d(image, "identity", mode="same"), image)
    flat = np.full((6, 6), 0.7)
    for name in ("edge_detection_1", "edge_detection_2", "edge_detection_3", "sobel_x", "prewitt_y"):
        np.testing.assert_allclose(conv.convolve2d(flat, name), 0, atol=1e-12)  # no edges in a flat image
    for name in ("box_blur", "gaussian_blur", "sharpen"):
        np.testing.assert_allclose(conv.convolve2d(flat, name), 0.7)            # weights sum to 1
    ramp = np.tile(np.arange(6.0), (6, 1))                                      # brighter to the right
    np.testing.assert_allclose(conv.convolve2d(ramp, "sobel_x"), 8.0)
    np.testing.assert_allclose(conv.convolve2d(ramp, "sobel_y"), 0.0)


def test_get_kernel_copies_and_suggests():
    k = conv.get_kernel("Sharpen")
    k[1, 1] = 0
    assert conv.KERNELS["sharpen"][1, 1] == 5
    with pytest.raises(ValueError, match="Did you mean 'sharpen'"):
        conv.get_kernel("sharpn")
    with pytest.raises(ValueError, match="read-only"):
        conv.KERNELS["identity"][0, 0] = 1


def test_kernel_latex():
    assert conv.kernel_latex("sharpen") == r"\begin{bmatrix} 0 & -1 & 0 \\ -1 & 5 & -1 \\ 0 & -1 & 0 \end{bmatrix}"
    assert conv.kernel_latex("box_blur").startswith(r"\frac{1}{9} \begin{bmatrix} 1 & 1 & 1")
    assert conv.kernel_latex("gaussian_blur").startswith(r"\frac{1}{16} \begin{bmatrix} 1 & 2 & 1 \\ 2 & 4 & 2")


@pytest.mark.parametrize("size, window, stride, mode, expected", [
    (5, 3, 1, "valid", (0, 0)), (5, 3, 1, "same", (1, 1)), (5, 3, 1, "full", (2, 2)),
    (6, 2, 1, "same", (0, 1)), (5, 3, 2, "same", (1, 1)), (6, 3, 2, "same", (0, 1)), (7, 1, 3, "same", (0, 0)),
])
def test_padding_amounts(size, window, stride, mode, expected):
    assert conv.padding_amounts(size, window, stride, mode) == expected


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"image must have shape \(H, W\) or \(H, W, C\), got shape \(5,\)"):
        conv.convolve2d(np.ones(5), "identity")
    with pytest.raises(ValueError, match=r"kernel must have shape \(kh, kw\), got shape \(3, 3, 1\)"):
        conv.convolve2d(np.ones((5, 5)), np.ones((3, 3, 1)))
    with pytest.raises(ValueError, match="mode \\(padding\\) must be one of valid, same, full; got 'circular'"):
        conv.convolve2d(np.ones((5, 5)), "identity", mode="circular")
    with pytest.raises(ValueError, match=r"kernel of shape \(3, 3\) is larger than the image of shape \(2, 2\)"):
        conv.convolve2d(np.ones((2, 2)), "identity")
    with pytest.raises(ValueError, match="contains NaN"):
        conv.convolve2d(np.array([[1.0, np.nan], [0, 0]]), np.ones((1, 1)))
    with pytest.raises(ValueError, match="Unknown kernel 'blur'"):
        conv.convolve2d(np.ones((5, 5)), "blur")
