"""A ROS stamp (builtin_interfaces/Time) as integer nanoseconds, converted once at the edge.

Every node turns a message's stamp into ``int`` nanoseconds when the message arrives and back
into a Time message only when it writes one; in between, robot and cloud code carries one
representation. Integer arithmetic keeps an echoed stamp bit-exact (a float of seconds would not).
"""

NS_PER_S = 1_000_000_000


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time (or anything with ``sec`` and ``nanosec``) -> nanoseconds."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def ns_to_stamp(ns: int):
    """nanoseconds -> a builtin_interfaces/Time message."""
    from builtin_interfaces.msg import Time

    sec, nanosec = divmod(int(ns), NS_PER_S)
    return Time(sec=sec, nanosec=nanosec)
