"""`make course` really serves the lessons: start it, ask the server for each language's folder, stop it."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("uk", "ru", "pl", "en")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_make_course_serves_every_language(tmp_path):
    port = _free_port()
    args = f"--no-browser --ServerApp.port={port} --ServerApp.token=t --ServerApp.open_browser=False"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.Popen(["make", "--no-print-directory", "course", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline, listing = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                listing = {lang: _get(f"http://127.0.0.1:{port}/api/contents/{lang}?token=t") for lang in LANGS}
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, f"JupyterLab did not come up: {proc.stdout.read() if proc.poll() is not None else ''}"
        for lang in LANGS:
            names = {item["name"] for item in listing[lang]["content"]}
            assert {"01-neuron.ipynb", "06-activations.ipynb"} <= names
        lab = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token=t", timeout=5)
        assert lab.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
