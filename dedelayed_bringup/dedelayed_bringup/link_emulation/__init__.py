"""Link emulation: the ``link_emulator`` node that joins the robot's and the cloud's DDS domains
through a modelled network (delay, jitter, loss, bandwidth, outages).

``link_model.py`` is the network model, ``delivery_scheduler.py`` when each message is
delivered, ``params.py`` the parameter table, ``emulator_node.py`` the node.
"""
