# The workspace's front door. On a fresh machine (Debian 12 / CPython 3.11, no ROS):
#   make demo    the whole robot + cloud system on the synthetic world (sets itself up)
#   make test    setup + build + lint (ruff) + every test of every package (+ upstream ros2 launch)
#   make bench   deployment benchmark: robot latency, link bytes, cloud throughput, memory -> bench_out/
# PYTHON selects the interpreter for the venv (must be CPython 3.11, see tools/setup_workspace.py).
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: setup build test demo bench clean

setup:
	@$(PYTHON) tools/setup_workspace.py --python $(PYTHON)

build: setup

# Tests also get upstream launch/launch_ros/ros2cli from ../shared/ros-src where that folder
# exists (their launch tests skip where it does not); `make setup` never installs them.
test: setup
	@tools/in_workspace.sh python tools/install_upstream_launch.py
	@tools/in_workspace.sh ruff check .
	@tools/in_workspace.sh python -m pytest $(PYTEST_ARGS)

demo: setup
	@tools/in_workspace.sh python -m dedelayed_bringup.demo $(DEMO_ARGS)

bench: setup
	@nice -n 5 tools/in_workspace.sh python -m dedelayed_bringup.bench --out bench_out $(BENCH_ARGS)

clean:
	rm -rf build install log
