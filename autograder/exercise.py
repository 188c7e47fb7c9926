r"""What an exercise is: the student's function, its nnlib reference, and the inputs to try.

A lesson's test cell calls ``check("sigmoid", sigmoid)``. The name finds an :class:`Exercise` in
:data:`autograder.exercises.EXERCISES`; the grader calls the student's function and the reference on
the same inputs and compares. Visible cases are fixed and shown to the student; hidden cases are
drawn from a generator seeded per student, so answers hard-coded against the visible cases fail.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Case:
    """One call of the student's function: ``func(*args, **kwargs)``.

    ``label`` describes the input for feedback in English (a gettext msgid), e.g. ``"x of shape (3, 4)"``;
    it is translated through the autograder's catalog, so keep labels few and reusable, with
    ``{placeholders}`` filled from ``label_args``.
    """
    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = "random input"
    label_args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Exercise:
    r"""A graded function.

    ``name``       the function name the student defines (and the first argument of ``check``).
    ``reference``  the nnlib function with the same signature, giving the expected result.
    ``visible``    ``() -> list[Case]``: fixed cases, run by the student's instant check.
    ``hidden``     ``(rng) -> list[Case]``: randomized cases; ``rng`` is seeded per student.
    ``rtol, atol`` tolerance of ``np.allclose`` on every returned array.
    ``check_dtype`` whether the result's dtype must match the reference's (float32 stays float32).
    ``gradient_of`` for a derivative or backward exercise: the name of the forward function whose
                   numerical gradient (nnlib.gradcheck) the result must also match.
    ``hint``       a short English hint (gettext msgid) shown when a case fails.
    """
    name: str
    reference: Callable
    visible: Callable[[], list]
    hidden: Callable[[np.random.Generator], list]
    rtol: float = 1e-6
    atol: float = 1e-8
    check_dtype: bool = True
    gradient_of: str | None = None
    hint: str = ""
