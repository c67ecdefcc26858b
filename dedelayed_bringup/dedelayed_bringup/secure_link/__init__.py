"""The secure robot-cloud link: Zenoh over mutual TLS between two DDS graphs.

``zenoh_link.py`` holds the keys, TLS and access-control configs, ``bridge_node.py`` the
``link_bridge`` node, ``link_certificates.py`` the CA, cloud and robot certificates.
"""
