"""The one bench tree: ``python -m dedelayed_bringup.bench --out bench_out/`` (``make bench``)
runs the deployment benchmark (``deploy.py``); every other benchmark that touches ROS or a
node's code is a module here too (README.md lists them with their commands).

It lives in bringup because it spans the robot (dedelayed_local), the cloud (dedelayed_remote)
and real node processes, over their public APIs; the ROS-free benchmarks of the models alone
stay in ``dedelayed_models.bench``.
"""
