"""One end of the cross-host test: `talker` publishes std_msgs/String, `listener` waits for 3.

Run inside a network namespace by test_transport_netns.py; exits 0 once it has heard the
talker (listener) or when stopped (talker).
"""

import sys


def main(role: str) -> int:
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String

    rclpy.init()
    node = rclpy.create_node(f"netns_{role}")
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    heard = []
    try:
        if role == "talker":
            publisher = node.create_publisher(String, "cross_host", qos)
            count = 0
            while rclpy.ok():
                publisher.publish(String(data=f"hello {count} from the cloud namespace"))
                count += 1
                rclpy.spin_once(node, timeout_sec=0.1)
        else:
            node.create_subscription(String, "cross_host", lambda m: heard.append(m.data), qos)
            while rclpy.ok() and len(heard) < 3:
                rclpy.spin_once(node, timeout_sec=0.1)
            print(f"listener heard: {heard}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
