"""The demo: the whole robot + cloud system over an emulated network on the synthetic world,
recorded and scored (``python -m dedelayed_bringup.demo``, ``make demo``).

``run.py`` runs the drive; ``stack.py`` the processes; ``recorder.py`` records;
``scoring.py`` and ``report.py`` score and write the report; ``sweep.py`` sweeps round-trip times;
``video.py`` is the real clip ``--video`` plays instead of the world.
"""
