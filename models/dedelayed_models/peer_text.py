"""Text a peer controls, made safe to put in a log line or /diagnostics.

A robot or a cloud writes some strings into the messages it sends (a model identity, a robot
namespace, a frame_id, an encoding name). Logged as they are, a newline forges a log line of
its own and an escape sequence rewrites the terminal. ``peer_text`` shows such a value the way
Python's ``repr`` shows a string (control and non-printable characters escaped, quotes kept
out) and bounds its length, so one log line stays one line with the value recognisable.
"""

MAX_PEER_TEXT = 80  # characters of a peer's string shown in a log line or diagnostics value


def peer_text(value, limit: int = MAX_PEER_TEXT) -> str:
    """``value`` as printable text of at most ``limit`` characters (plus the cut's note)."""
    text = str(value)
    cut = len(text) - limit
    if cut > 0:
        text = text[:limit]
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return shown + (f"...(+{cut} chars)" if cut > 0 else "")
