"""The project's install files agree with each other, and the code obeys the project's rules."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _requirements(lines):
    """Map package name -> version spec, normalised (lower case, '-' for '_', no spaces)."""
    out = {}
    for line in lines:
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)$", line)
        name, spec = m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")
        out[name] = spec
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _requirements(project["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("pip", "python"))]
    assert _requirements(conda) == wanted


def test_python_requirement_matches():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert "python>=3.11" in (ROOT / "environment.yml").read_text()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make course" in readme
    commands = [l for l in ci.splitlines() if l.strip() and not l.startswith(("#", "set ", "cd "))]
    assert commands == ["make test"]


def test_code_compiles_with_warnings_as_errors():
    """Raw docstrings for LaTeX: an invalid escape sequence is a SyntaxWarning, an error here."""
    files = [str(p) for d in ("nnlib", "autograder", "bench") for p in (ROOT / d).rglob("*.py")]
    code = "import sys, py_compile\nfor f in sys.argv[1:]: compile(open(f, encoding='utf-8').read(), f, 'exec')"
    subprocess.run([sys.executable, "-W", "error", "-c", code, *files], check=True)


def test_code_has_no_unused_imports_or_undefined_names():
    """pyflakes on the library, the grader, the benchmarks and the tests (a dev dependency)."""
    done = subprocess.run([sys.executable, "-m", "pyflakes", *(str(ROOT / d) for d in ("nnlib", "autograder", "bench",
                                                                                       "tests"))],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_nnlib_pulls_in_no_heavy_dependency():
    """``import nnlib`` and its core modules stay fast: Numba, Matplotlib, SciPy and scikit-learn load lazily."""
    code = (
        "import sys, nnlib\n"
        "from nnlib import activations, losses, layers, models, optimizers, initializers\n"
        "heavy = [m for m in ('numba', 'matplotlib', 'scipy', 'sklearn', 'torch') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""
