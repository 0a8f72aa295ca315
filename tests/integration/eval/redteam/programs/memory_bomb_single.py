"""Ask for 8 GiB in one allocation."""
blob = bytearray(8 << 30)
print("ESCAPED: allocated", len(blob))
