# Source this (bash) to use the workspace that `make setup` built:
#     source tools/workspace_env.sh
# It activates .venv (which holds ROS 2 Jazzy from PyPI) and overlays install/ (and, where
# `make test` built it, build/upstream_ros/install: the upstream `ros2 launch` for tests).
# With a normal ROS 2 install you do not need it: `source install/setup.bash` instead.
_dedelayed_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$_dedelayed_root/.venv/bin/activate" ] || [ ! -f "$_dedelayed_root/install/setup.bash" ]; then
    echo "tools/workspace_env.sh: the workspace is not set up yet; run 'make setup' in $_dedelayed_root" >&2
    return 2 2>/dev/null || exit 2
fi
# shellcheck disable=SC1091
source "$_dedelayed_root/.venv/bin/activate"
export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export CMAKE_PREFIX_PATH="$VIRTUAL_ENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
# Where `make test` installed upstream launch/launch_ros/ros2cli (tools/install_upstream_launch.py),
# add their colcon-built part (composition_interfaces); the project's install/ goes on top.
if [ -f "$_dedelayed_root/build/upstream_ros/install/local_setup.bash" ]; then
    # shellcheck disable=SC1091
    source "$_dedelayed_root/build/upstream_ros/install/local_setup.bash" >/dev/null 2>&1
fi
# colcon's setup script notes that the venv has no local_setup file: harmless.
# shellcheck disable=SC1091
source "$_dedelayed_root/install/setup.bash" 2>/dev/null
unset _dedelayed_root
