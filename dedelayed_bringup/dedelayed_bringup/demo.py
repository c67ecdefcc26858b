"""`make demo`: the whole robot + cloud system over an emulated network on the synthetic world.

Until every part it needs has landed, this entry point says which parts are missing
instead of failing with a stack trace. Each part is one open issue of the project.
"""

import importlib.util
import sys

# (importable module, what it is) for every part the demo runs.
REQUIRED_PARTS = (
    ("dedelayed_msgs.msg", "FeatureMap / DelayReport messages (dedelayed_msgs)"),
    ("dedelayed_models.transport", "feature encodings float32/float16/int8"),
    ("dedelayed_models.modeling", "local segmenter, remote predictive model, fusion"),
    ("dedelayed_models.data.world", "synthetic driving world with exact labels"),
    ("dedelayed_models.evaluation", "mIoU and streaming evaluation"),
    ("dedelayed_remote.remote_node", "cloud node: remote predictive server"),
    ("dedelayed_local.robot_main", "robot nodes: local segmenter + fusion + uplink"),
    ("dedelayed_bringup.synthetic_camera_node", "synthetic camera playing the world in real time"),
    ("dedelayed_bringup.link_emulator_node", "link emulator between robot and cloud DDS domains"),
    ("dedelayed_bringup.demo_run", "demo runner: drive, record, report"),
)


def _importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def main(argv=None):
    missing = [(module, what) for module, what in REQUIRED_PARTS if not _importable(module)]
    if not missing:
        from dedelayed_bringup import demo_run
        return demo_run.main(argv)
    print("The Dedelayed demo cannot run yet; these parts have not landed:")
    for module, what in REQUIRED_PARTS:
        mark = "missing" if (module, what) in missing else "ok"
        print(f"  [{mark:>7}] {what}  ({module})")
    print("Track them in the project's issues; `make test` checks what exists so far.")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
