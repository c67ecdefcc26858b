"""`make demo`: the whole robot + cloud system over an emulated network on the synthetic world.

``python -m dedelayed_bringup.demo --help`` lists the flags; ``demo/run.py`` runs the drive,
records it and writes the report.
"""

import sys

from dedelayed_bringup.demo.run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
