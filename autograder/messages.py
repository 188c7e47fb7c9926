r"""Feedback in the student's language: English msgids translated through gettext catalogs.

Every string the autograder shows a student is an English gettext msgid with ``{placeholders}``::

    translate("expected shape {expected_shape}, got {got_shape}", "uk",
              expected_shape="(3, 4)", got_shape="(4, 3)")
    # -> 'очікувалася форма (3, 4), отримано (4, 3)'

Catalogs live in ``autograder/locale/<lang>/LC_MESSAGES/autograder.po`` (uk, ru, pl; English is the
source language and needs none). They are read with polib once per language and cached. A missing,
empty or fuzzy (stale) translation falls back to the English msgid, and a translation whose
placeholders do not match falls back too, so feedback never breaks because of a catalog.

Maintaining the catalogs::

    python -m autograder.messages extract   # refresh autograder.pot and merge it into the .po files
    python -m autograder.messages status    # per language: translated / fuzzy / missing entries

``extract`` collects (1) the msgids in the autograder's code: the first string argument of
``translate(...)``, ``N_(...)`` and ``fail(...)`` calls in ``autograder/*.py``, (2) :data:`EXTRA`
(the strings of nbgrader's feedback page), and (3) every ``Case.label`` and ``Exercise.hint`` of the
registered exercises (lesson authors: add your labels and hints to the exercises, run ``extract``,
then fill in the new empty ``msgstr`` entries of the three ``.po`` files). New entries arrive empty;
an entry whose English text changed is matched to its old translation, which is kept but marked
fuzzy until a translator checks it.
"""
import ast
import difflib
import functools
import string
import sys
from pathlib import Path

LANGUAGES = ("en", "uk", "ru", "pl")
SOURCE_LANGUAGE = "en"
DOMAIN = "autograder"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGE_NAMES = {"uk": "Ukrainian", "ru": "Russian", "pl": "Polish"}
PLURAL_FORMS = {
    "uk": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "pl": "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
}

# Strings that nbgrader's feedback page prints; another part of the course builds localised
# feedback templates from these entries of the catalogs.
EXTRA = (
    "Score",
    "Test cell",
    "Student's answer",
    "Comments",
    "Coding free-response",
    "Written response",
    "Task",
    "Late submission penalty",
    "(Top)",
)

# The functions whose first string argument is a msgid (scanned by ``extract``).
MARKERS = ("translate", "N_", "fail")


def N_(msgid):
    """Mark ``msgid`` for extraction without translating it now (gettext's ``N_``)."""
    return msgid


