"""Figures the lessons show, each a function returning the Matplotlib Figure.

Matplotlib is imported inside the functions, so ``import nnlib.plot`` costs nothing. Pass ``ax``
to draw into an existing Axes (then its Figure is returned); without it a new figure is made
with ``pyplot.subplots``. In a notebook, write ``fig = plot.something(...)`` (or end the line
with ``;``) so the figure is shown once.
"""
import numpy as np

from nnlib._checks import as_float_array


def _new_axes(ax, ncols=1, figsize=None):
    """``(fig, [axes])``: the given Axes, or a new row of ``ncols`` Axes."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, [ax]
    fig, axes = plt.subplots(1, ncols, figsize=figsize or (4.5 * ncols, 3.6), squeeze=False)
    return fig, list(axes[0])


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


def model(model, show_shapes=True, ax=None):
    """The layers of a built ``Sequential`` as a column of boxes, input at the top, as Keras's
    ``keras.utils.plot_model(model, show_shapes=True)``: each box gives the layer's name and type,
    and with ``show_shapes`` its input and output shapes (None is the batch axis)."""
    import matplotlib.patches as patches

    if not getattr(model, "built", False):
        raise ValueError("plot.model needs a built model: start it with Input(shape=...), give the first layer "
                         "input_shape=..., or call model.build((None, n_features)) first")
    batch, *shape = model.input_shape
    shapes = [tuple(shape)]
    for layer in model.layers:
        shapes.append(tuple(layer.compute_output_shape(shapes[-1])))
    rows = [("input", "InputLayer", None, shapes[0])]
    rows += [(layer.name, type(layer).__name__, shapes[i], shapes[i + 1]) for i, layer in enumerate(model.layers)]
    fig, (ax,) = _new_axes(ax, figsize=(4.6 if show_shapes else 3.0, 0.95 * len(rows) + 0.3))
    for i, (name, kind, shape_in, shape_out) in enumerate(rows):
        top = -i * 1.3
        ax.add_patch(patches.FancyBboxPatch((0.0, top - 0.8), 4.0, 0.8, boxstyle="round,pad=0.02",
                                            facecolor="#dbe9f6" if i else "#eeeeee", edgecolor="#4a6f8a"))
        label = f"{name} ({kind})"
        if show_shapes:
            label += f"\nin: {(batch, *shape_in) if shape_in is not None else '-'}   out: {(batch, *shape_out)}"
        ax.text(2.0, top - 0.4, label, ha="center", va="center", fontsize=9)
        if i:
            ax.annotate("", xy=(2.0, top), xytext=(2.0, top + 0.5),
                        arrowprops={"arrowstyle": "->", "color": "#4a6f8a"})
    ax.set_xlim(-0.1, 4.1)
    ax.set_ylim(-1.3 * (len(rows) - 1) - 0.9, 0.1)
    ax.set_axis_off()
    ax.set_title(f'Model "{model.name}"')
    return fig


# ---------------------------------------------------------------------------------------------
# Classifiers and training
# ---------------------------------------------------------------------------------------------


def _predict_labels(model_or_fn, points):
    """Class labels (n,) from a model's ``predict`` or a function, whatever it returns.

    Labels pass through; one column of scores is thresholded at 0.5 (a sigmoid output); several
    columns give the arg-max (softmax probabilities or logits).
    """
    predict = getattr(model_or_fn, "predict", model_or_fn)
    if not callable(predict):
        raise TypeError(f"model_or_fn must have a predict() method or be callable, got {type(model_or_fn).__name__}")
    out = np.asarray(predict(points))
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    out = out.reshape(len(points))
    if out.dtype.kind == "f" and not np.all(out == np.round(out)):
        return (out >= 0.5).astype(np.int64)
    return out.astype(np.int64)


def decision_boundary(model_or_fn, X, y, ax=None, resolution=200, padding=0.5, title="Decision boundary"):
    """Colour the plane by predicted class and scatter the samples coloured by their true class.

    ``model_or_fn``: an object with ``predict(points)`` or a function ``f(points)``; ``points`` is
    (m, 2). It may return labels (m,), one probability column (m, 1) or class scores (m, C).
    ``X`` (n, 2), ``y`` (n,) integer labels.
    """
    X = as_float_array(X, "X", ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"decision_boundary draws 2-D data: X must have shape (n, 2), got {X.shape}")
    y = np.asarray(y).reshape(-1)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    import matplotlib.pyplot as plt

    fig, (ax,) = _new_axes(ax, figsize=(5, 4.2))
    (x0, y0), (x1, y1) = X.min(axis=0) - padding, X.max(axis=0) + padding
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.c_[gx.ravel(), gy.ravel()]
    zz = _predict_labels(model_or_fn, grid).reshape(gx.shape)
    classes = np.unique(np.concatenate([y.astype(np.int64), zz.ravel()]))
    palette = [plt.get_cmap("tab10")(i % 10) for i in range(len(classes))]
    # one colour per class: regions (filled between half-integer levels) and points alike
    ax.contourf(gx, gy, np.searchsorted(classes, zz), levels=np.arange(len(classes) + 1) - 0.5,
                colors=palette, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=[palette[i] for i in np.searchsorted(classes, y.astype(np.int64))],
               edgecolors="k", linewidths=0.5, s=25)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    return fig


_CURVE_TITLES = {"loss": "Training and validation loss", "accuracy": "Training and validation accuracy"}


def training_curves(history, metrics=None, ax=None):
    """Training and validation curves per epoch, one panel per metric (as the Ukrainian lecture plots).

    ``history``: a ``History`` (from ``model.fit``) or its ``.history`` dict, e.g.
    ``{"loss": [...], "val_loss": [...], "accuracy": [...], "val_accuracy": [...]}``.
    ``metrics``: the panels, default every key without the ``val_`` prefix (loss first).
    ``ax``: one Axes per panel (a single Axes when there is one panel).
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise TypeError("history must be a History object or a non-empty dict of lists such as {'loss': [...]}")
    if metrics is None:
        metrics = sorted((k for k in logs if not k.startswith("val_")), key=lambda k: (k != "loss", k))
    missing = [m for m in metrics if m not in logs]
    if missing:
        raise KeyError(f"history has no {missing}; it holds {sorted(logs)}")
    if ax is None:
        fig, axes = _new_axes(None, ncols=len(metrics))
    else:
        axes = [ax] if hasattr(ax, "plot") else list(ax)
        if len(axes) != len(metrics):
            raise ValueError(f"got {len(axes)} Axes for {len(metrics)} panels {metrics}")
        fig = axes[0].figure
    for axis, name in zip(axes, metrics):
        epochs = np.arange(1, len(logs[name]) + 1)
        axis.plot(epochs, logs[name], marker=".", label=f"training {name}")
        if f"val_{name}" in logs:
            axis.plot(np.arange(1, len(logs[f"val_{name}"]) + 1), logs[f"val_{name}"], marker=".",
                      label=f"validation {name}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.set_title(_CURVE_TITLES.get(name, f"Training and validation {name}"))
        axis.legend()
        axis.grid(alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------


def activation_with_derivative(name, x=None, ax=None):
    r"""Plot an activation :math:`f(x)` and its derivative :math:`f'(x)` on one Axes.

    ``name``: a name known to ``nnlib.activations`` (e.g. "sigmoid"); ``x`` defaults to 401 points in
    [-5, 5]. The title shows the formula from ``activations.LATEX`` when there is one.
    """
    from nnlib import activations

    if isinstance(name, str) and name.lower() in ("softmax", "maxout"):
        raise ValueError(f"{name} acts on a whole vector, not element by element; plot an element-wise "
                         f"activation such as 'sigmoid' or 'relu'")
    f = activations.get(name)
    df = activations.get_derivative(name)
    x = np.linspace(-5.0, 5.0, 401) if x is None else as_float_array(x, "x", ndim=1).astype(np.float64)
    label = name if isinstance(name, str) else getattr(name, "__name__", "f")
    fig, (ax,) = _new_axes(ax, figsize=(5, 3.6))
    ax.plot(x, f(x), label=f"{label}(x)")
    ax.plot(x, df(x), "--", label=f"{label}'(x)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    formula = getattr(activations, "LATEX", {}).get(label.lower()) if isinstance(name, str) else None
    ax.set_title(f"{label}: ${formula}$" if formula and _mathtext_ok(formula) else label)
    ax.set_xlabel("x")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def _mathtext_ok(formula):
    """True when Matplotlib's mathtext can draw ``formula`` (it lacks e.g. ``\\begin{cases}``)."""
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(f"${formula}$")
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------


def image_and_filtered(image, kernel, mode="same", cmap="gray", titles=None):
    """Three panels: the image, the kernel with its numbers, and ``conv.convolve2d(image, kernel, mode)``.

    ``kernel``: an array (kh, kw) or a name from ``nnlib.conv.KERNELS`` (e.g. "sharpen").
    ``titles``: three strings to replace the default titles.
    """
    from nnlib import conv

    name = kernel if isinstance(kernel, str) else "kernel"
    k = conv.get_kernel(kernel) if isinstance(kernel, str) else as_float_array(kernel, "kernel", ndim=2)
    image = as_float_array(image, "image", ndim=2)
    filtered = conv.convolve2d(image, k, mode=mode)
    titles = titles or ("Image", f"Kernel: {name}", f"Filtered ({mode})")
    if len(titles) != 3:
        raise ValueError(f"titles must hold 3 strings, got {len(titles)}")
    fig, axes = _new_axes(None, ncols=3, figsize=(11, 3.8))
    axes[0].imshow(image, cmap=cmap)
    axes[1].imshow(k, cmap="coolwarm", vmin=-np.abs(k).max(), vmax=np.abs(k).max())
    for (i, j), v in np.ndenumerate(k):
        axes[1].text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=9)
    axes[2].imshow(filtered, cmap=cmap)
    for axis, title in zip(axes, titles):
        axis.set_title(title)
        axis.set_xticks([])
        axis.set_yticks([])
    fig.tight_layout()
    return fig


def show_bitmap(bitmap, shape=None, ax=None, title=None, annotate=False, cmap="gray_r"):
    """Show one bitmap as a grid of pixels; ``annotate`` writes each pixel's value in its cell.

    ``bitmap``: 2-D, or 1-D with ``shape`` (rows, cols), e.g. a 3x5 digit row with ``shape=(5, 3)``.
    With the default ``cmap="gray_r"`` 1 is black ink and 0 white paper.
    """
    pixels = as_float_array(bitmap, "bitmap")
    if shape is not None:
        if int(np.prod(shape)) != pixels.size:
            raise ValueError(f"cannot reshape a bitmap of {pixels.size} pixels (shape {pixels.shape}) to {tuple(shape)}")
        pixels = pixels.reshape(shape)
    if pixels.ndim != 2:
        raise ValueError(f"bitmap must be 2-D, or 1-D with shape=(rows, cols); got shape {pixels.shape}")
    fig, (ax,) = _new_axes(ax, figsize=(0.35 * pixels.shape[1] + 1, 0.35 * pixels.shape[0] + 0.8))
    ax.imshow(pixels, cmap=cmap, vmin=min(0.0, pixels.min()), vmax=max(1.0, pixels.max()))
    if annotate:
        middle = (pixels.max() + pixels.min()) / 2
        for (i, j), v in np.ndenumerate(pixels):
            dark = (v > middle) == cmap.endswith("_r")
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7, color="w" if dark else "k")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return fig


def show_bitmaps(bitmaps, shape=None, titles=None, ncols=10, cmap="gray_r"):
    """A grid of bitmaps, e.g. the ten 3x5 digits: ``bitmaps`` (n, rows, cols) or (n, pixels) with ``shape``."""
    import matplotlib.pyplot as plt

    images = as_float_array(bitmaps, "bitmaps", min_ndim=2)
    if shape is not None:
        images = images.reshape((len(images),) + tuple(shape))
    if images.ndim != 3:
        raise ValueError(f"bitmaps must be (n, rows, cols), or (n, pixels) with shape=(rows, cols); got {images.shape}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} bitmaps")
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.5 * nrows), squeeze=False)
    for i, axis in enumerate(axes.ravel()):
        if i >= len(images):
            fig.delaxes(axis)  # the empty cells of the last row
            continue
        axis.set_axis_off()
        axis.imshow(images[i], cmap=cmap, vmin=0.0, vmax=1.0)
        if titles is not None:
            axis.set_title(str(titles[i]), fontsize=9)
    return fig
