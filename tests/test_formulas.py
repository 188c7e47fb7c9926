"""Formula tables show nnlib's LaTeX with its \\text{...} words in the notebook's language."""
import re

import pytest

from autograder import formulas
from autograder.messages import translate
from nnlib import activations


def test_every_word_in_nnlibs_formulas_is_translatable():
    words = {word for table in (activations.LATEX, activations.DERIVATIVE_LATEX) for latex in table.values()
             for word in re.findall(r"\\text\{([^{}]*)\}", latex)}
    assert words and words <= set(formulas.WORDS)


@pytest.mark.parametrize("lang, word", [("uk", "інакше"), ("ru", "иначе"), ("pl", "w przeciwnym razie"),
                                        ("en", "otherwise")])
def test_otherwise_is_shown_in_the_notebooks_language(lang, word):
    shown = formulas.localize(activations.DERIVATIVE_LATEX["hard_tanh"], lang)
    assert shown == activations.DERIVATIVE_LATEX["hard_tanh"].replace(r"\text{otherwise}", rf"\text{{{word}}}")


@pytest.mark.parametrize("lang", ["uk", "ru", "pl"])
def test_every_word_has_a_translation(lang):
    assert all(translate(word, lang) != word for word in formulas.WORDS)


def test_other_text_and_formulas_without_words_are_unchanged():
    assert formulas.localize(r"\text{ReLU}(x) = \max(0, x)", "uk") == r"\text{ReLU}(x) = \max(0, x)"
    assert formulas.localize(activations.LATEX["sigmoid"], "pl") == activations.LATEX["sigmoid"]


def test_language_defaults_to_the_notebooks(monkeypatch, tmp_path):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("COURSE_LANG", "ru")
    monkeypatch.chdir(tmp_path)
    assert formulas.localize(r"0 & \text{otherwise}") == r"0 & \text{иначе}"
