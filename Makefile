# `make demo` and `make test` set up .venv on first use, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGINS := $(wildcard plugins/*/pyproject.toml)

.PHONY: demo test test-slow setup clean

$(STAMP): pyproject.toml $(PLUGINS)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch 2.14.1 / torchvision 0.29.1 are the releases this project is tested with.
	$(BIN)/python -m pip install --quiet "torch>=2.4,<=2.14.1" "torchvision>=0.19,<=0.29.1"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# The plugin packages in plugins/, installed for real so their entry points are discovered.
	$(BIN)/python -m pip install --quiet --no-deps $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/ganaug demo

# One pytest worker per core (at most 4); tests that share a module-scoped run stay in one worker.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadscope

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

clean:
	rm -rf $(VENV) build *.egg-info
