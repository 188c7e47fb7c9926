r"""nnlib's formulas as a lesson shows them: the words inside ``\text{...}`` in the notebook's language.

nnlib's docstrings, and so ``nnlib.activations.LATEX``, write a few words in LaTeX, such as
``\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}``. A lesson's code cells are the
same in every language, so a formula table calls :func:`localize` to show those words in the
language of the notebook (found as :func:`autograder.checks.detect_language` finds it)::

    from autograder.formulas import localize
    localize(activations.LATEX["relu"])       # "... 0 & \text{інакше} ..." in a Ukrainian notebook

The words are entries of the grader's message catalog (``autograder/locale``); a word missing
there stays English.
"""
import re

from autograder.messages import N_, translate

# Every word nnlib's formulas put in \text{...}; tests/test_formulas.py fails when one is missing.
WORDS = (N_("otherwise"), N_("undefined"), N_("e.g."))

TEXT = re.compile(r"\\text\{([^{}]*)\}")


def localize(latex, lang=None):
    r"""``latex`` with each ``\text{word}`` in ``lang`` (default: the notebook's language)."""
    if lang is None:
        from autograder.checks import detect_language
        lang = detect_language()
    return TEXT.sub(lambda m: r"\text{" + translate(m.group(1), lang) + "}" if m.group(1) in WORDS else m.group(0),
                    latex)
