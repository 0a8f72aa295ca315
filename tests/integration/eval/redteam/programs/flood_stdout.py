"""Print lines forever."""
while True:
    print("flood " * 100)
