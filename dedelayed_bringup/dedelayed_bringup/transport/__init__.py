"""Transport profiles: how ROS processes find each other across hosts (``discovery.py``: Fast DDS
unicast profiles, static peers, discovery server, same-host shared memory) and routed
network namespaces for testing them (``netns.py``).
"""
