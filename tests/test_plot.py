"""nnlib.plot: every figure function, checked by what the figure holds (Agg backend)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnlib import datasets, plot  # noqa: E402
from nnlib.callbacks import History  # noqa: E402
from nnlib.neuron import Perceptron  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _filled_colours(ax):
    """The RGBA colours contourf used for its filled regions."""
    return {tuple(np.round(c, 3)) for coll in ax.collections[:-1] for c in np.atleast_2d(coll.get_facecolor())}


def test_import_does_not_load_matplotlib():
    import subprocess
    import sys

    code = ("import sys, nnlib.plot, nnlib.graph, nnlib.datasets, nnlib.neuron; "
            "bad = [m for m in ('matplotlib', 'sklearn', 'numba', 'scipy') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_decision_boundary_with_a_model():
    X, y = datasets.logic_gate("and")
    model = Perceptron(seed=0).fit(X, y)
    fig = plot.decision_boundary(model, X, y)
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    assert ax.get_title() == "Decision boundary"
    points = ax.collections[-1]
    np.testing.assert_array_equal(points.get_offsets(), X)
    # point colours follow the class: the one positive sample differs from the three negatives
    colours = [tuple(c) for c in points.get_facecolors()]
    assert colours[0] == colours[1] == colours[2] != colours[3]
    assert len(_filled_colours(ax)) == 2  # two regions: the plane is split by the boundary


def test_decision_boundary_with_probabilities_and_functions():
    X, y = datasets.make_blobs(n_samples=90, centers=np.array([[-3.0, 0], [3.0, 0], [0, 5.0]]), seed=1)

    def softmax_scores(points):  # (m, 3) scores: nearest centre wins
        centres = np.array([[-3.0, 0], [3.0, 0], [0, 5.0]])
        return -((points[:, None, :] - centres[None]) ** 2).sum(axis=2)

    fig = plot.decision_boundary(softmax_scores, X, y, title="three blobs")
    assert fig.axes[0].get_title() == "three blobs"
    assert len(_filled_colours(fig.axes[0])) == 3

    def sigmoid_column(points):  # (m, 1) probabilities: x1 > 0 is class 1
        return 1 / (1 + np.exp(-points[:, :1]))

    X2, y2 = datasets.make_moons(n_samples=40, seed=0)
    _, ax = plt.subplots()
    fig2 = plot.decision_boundary(sigmoid_column, X2, y2, ax=ax)
    assert fig2 is ax.figure
    assert len(_filled_colours(ax)) == 2


def test_decision_boundary_errors():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot.decision_boundary(lambda p: p[:, 0], np.ones((4, 3)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="4 samples but y has 3"):
        plot.decision_boundary(lambda p: p[:, 0], np.ones((4, 2)), [0, 1, 0])


def test_training_curves_from_history_object():
    history = History()
    for epoch, logs in enumerate([{"loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.4},
                                  {"loss": 0.6, "accuracy": 0.7, "val_loss": 0.8, "val_accuracy": 0.6},
                                  {"loss": 0.4, "accuracy": 0.8, "val_loss": 0.7, "val_accuracy": 0.7}]):
        history.on_epoch_end(epoch, logs)
    fig = plot.training_curves(history)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "Training and validation loss"
    assert acc_ax.get_title() == "Training and validation accuracy"
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), [1.2, 0.8, 0.7])
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["training accuracy", "validation accuracy"]


def test_training_curves_from_dict_and_given_axes():
    fig = plot.training_curves({"loss": [3.0, 2.0, 1.5]})
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1
    _, axes = plt.subplots(1, 2)
    fig2 = plot.training_curves({"loss": [1, 0.5], "mae": [2, 1], "val_mae": [2.5, 1.5]}, ax=axes)
    assert fig2 is axes[0].figure
    assert len(axes[0].lines) == 1 and len(axes[1].lines) == 2
    assert axes[1].get_title() == "Training and validation mae"
    with pytest.raises(ValueError, match="1 Axes for 2 panels"):
        plot.training_curves({"loss": [1], "accuracy": [0.5]}, ax=axes[0])
    with pytest.raises(KeyError, match="accuracy"):
        plot.training_curves({"loss": [1]}, metrics=["accuracy"])
    with pytest.raises(TypeError):
        plot.training_curves([1, 2, 3])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_activation_with_derivative(name):
    from nnlib import activations

    x = np.linspace(-3, 3, 61)
    fig = plot.activation_with_derivative(name, x=x)
    ax = fig.axes[0]
    curves = [line for line in ax.lines if not line.get_label().startswith("_")]  # not the axes at 0
    assert len(fig.axes) == 1 and len(curves) == 2
    f_line, df_line = curves
    np.testing.assert_allclose(f_line.get_ydata(), activations.get(name)(x))
    np.testing.assert_allclose(df_line.get_ydata(), activations.get_derivative(name)(x))
    assert ax.get_title().startswith(name)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"{name}(x)", f"{name}'(x)"]
    fig.canvas.draw()  # the LaTeX title renders


def test_activation_with_derivative_defaults_and_errors():
    fig = plot.activation_with_derivative("sigmoid")
    assert len(fig.axes[0].lines[0].get_xdata()) == 401
    assert "frac" in fig.axes[0].get_title()  # the formula from activations.LATEX
    with pytest.raises(ValueError, match="element by element"):
        plot.activation_with_derivative("softmax")
    with pytest.raises(ValueError, match="Did you mean"):
        plot.activation_with_derivative("sigmod")


def test_image_and_filtered():
    from nnlib import conv

    image = datasets.sample_image("scene", size=32)
    fig = plot.image_and_filtered(image, "sharpen")
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["Image", "Kernel: sharpen", "Filtered (same)"]
    shown = [ax.images[0].get_array() for ax in fig.axes]
    np.testing.assert_array_equal(shown[0], image)
    np.testing.assert_array_equal(shown[1], conv.get_kernel("sharpen"))
    np.testing.assert_allclose(shown[2], conv.convolve2d(image, conv.get_kernel("sharpen"), mode="same"))
    assert len(fig.axes[1].texts) == 9  # the nine kernel numbers are written in the cells


def test_image_and_filtered_with_array_kernel_and_valid_mode():
    image = datasets.sample_image("stripes", size=16)
    kernel = np.array([[1.0, 0.0, -1.0]] * 3)
    fig = plot.image_and_filtered(image, kernel, mode="valid", titles=("a", "b", "c"))
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    assert fig.axes[2].images[0].get_array().shape == (14, 14)


def test_show_bitmap():
    X, _ = datasets.bitmap_digits_3x5()
    fig = plot.show_bitmap(X[9], shape=(5, 3), title="9")
    ax = fig.axes[0]
    assert ax.get_title() == "9"
    np.testing.assert_array_equal(ax.images[0].get_array(), X[9].reshape(5, 3))
    grid = datasets.notes_grid_14x12()
    fig = plot.show_bitmap(grid, annotate=True, cmap="gray")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 14 * 12 and texts[:4] == ["1.0", "1.0", "1.0", "0.9"]
    with pytest.raises(ValueError, match="cannot reshape"):
        plot.show_bitmap(X[0], shape=(4, 4))
    with pytest.raises(ValueError, match="2-D"):
        plot.show_bitmap(X[0])


def test_show_bitmaps_grid():
    X, _ = datasets.digits_14x12()
    fig = plot.show_bitmaps(X[:7], titles=list(range(7)), ncols=4)
    assert len(fig.axes) == 7  # the empty cell of the 2x4 grid is removed
    assert [ax.get_title() for ax in fig.axes] == [str(i) for i in range(7)]
    X3, _ = datasets.bitmap_digits_3x5()
    fig = plot.show_bitmaps(X3, shape=(5, 3))
    assert len(fig.axes) == 10
    with pytest.raises(ValueError, match="titles"):
        plot.show_bitmaps(X3, shape=(5, 3), titles=["a"])


def test_model_diagram_as_keras_plot_model():
    from nnlib import layers, models

    model = models.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    assert model.input_shape == (None, 28, 28) and model.output_shape == (None, 10)
    texts = [t.get_text() for t in plot.model(model).axes[0].texts if t.get_text()]
    assert texts == ["input (InputLayer)\nin: -   out: (None, 28, 28)",
                     f"{model.layers[0].name} (Flatten)\nin: (None, 28, 28)   out: (None, 784)",
                     f"{model.layers[1].name} (Dense)\nin: (None, 784)   out: (None, 128)",
                     f"{model.layers[2].name} (Dense)\nin: (None, 128)   out: (None, 10)"]
    bare = [t.get_text() for t in plot.model(model, show_shapes=False).axes[0].texts if t.get_text()]
    assert bare[1] == f"{model.layers[0].name} (Flatten)"
    with pytest.raises(ValueError, match="plot.model needs a built model"):
        plot.model(models.Sequential([layers.Dense(2)]))
