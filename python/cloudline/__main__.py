"""python -m cloudline ARGS...: runs the cloudline binary with ARGS."""

import os
import sys

from . import binary_path


def main():
    try:
        exe = binary_path()
    except FileNotFoundError as e:
        print(f"cloudline: {e}", file=sys.stderr)
        return 2
    os.execv(exe, [exe, *sys.argv[1:]])
    return 2  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main())
