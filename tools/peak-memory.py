#!/usr/bin/env python3
"""Runs a command and reports its peak resident memory, split into anonymous memory (heap,
stacks: what the program allocates) and file-backed memory (pages of the memory-mapped LMDB
file, which the kernel may drop at any time). Samples /proc/PID/status every 5 ms.

    tools/peak-memory.py COMMAND [ARGS...]
"""
import subprocess, sys, time

def sample(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile"):
                    fields[k] = int(v.split()[0])
    except FileNotFoundError:
        pass
    return fields

p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
while p.poll() is None:
    for k, v in sample(p.pid).items():
        peak[k] = max(peak[k], v)
    time.sleep(0.005)
print(f"peak RSS {peak['VmRSS']/1024:.0f} MB = anonymous {peak['RssAnon']/1024:.0f} MB "
      f"+ mapped store file {peak['RssFile']/1024:.0f} MB (exit {p.returncode})")
sys.exit(p.returncode)
