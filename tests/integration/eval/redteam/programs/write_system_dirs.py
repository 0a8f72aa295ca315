"""Write into /usr, /etc, /dev/shm, the root directory and the interpreter's site-packages."""
import os
import sysconfig

for directory in ("/usr", "/etc", "/dev/shm", "/", sysconfig.get_paths()["purelib"]):
    try:
        with open(os.path.join(directory, "planted.txt"), "w") as handle:
            handle.write("x")
        print("ESCAPED: wrote into", directory)
    except OSError as exc:
        print("BLOCKED", directory, type(exc).__name__)
