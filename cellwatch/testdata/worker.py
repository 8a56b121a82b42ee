# A stand-in kernel for the real-process tests: one command per stdin line,
# "ok ..." on stdout when done.
import multiprocessing as mp
import os
import sys

held = []
opened = []
children = []


def child(mb, ready, stop):
    block = b"x" * (mb << 20)  # written, so resident
    ready.set()
    stop.wait()
    del block


def main():
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "alloc":
            held.append(b"x" * (int(args[0]) << 20))
            print("ok", flush=True)
        elif cmd == "free":
            held.clear()
            print("ok", flush=True)
        elif cmd == "read":
            f = open(args[0], "rb")
            while f.read(1 << 20):
                pass
            opened.append(f)  # kept open: the sampler lists it
            print("ok", flush=True)
        elif cmd == "child":
            ready, stop = mp.Event(), mp.Event()
            p = mp.get_context("fork").Process(target=child, args=(int(args[0]), ready, stop))
            p.start()
            ready.wait()
            children.append((p, stop))
            print("ok", p.pid, flush=True)
        elif cmd == "stop":
            for p, stop in children:
                stop.set()
                p.join()
            children.clear()
            print("ok", flush=True)
        elif cmd == "quit":
            return


if __name__ == "__main__":
    main()
