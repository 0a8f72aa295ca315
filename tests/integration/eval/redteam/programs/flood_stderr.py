"""Write to stderr forever, unbuffered."""
import os

chunk = b"E" * 65536
while True:
    os.write(2, chunk)
