"""Robot side of Dedelayed: local segmenter + fusion + uplink nodes in one process.

    ros2 launch dedelayed_bringup robot.launch.py namespace:=robot1 cloud_address:=10.0.0.2 \
        image:=/cam/front/image_raw backend:=tensorrt device:=cuda
    ros2 launch dedelayed_bringup robot.launch.py namespace:=robot1 link:=zenoh \
        cloud_endpoint:=tls/cloud.example.org:7447 certs_dir:=/etc/dedelayed/certs

With no arguments it runs the shipped checkpoint (the params file's ``checkpoint:
shipped:world``, what `make demo` runs); ``checkpoint:=random`` asks for untrained weights.
Topics have fixed relative names: ``image:=`` remaps the camera input (default
/camera/image_raw), ``segmentation:=`` the output; a parent launch file's SetRemap,
PushROSNamespace and SetParameter reach every node. The three nodes are managed (lifecycle)
nodes: ``autostart`` (the params file's, default true) configures and activates them at
start-up; with autostart:=false, ``ros2 lifecycle set /robot1/dedelayed_segmenter configure``
and so on drive them (the segmenter first: it loads the model).

link:=dds (default, a LAN) joins the cloud over DDS; link:=zenoh also starts link_bridge, which
dials the cloud over mutual TLS with certs_dir/ca.pem and certs_dir/<namespace>.pem/.key
(link_certificates). With certs_dir given, FeatureMaps must be signed by certs_dir/cloud.pem.
The processes are described once in dedelayed_bringup/graph.py (the demo and the tests start
the same).

All node parameters come from `params_file` (default: dedelayed_local/config/robot.yaml). The
override arguments below default to empty and are passed on only when given, so a value in
your params file is obeyed unless you also give it here.
"""

from launch.substitutions import PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = (
    ("namespace", "", "robot namespace, e.g. robot1 (one per robot served by a cloud)"),
    ("params_file", PathJoinSubstitution([FindPackageShare("dedelayed_local"), "config",
                                          "robot.yaml"]), "robot parameter YAML"),
    ("image", "/camera/image_raw", "camera topic (sensor_msgs/Image) the robot segments: remaps "
                                   "its input 'image'"),
    ("segmentation", "", "remap the output dedelayed/segmentation to this topic; empty = not "
                         "renamed"),
    ("uplink", "in_process", "where the uplink node runs: in_process (the robot process) or "
                             "own_process"),
    ("cloud_address", "", "cloud host address(es), comma separated: DDS unicast peers "
                          "(no multicast); empty = default DDS discovery"),
    ("link", "dds", "robot-cloud link: dds (LAN) or zenoh (mutual TLS to cloud_endpoint)"),
    ("cloud_endpoint", "tls/localhost:7447", "link:=zenoh: the cloud's TLS endpoint to dial"),
    ("certs_dir", "", "link_certificates folder: ca.pem, <namespace>.pem/.key and cloud.pem "
                      "(FeatureMaps must be signed by it); empty = the params file's "
                      "feature_verify_key"),
)

# Launch arguments that override the same-named node parameter when given:
# (name, type, description).
OVERRIDES = (
    ("checkpoint", "str", "local/dedelayed checkpoint: a .pt file, shipped:world, "
                          "shipped:camvid or random"),
    ("onnx_path", "str", "robot ONNX graph"),
    ("engine_path", "str", "TensorRT engine file"),
    ("backend", "str", "tensorrt, onnxruntime, torch or auto"),
    ("device", "str", "cpu or cuda (torch / onnxruntime backends)"),
    ("max_feature_age_ms", "float", "older features are not fused [ms]; 0 = the largest delay "
                                    "the checkpoint was trained for"),
    ("remote_height", "int", "uplinked frame height [px]; 0 = the checkpoint's remote input"),
    ("remote_width", "int", "uplinked frame width [px]; 0 = the checkpoint's remote input"),
    ("autostart", "bool", "configure and activate the managed nodes at start-up"),
    ("use_sim_time", "bool", "use /clock"),
)


def processes(arg, overrides):
    """The robot's processes (graph.py) for the launch arguments: ``arg(name)`` is one's text,
    ``overrides`` the node parameters given."""
    from dedelayed_bringup.graph import robot_processes
    from dedelayed_link import SEGMENTATION_TOPIC

    segmentation = arg("segmentation")
    return robot_processes(
        namespace=arg("namespace"), params_files=[arg("params_file")], parameters=overrides,
        uplink_parameters=overrides, image=arg("image"), uplink=arg("uplink"),
        remappings={SEGMENTATION_TOPIC: segmentation} if segmentation else None,
        certs=arg("certs_dir"), link=arg("link"), cloud_endpoint=arg("cloud_endpoint"))


def generate_launch_description():
    from dedelayed_bringup.launch_arguments import launch_description

    return launch_description(ARGUMENTS, OVERRIDES, peers_argument="cloud_address",
                              peers_profile="dedelayed_robot_peers", processes=processes)
