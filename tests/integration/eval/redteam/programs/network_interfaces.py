"""List network interfaces: anything but loopback would be a way out."""
import socket

names = [name for _, name in socket.if_nameindex()]
if any(name != "lo" for name in names):
    print("ESCAPED: interfaces", names)
print("interfaces", names)
