# The workspace's front door. On a fresh machine (Debian 12 / CPython 3.11, no ROS):
#   make demo    the whole robot + cloud system on the synthetic world (sets itself up)
#   make test    setup + build + every test of every package
# PYTHON selects the interpreter for the venv (must be CPython 3.11, see tools/setup_workspace.py).
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: setup build test demo clean

setup:
	@$(PYTHON) tools/setup_workspace.py --python $(PYTHON)

build: setup

test: setup
	@tools/in_workspace.sh python -m pytest $(PYTEST_ARGS)

demo: setup
	@tools/in_workspace.sh python -m dedelayed_bringup.demo $(DEMO_ARGS)

clean:
	rm -rf build install log
