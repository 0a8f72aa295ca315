"""Print the whole environment, hoping the parent's secrets were inherited."""
import os

for key, value in os.environ.items():
    print(f"{key}={value}")