def catalog_path(lang):
    """Path of the ``.po`` file of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.lru_cache(maxsize=None)
def _catalog(lang):
    """msgid -> msgstr for the translated, non-fuzzy entries of ``lang`` (empty for English)."""
    if lang == SOURCE_LANGUAGE:
        return {}
    path = catalog_path(lang)
    if not path.exists():
        return {}
    import polib

    return {e.msgid: e.msgstr for e in polib.pofile(str(path)) if e.msgstr and not e.fuzzy and not e.obsolete}


def normalize_language(lang):
    """Return ``lang`` if the course speaks it (``"uk"``, ``"ru_RU"`` -> ``"ru"``), else ``"en"``."""
    if not lang:
        return SOURCE_LANGUAGE
    code = str(lang).replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else SOURCE_LANGUAGE


class _Keep(dict):
    """Format mapping that leaves an unknown ``{name}`` as it is instead of raising KeyError."""

    def __missing__(self, key):
        return "{" + key + "}"


def _fields(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def translate(msgid, lang="en", **kwargs):
    """Translate ``msgid`` into ``lang`` and fill its ``{placeholders}`` from ``kwargs``.

    Falls back to the English ``msgid`` when the catalog lacks the entry, the entry is fuzzy, or its
    placeholders differ from the msgid's.
    """
    text = _catalog(normalize_language(lang)).get(msgid, msgid)
    try:
        if text is not msgid and _fields(text) != _fields(msgid):
            text = msgid
        return text.format_map(_Keep(kwargs)) if kwargs or "{" in text else text
    except (ValueError, IndexError, AttributeError):
        return msgid.format_map(_Keep(kwargs)) if "{" in msgid else msgid


# --- extraction -------------------------------------------------------------------------------------

def code_msgids(package_dir=None):
    """Msgids in the autograder's own code: first string argument of ``translate``/``N_``/``fail``."""
    package_dir = Path(package_dir or Path(__file__).resolve().parent)
    found = {}
    for path in sorted(package_dir.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            arg = node.args[0]
            if name in MARKERS and isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                found.setdefault(arg.value, f"autograder/{path.name}")
    return found


def exercise_msgids(exercises=None):
    """Msgids of the exercises: every case label (visible and hidden, seed 0) and every hint."""
    import numpy as np

    if exercises is None:
        from autograder.exercises import EXERCISES as exercises
    found = {}
    for name in sorted(exercises):
        ex = exercises[name]
        cases = list(ex.visible()) + list(ex.hidden(np.random.default_rng(0)))
        for case in cases:
            if case.label:
                found.setdefault(case.label, f"exercise {name}: case label")
        if ex.hint:
            found.setdefault(ex.hint, f"exercise {name}: hint")
    return found


def all_msgids(exercises=None):
    """Every msgid the catalogs must hold, with where it comes from, in a stable order."""
    found = dict(code_msgids())
    for text in EXTRA:
        found.setdefault(text, "nbgrader feedback page")
    for text, where in exercise_msgids(exercises).items():
        found.setdefault(text, where)
    return found


def _header(lang=None):
    meta = {
        "Project-Id-Version": "nn-from-the-neuron-up autograder",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    if lang:
        meta["Language"] = lang
        meta["Plural-Forms"] = PLURAL_FORMS[lang]
    return meta


def build_template(msgids):
    """A polib POFile (the .pot) with one entry per msgid, its origin as an extracted comment."""
    import polib

    pot = polib.POFile(wrapwidth=0)
    pot.metadata = _header()
    for msgid, where in msgids.items():
        pot.append(polib.POEntry(msgid=msgid, msgstr="", comment=where))
    return pot


def merge_catalog(po, pot):
    """Merge ``pot`` into ``po`` like msgmerge: keep translations, add new entries, obsolete removed ones.

    A new entry whose msgid is close to an entry that disappeared (an edited English text) takes
    that entry's translation, flagged fuzzy so a translator checks it. Returns ``po``.
    """
    import polib

    old = {e.msgid: e for e in po if not e.obsolete}
    old.update({e.msgid: e for e in po if e.obsolete and e.msgid not in old})
    wanted = [e.msgid for e in pot]
    gone = {m: e for m, e in old.items() if m not in set(wanted) and e.msgstr}
    merged = polib.POFile(wrapwidth=0)
    merged.metadata = po.metadata or _header()
    for entry in pot:
        prev = old.get(entry.msgid)
        new = polib.POEntry(msgid=entry.msgid, msgstr="", comment=entry.comment)
        if prev is not None and not prev.obsolete:
            new.msgstr = prev.msgstr
            new.tcomment = prev.tcomment
            new.flags = list(prev.flags)
        elif prev is not None:  # an obsolete entry came back
            new.msgstr, new.flags = prev.msgstr, ["fuzzy"]
        else:
            close = difflib.get_close_matches(entry.msgid, list(gone), n=1, cutoff=0.8)
            if close:
                new.msgstr, new.flags = gone[close[0]].msgstr, ["fuzzy"]
                new.previous_msgid = close[0]
        merged.append(new)
    return merged


def extract(exercises=None, locale_dir=None, languages=("uk", "ru", "pl")):
    """Write ``autograder.pot`` and merge it into every language's ``.po``; return the msgid count."""
    import polib

    locale_dir = Path(locale_dir or LOCALE_DIR)
    pot = build_template(all_msgids(exercises))
    locale_dir.mkdir(parents=True, exist_ok=True)
    pot.save(str(locale_dir / f"{DOMAIN}.pot"))
    for lang in languages:
        path = locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        po = polib.pofile(str(path), wrapwidth=0) if path.exists() else polib.POFile(wrapwidth=0)
        if not po.metadata:
            po.metadata = _header(lang)
        merge_catalog(po, pot).save(str(path))
    _catalog.cache_clear()
    return len(pot)


def status(locale_dir=None, languages=("uk", "ru", "pl")):
    """Per language: (translated, fuzzy, missing) counts against the current .pot."""
    import polib

    locale_dir = Path(locale_dir or LOCALE_DIR)
    pot = polib.pofile(str(locale_dir / f"{DOMAIN}.pot"))
    report = {}
    for lang in languages:
        path = locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        entries = {e.msgid: e for e in polib.pofile(str(path)) if not e.obsolete} if path.exists() else {}
        counts = [0, 0, 0]
        for e in pot:
            have = entries.get(e.msgid)
            counts[0 if have and have.msgstr and not have.fuzzy else 1 if have and have.fuzzy else 2] += 1
        report[lang] = tuple(counts)
    return report


def main(argv=None):
    """``python -m autograder.messages extract|status``."""
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "status"
    if command == "extract":
        count = extract()
        print(f"{count} msgids written to {LOCALE_DIR / (DOMAIN + '.pot')} and merged into uk, ru, pl")
        command = "status"
    if command == "status":
        incomplete = False
        for lang, (done, fuzzy, missing) in status().items():
            print(f"{lang}: {done} translated, {fuzzy} fuzzy, {missing} missing")
            incomplete |= bool(fuzzy or missing)
        return 1 if incomplete else 0
    print("usage: python -m autograder.messages extract|status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
