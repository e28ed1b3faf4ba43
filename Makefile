# relpose: two commands do all set-up on a fresh machine.
#   make demo   the main job on the embedded synthetic data
#   make test   the whole suite (unit tests, browser tests, notebooks with nbval, the exercises' solutions)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.relpose-installed
# The 2D detector (MediaPipe, numpy < 2) lives in its own environment: make detect-env.
DETECT_VENV ?= .venv-detect
DETECT_STAMP := $(DETECT_VENV)/.relpose-installed
export MPLBACKEND ?= Agg

.PHONY: demo claims wild-model yardsticks detect-env detect-env-for-tests wild test unit notebooks solutions browser-deps bench refresh-notebooks normalise-notebooks check-notebooks clean-data

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "relpose needs Python 3.10 or newer, found " + sys.version.split()[0] + ": run make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# mediapipe==0.10.21 has wheels for Python 3.9-3.12 only; the kit itself is installed without its
# dependencies (no torch), so that `python -m relpose.wild.detect` runs there.
$(DETECT_STAMP): requirements-detect.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else "the detector (mediapipe 0.10.21) needs Python 3.10 to 3.12, found " + sys.version.split()[0] + ": run make detect-env PYTHON=python3.12")'
	@test -x $(DETECT_VENV)/bin/python || $(PYTHON) -m venv $(DETECT_VENV)
	$(DETECT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-detect.txt
	$(DETECT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

detect-env: $(DETECT_STAMP)

# A person in your own video, the whole way: detect (MediaPipe, its own environment) -> one person per
# frame, gaps filled -> data/data_2d_custom_NAME.npz -> lift (the in-the-wild model the kit ships,
# relpose/data/models/wild-quick.bin, or CHECKPOINT=...) -> wild/NAME.mp4 (video + 2D beside the 3D), wild/NAME.npy, wild/NAME.html.
#   make wild VIDEO=clip.mp4 [NAME=clip] [START=frame] [LIMIT=frames] [CHECKPOINT=path] [GIF=1] [OVERWRITE=1] [REDETECT=1]
# NAME defaults to the video's file name without its extension ('my clip.mp4' -> my_clip).
# Detection is skipped when data/data_2d_custom_NAME.npz exists; REDETECT=1 detects again (replacing that
# file). OVERWRITE=1 replaces wild/NAME.* only, never the keypoint file. Two decisions, two variables.
# The values given on make's command line reach Python (relpose.cli.wild_make) through the environment,
# unexpanded ($(value ...)), never through a shell or make's word functions: a file name with spaces,
# quotes, $, ;, | or a backtick is a file name, and nothing in it runs. They are not exported as
# themselves (a recipe's environment would expand them).
WILD_VARIABLES := VIDEO NAME START LIMIT CHECKPOINT GIF OVERWRITE REDETECT WILD_DIR
unexport $(WILD_VARIABLES)
wild_value = $(if $(filter command line,$(origin $1)),$(value $1))
KIT_MAKEFILE := $(abspath $(lastword $(MAKEFILE_LIST)))
wild: export RELPOSE_WILD_VIDEO = $(call wild_value,VIDEO)
wild: export RELPOSE_WILD_NAME = $(call wild_value,NAME)
wild: export RELPOSE_WILD_START = $(call wild_value,START)
wild: export RELPOSE_WILD_LIMIT = $(call wild_value,LIMIT)
wild: export RELPOSE_WILD_CHECKPOINT = $(call wild_value,CHECKPOINT)
wild: export RELPOSE_WILD_GIF = $(call wild_value,GIF)
wild: export RELPOSE_WILD_OVERWRITE = $(call wild_value,OVERWRITE)
wild: export RELPOSE_WILD_REDETECT = $(call wild_value,REDETECT)
wild: export RELPOSE_WILD_DIR = $(call wild_value,WILD_DIR)
wild: export RELPOSE_WILD_DETECT_VENV = $(DETECT_VENV)
wild: export RELPOSE_WILD_PYTHON = $(PYTHON)
wild: export RELPOSE_WILD_MAKE = $(MAKE)
wild: export RELPOSE_WILD_MAKEFILE = $(KIT_MAKEFILE)
wild: $(STAMP)
	@$(BIN)/python -m relpose.cli.wild_make

demo: $(STAMP)
	$(BIN)/python -m relpose.cli.demo

# The paper's claims decided over ten seeds (relpose.lab.claims): trains the four encodings, the three stages and
# an equal-epoch single stage per seed in two processes (about 75 minutes on 2 cores), writes results/claims_quick.json
# after every seed (an interrupted run resumes from it) and prints the verdicts.
claims: $(STAMP)
	$(BIN)/python -m relpose.lab.claims --workers 2

# The in-the-wild model the kit ships (relpose/data/models/wild-quick.bin, float16 weights, with its
# provenance): trained on the COCO keypoints of the broad synthetic set (-d synthwild) and of the Human3.6M-shaped
# set's training subjects if checkpoint/wild-synthwild-synth-quick has none (about 4 min on 2 cores, plus 10-20 s
# to make the sets).
# It is committed; OVERWRITE=1 makes it again.
wild-model: $(STAMP)
	$(BIN)/python -m relpose.cli.wild_model $(if $(filter 1,$(value OVERWRITE)),--overwrite)

# The plausibility checks' yardsticks (relpose/data/plausibility_yardsticks.json, printed beside every lift): the
# same checks on the synthetic test subjects' and the DeepMimic clips' truth and on the shipped and the quick
# model's lifts of them (relpose.lab.yardsticks; under a minute on 2 cores once the models exist). It is
# committed; make it again after the models are retrained, with OVERWRITE=1.
yardsticks: $(STAMP)
	$(BIN)/python -m relpose.cli.yardsticks $(if $(filter 1,$(value OVERWRITE)),--overwrite)

browser-deps: $(STAMP)
	@bash tests/browser/install_chromium.sh

# The detector's tests (tests/test_wild_detect.py) run in .venv-detect; where it cannot be built (mediapipe has
# wheels for Python 3.9-3.12 only) they are skipped, and this says so.
detect-env-for-tests:
	@$(MAKE) --no-print-directory detect-env || echo "warning: $(DETECT_VENV) could not be built; the detector's tests are skipped"

# The notebooks' stored outputs come from MKL's default code branch and quick mode's two threads (make
# refresh-notebooks). `make test` runs the notebooks under other settings, which change the last bits of
# training as another CPU does: their trained numbers must hold within the tolerance each cell states
# (relpose.lab.tolerance). Any setting may be given: make test NOTEBOOK_ENV="MKL_CBWR=AVX2 OMP_NUM_THREADS=2".
NOTEBOOK_ENV ?= MKL_CBWR=AVX2 OMP_NUM_THREADS=1
NBVAL := --nbval notebooks --ignore=notebooks/solutions --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout=900
# The exercises' solutions (notebooks/solutions/NN_topic.py, one function per exercise with its expected numbers)
# run after the notebooks, whose checkpoints they reuse, under the same settings.
SOLUTIONS := notebooks/solutions/test_solutions.py

test: $(STAMP) browser-deps detect-env-for-tests
	$(BIN)/python -m pytest -q --durations=10 tests
	env $(NOTEBOOK_ENV) $(BIN)/python -m pytest -q --durations=10 $(NBVAL)
	env $(NOTEBOOK_ENV) $(BIN)/python -m pytest -q --durations=5 $(SOLUTIONS)

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests

# The notebooks under your own settings, as you run them.
notebooks: $(STAMP)
	$(BIN)/python -m pytest -q $(NBVAL)

# The exercises' solutions under your own settings (they train what the notebooks have not yet).
solutions: $(STAMP)
	$(BIN)/python -m pytest -q $(SOLUTIONS)

# Re-run every notebook in quick mode and store its outputs (what nbval then checks).
refresh-notebooks: $(STAMP)
	$(BIN)/python -m relpose.cli.notebooks refresh notebooks/*.ipynb

# Rewrite the stored notebooks as JupyterLab saves them (after editing one by hand), and check them
# (normalised, static images beside figures and widgets, no machine paths; tests/test_notebooks_stored.py).
normalise-notebooks: $(STAMP)
	$(BIN)/python -m relpose.cli.notebooks normalise notebooks/*.ipynb

check-notebooks: $(STAMP)
	$(BIN)/python -m relpose.cli.notebooks check notebooks/*.ipynb

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_windows.py
