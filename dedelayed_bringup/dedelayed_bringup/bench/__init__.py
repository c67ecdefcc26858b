"""The deployment benchmark: ``python -m dedelayed_bringup.bench --out bench_out/``.

It lives in bringup because it spans the robot (dedelayed_local), the cloud (dedelayed_remote)
and real node processes; the ROS-free pieces are in ``dedelayed_models.bench.deploy_bench``.
"""
