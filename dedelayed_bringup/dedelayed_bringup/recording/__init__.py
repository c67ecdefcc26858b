"""Recording a drive: the ``recorder`` node (``recorder_node.py``) over ``topic_recorder.py``,
writing MCAP / rosbag2 files (``mcap_bag.py``).
"""
