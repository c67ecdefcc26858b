"""The node processes of the whole-system tests: the cloud in one DDS domain, the link emulator
and the robot in another, all on the same-host shared-memory profile (``Stack`` specs)."""

from dedelayed_bringup.stack import NodeProcess
from dedelayed_bringup.transport.discovery import same_host_profile_env
from dedelayed_models.modeling import get_config


def robot_and_cloud(tmp_path, robot_domain_id, *, preset, seed, emulator=None, robot=None):
    """(cloud spec, [emulator spec, robot spec]); ``emulator`` / ``robot``: extra parameters."""
    config = get_config(preset)
    cloud_domain = robot_domain_id + 1
    profile = same_host_profile_env(str(tmp_path / "fastdds.xml"))
    robot_env = dict(profile, ROS_DOMAIN_ID=str(robot_domain_id))
    cloud = NodeProcess("cloud", module="dedelayed_remote.remote_node",
                        env=dict(profile, ROS_DOMAIN_ID=str(cloud_domain)),
                        parameters={"preset": preset, "seed": seed, "diagnostics_period_s": 0.5})
    robot_side = [
        NodeProcess("emulator", module="dedelayed_bringup.link_emulation.emulator_node", env=robot_env,
                    parameters={"robot_domain_id": robot_domain_id,
                                "cloud_domain_id": cloud_domain, **(emulator or {})}),
        NodeProcess("robot", module="dedelayed_local.robot_main", env=robot_env,
                    parameters={"preset": preset, "seed": seed, "backend": "onnxruntime",
                                "cache_dir": str(tmp_path), "diagnostics_period_s": 0.1,
                                "publish_overlay": False,
                                "remote_height": config.remote_hw[0],
                                "remote_width": config.remote_hw[1], **(robot or {})}),
    ]
    return cloud, robot_side
