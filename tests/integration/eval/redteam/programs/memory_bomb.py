"""Grow a list of megabyte strings without bound."""
hoard = []
while True:
    hoard.append("x" * (1 << 20))
