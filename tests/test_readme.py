"""The README's Python quick start runs as written (with fewer steps), and its promises hold."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quick_start_runs(tmp_path, monkeypatch):
    text = README.read_text()
    code = re.search(r"## Python quick start\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 10
    monkeypatch.chdir(tmp_path)
    code = code.replace("steps=200", "steps=5")
    exec(compile(code, "README quick start", "exec"), {})
    assert (tmp_path / "runs" / "quickstart" / "generator" / "generator.json").exists()


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_readme_restoration_example_runs(tmp_path, monkeypatch):
    text = README.read_text()
    code = re.search(r"## Restoration and variations \(image-to-image\)\n.*?```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code.replace("steps=300", "steps=3"), "README restoration", "exec"), namespace)
    assert namespace["filled"].shape == namespace["varied"].shape == (8, 1, 8, 8)
    assert namespace["mix"].n_synthetic > 0


def test_readme_plan_example_runs(tiny_store, tiny_generator):
    text = README.read_text()
    code = re.search(r"### Decide on your data first: `ganaug plan`\n.*?```python\n(.*?)```", text, re.S).group(1)
    code = code.replace("ganaug.plan(train_store, generator)",
                        "ganaug.plan(train_store, generator, steps=3, folds=2, repeats=1, progress=False)")
    namespace = {"train_store": tiny_store, "generator": tiny_generator, "train_set": tiny_store,
                 "my_augmentation": None}
    exec(compile("import ganaug\n" + code, "README plan", "exec"), namespace)
    assert namespace["recipe"].choice in [c["name"] for c in namespace["recipe"].candidates]
    assert len(namespace["train_set"]) >= len(tiny_store)
