#!/usr/bin/env python3
"""Prints the CPU time (user + system, in seconds) used so far by PID and all its descendants
(shoprecs with its embedded Postgres; nginx with its workers).

usage: cpu.py PID
"""
import os
import sys

root = int(sys.argv[1])
children, ticks = {}, {}
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        with open(f"/proc/{entry}/stat") as f:
            stat = f.read()
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3 of proc(5)
    pid = int(entry)
    children.setdefault(int(fields[1]), []).append(pid)
    ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
total, todo = 0, [root]
while todo:
    pid = todo.pop()
    total += ticks.get(pid, 0)
    todo += children.get(pid, [])
print(total / os.sysconf("SC_CLK_TCK"))
