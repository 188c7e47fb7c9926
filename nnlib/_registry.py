"""Look-up by name, as Keras's ``get()``: an unknown name lists the known ones and suggests the closest."""
import difflib


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
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown {kind} {identifier!r}.{hint} Known {kind}s: {', '.join(known)}.")
