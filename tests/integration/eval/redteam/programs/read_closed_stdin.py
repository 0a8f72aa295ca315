"""Read stdin that was never given."""
data = input("enter a number")
print("ESCAPED: read", repr(data))
