"""Send a UDP datagram to an external address (1.1.1.1:53)."""
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    sock.sendto(b"\x00" * 12, ("1.1.1.1", 53))
    print("ESCAPED: datagram sent")
except OSError as exc:
    print("BLOCKED", type(exc).__name__)
