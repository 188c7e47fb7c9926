"""Look-up by name, as Keras's ``get()``: an unknown name lists the known ones and suggests the closest."""
import difflib


def edit_distance(a, b):
    """Edits (insert, delete, substitute, swap two neighbours) that turn ``a`` into ``b``.

    Counting a swap as one edit makes the typo "adma" closer to "adam" than to "adamax".
    """
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def closest(name, known):
    """The known name most like ``name``, or None when nothing is alike."""
    candidates = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    if not candidates:
        return None
    return min(candidates, key=lambda k: (edit_distance(name, k), candidates.index(k)))


def lookup(registry, identifier, kind):
    """Return ``registry[identifier]``; a callable passes through unchanged.

    ``kind`` names what is looked up ("activation", "loss", ...) for the error message.
    Identifiers are matched case-insensitively, as Keras does for ``"Adam"`` and ``"adam"``.
    """
    if callable(identifier) and not isinstance(identifier, str):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(f"{kind} identifier must be a string or a callable, got {type(identifier).__name__}")
    key = identifier.lower()
    if key in registry:
        return registry[key]
    known = sorted(registry)
    best = closest(key, known)
    hint = f" Did you mean {best!r}?" if best else ""
    raise ValueError(f"Unknown {kind} {identifier!r}.{hint} Known {kind}s: {', '.join(known)}.")
