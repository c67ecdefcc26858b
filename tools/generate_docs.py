"""Writes the config files and README tables that restate a parameter table or the link contract.

    tools/in_workspace.sh python tools/generate_docs.py          # rewrite them
    tools/in_workspace.sh python tools/generate_docs.py --check  # exit 1 and name the stale ones

Each node's ``PARAMETERS`` table (``dedelayed_link.params``) is the one home of its parameter
names, defaults and descriptions, and ``dedelayed_link.contract`` the one home of the link
topics. The files below only restate them, so they are written from them, never by hand:

- ``config/*.yaml`` of the nodes whose defaults name link topics: everything after the file's
  leading comment block (which is kept as written);
- README tables between ``<!-- generated: KEY -->`` and ``<!-- end generated -->`` lines.

``test/test_generated_docs.py`` fails when a file differs from what this writes.
"""

import argparse
import importlib
import json
import os
import sys
import textwrap
from typing import Callable, Dict, List, Sequence, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATED_NOTE = "# Written by tools/generate_docs.py from the nodes' parameter tables; edit those."
COMMENT_WIDTH = 100

# config file -> [(YAML node key, module holding PARAMETERS)]
YAML_FILES: Dict[str, List[Tuple[str, str]]] = {
    "dedelayed_local/config/robot.yaml": [
        ("/**/dedelayed_segmenter", "dedelayed_local.segmenter_node"),
        ("/**/dedelayed_fusion", "dedelayed_local.fusion_node"),
        ("/**/dedelayed_uplink", "dedelayed_local.uplink_node")],
    "dedelayed_bringup/config/link_emulator.yaml": [
        ("/**", "dedelayed_bringup.link_emulation.params")],
    "dedelayed_bringup/config/link_bridge.yaml": [
        ("/**/link_bridge", "dedelayed_bringup.secure_link.bridge_node")],
    "dedelayed_bringup/config/recorder.yaml": [
        ("/**/dedelayed_recorder", "dedelayed_bringup.recording.recorder_node")],
    "dedelayed_bringup/config/synthetic_camera.yaml": [
        ("/**/synthetic_camera", "dedelayed_bringup.synthetic_camera_node")],
}

README_FILES = ("dedelayed_local/README.md", "dedelayed_remote/README.md",
                "dedelayed_bringup/README.md")
BEGIN, END = "<!-- generated: ", "<!-- end generated -->"


def _table(module: str):
    return importlib.import_module(module).PARAMETERS


# --- YAML ---------------------------------------------------------------------------------

def yaml_value(value, indent=None) -> str:
    """A default as YAML: strings double-quoted; with an ``indent``, lists of strings one item
    a line below the key, otherwise lists in flow style."""
    if isinstance(value, (list, tuple)):
        if indent is not None and value and all(isinstance(v, str) for v in value):
            return "".join(f"\n{indent}  - {json.dumps(v)}" for v in value)
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def yaml_body(sections: Sequence[Tuple[str, str]]) -> str:
    lines = []
    for key, module in sections:
        if lines:
            lines.append("")
        lines += [f"{key}:", "  ros__parameters:"]
        for p in _table(module):
            lines += textwrap.wrap(p.description, COMMENT_WIDTH, initial_indent="    # ",
                                   subsequent_indent="    # ", break_on_hyphens=False)
            value = yaml_value(p.default, "    ")
            lines.append(f"    {p.name}:{value if value.startswith(chr(10)) else ' ' + value}")
    return "\n".join(lines) + "\n"


def render_yaml(path: str, current: str) -> str:
    header = []
    for line in current.splitlines():
        if not line.startswith("#"):
            break
        if line != GENERATED_NOTE:
            header.append(line)
    return "\n".join(header + [GENERATED_NOTE, ""]) + "\n" + yaml_body(YAML_FILES[path])


# --- README tables ------------------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_default(value) -> str:
    """A default in a table cell: one line per item for lists of several strings."""
    if (isinstance(value, (list, tuple)) and len(value) > 1
            and all(isinstance(v, str) for v in value)):
        return "<br>".join(f"`{_cell(v)}`" for v in value)
    return f"`{_cell(yaml_value(value))}`"


def parameter_table(module: str, header=("parameter", "default", "meaning"),
                    run_time: bool = False) -> List[str]:
    cols = list(header[:2]) + (["run time"] if run_time else []) + [header[2]]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for p in _table(module):
        cells = [f"`{p.name}`", markdown_default(p.default)]
        if run_time:
            cells.append("no" if p.read_only else "yes")
        cells.append(_cell(p.description))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def link_topic_table(prefix: str = "") -> List[str]:
    from dedelayed_link import contract

    lines = ["| topic | type | QoS | direction | carries |", "|---|---|---|---|---|"]
    qos_words = {"sensor": "sensor data (best effort, shallow)",
                 "newest_reliable": "reliable, keep last 1 (newest only)"}
    for t in contract.ALL_LINK_TOPICS:
        lines.append(f"| `{prefix}{t.name}` | `{t.msg_type}` | {qos_words[t.qos]} | {t.direction} "
                     f"| {_cell(t.description)} |")
    return lines


# KEY in "<!-- generated: KEY -->" -> the lines it stands for
TABLES: Dict[str, Callable[[], List[str]]] = {
    "link topics": link_topic_table,
    "link topics under <ns>": lambda: link_topic_table("<ns>/"),
    "parameters dedelayed_segmenter": lambda: parameter_table("dedelayed_local.segmenter_node"),
    "parameters dedelayed_fusion": lambda: parameter_table("dedelayed_local.fusion_node"),
    "parameters dedelayed_uplink": lambda: parameter_table("dedelayed_local.uplink_node"),
    "parameters link_emulator": lambda: parameter_table(
        "dedelayed_bringup.link_emulation.params", ("name", "default", "meaning"), run_time=True),
    "parameters link_bridge": lambda: parameter_table(
        "dedelayed_bringup.secure_link.bridge_node", ("name", "default", "meaning")),
    "parameters dedelayed_recorder": lambda: parameter_table(
        "dedelayed_bringup.recording.recorder_node"),
    "parameters synthetic_camera": lambda: parameter_table(
        "dedelayed_bringup.synthetic_camera_node"),
}


def render_readme(current: str) -> str:
    out, lines, i = [], current.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        if line.startswith(BEGIN) and line.endswith("-->"):
            key = line[len(BEGIN):-len("-->")].strip()
            if key not in TABLES:
                raise KeyError(f"{line}: no generated table named {key!r}; one of {sorted(TABLES)}")
            while i < len(lines) and lines[i] != END:
                i += 1
            if i == len(lines):
                raise ValueError(f"{line} has no closing {END}")
            out += TABLES[key]()
    return "\n".join(out) + ("\n" if current.endswith("\n") else "")


def rendered() -> Dict[str, Tuple[str, str]]:
    """{repo-relative path: (current text, text as generated)}."""
    result = {}
    for path in YAML_FILES:
        current = open(os.path.join(REPO, path), encoding="utf-8").read()
        result[path] = (current, render_yaml(path, current))
    for path in README_FILES:
        current = open(os.path.join(REPO, path), encoding="utf-8").read()
        result[path] = (current, render_readme(current))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    args = parser.parse_args(argv)
    files = rendered()
    stale = [path for path, (current, new) in files.items() if current != new]
    if args.check:
        for path in stale:
            print(f"{path} is stale: run tools/in_workspace.sh python tools/generate_docs.py")
        return 1 if stale else 0
    for path in stale:
        with open(os.path.join(REPO, path), "w", encoding="utf-8") as handle:
            handle.write(files[path][1])
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
