"""The node processes of the whole-system tests: the cloud in one DDS domain, the link emulator
and the robot in another, all on the same-host shared-memory profile. The robot and the cloud
come from the graph the launch files start (dedelayed_bringup.graph)."""

from dedelayed_bringup.graph import cloud_processes, robot_processes, with_domain
from dedelayed_bringup.stack import NodeProcess
from dedelayed_bringup.transport.discovery import same_host_profile_env
from dedelayed_models.modeling import get_config


def robot_and_cloud(tmp_path, robot_domain_id, *, preset, seed, emulator=None, robot=None):
    """(cloud spec, [emulator spec, robot spec]); ``emulator`` / ``robot``: extra parameters."""
    config = get_config(preset)
    cloud_domain = robot_domain_id + 1
    profile = same_host_profile_env(str(tmp_path / "fastdds.xml"))
    robot_env = with_domain(profile, robot_domain_id)
    weights = {"checkpoint": "random", "preset": preset, "seed": seed}
    [cloud] = cloud_processes(env=with_domain(profile, cloud_domain),
                              parameters={**weights, "diagnostics_period_s": 0.5})
    [robot_process] = robot_processes(
        env=robot_env, parameters={**weights, "backend": "onnxruntime",
                                   "cache_dir": str(tmp_path), "diagnostics_period_s": 0.1,
                                   "publish_overlay": False,
                                   "remote_height": config.remote_hw[0],
                                   "remote_width": config.remote_hw[1], **(robot or {})})
    robot_side = [
        NodeProcess("emulator", executable="dedelayed_bringup/link_emulator", env=robot_env,
                    parameters={"robot_domain_id": robot_domain_id,
                                "cloud_domain_id": cloud_domain, **(emulator or {})}),
        robot_process,
    ]
    return cloud, robot_side
