"""Summarise a py-spy ``--format raw`` recording (folded stacks) as CPU per reading: where the pipeline spends its time.

    .venv/bin/python bench/_pyspy_top.py /tmp/pipeline.txt --rate 250 --readings 2000 [--top 30]

Prints, per function, the *inclusive* time (the function and everything it calls) and the *self* time (samples where it
is the innermost frame), in µs per reading = samples / rate / readings. py-spy leaves idle samples out, so the total is
close to the process's CPU; time inside C code (sqlite3, json, sockets) is charged to the Python frame that called it.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+?)(?::\d+)?\)$")


def short(frame: str) -> str:
    """``Hub.publish (roomctl/hub.py:120)`` -> ``roomctl/hub.py:Hub.publish`` (line numbers dropped)."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "python3.11/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{match['func']}"


# Each sample goes to the first part whose marker appears anywhere in its stack (so the link's callback, which runs the
# decoder, the hub and the inline alarms, is "link", and what bleak does before calling it is "bleak").
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("local API server", ("roomctl/api/",)),
    ("MQTT publisher + paho", ("roomctl/mqtt/", "paho/")),
    ("storage writer + SQLite", ("roomctl/storage/",)),
    ("link: decode, hub, inline alarms", ("roomctl/sensors/",)),
    ("hub fan-out (other)", ("roomctl/hub.py",)),
    ("alarm tick", ("roomctl/alarms/",)),
    ("lighting", ("roomctl/lighting/",)),
    ("session", ("roomctl/session/",)),
    ("daemon (supervisor, watchdog)", ("roomctl/daemon/",)),
    ("bleak + dbus-fast receive", ("bleak/", "dbus_fast/")),
    ("executor threads (hand-off)", ("concurrent/futures/",)),
)
LOOP = "event loop: epoll + scheduling"


def part_of(names: list[str]) -> str:
    for part, markers in PARTS:
        if any(marker in name for name in names for marker in markers):
            return part
    return LOOP


def summarise(text: str) -> tuple[int, Counter[str], Counter[str], Counter[str], Counter[str]]:
    total = 0
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        threads[re.sub(r"^thread \(\d+\): ", "", frames[0]).strip()] += count
        names = [short(f) for f in frames[1:]]
        total += count
        parts[part_of(names)] += count
        for name in set(names):
            inclusive[name] += count
        if names:
            self_time[names[-1]] += count
    return total, inclusive, self_time, threads, parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--rate", type=float, required=True, help="py-spy's sampling rate (Hz)")
    parser.add_argument("--readings", type=int, required=True, help="readings in the recorded window")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="roomctl/", help="inclusive list: only frames containing this")
    args = parser.parse_args()
    total, inclusive, self_time, threads, parts = summarise(args.file.read_text())

    def us(samples: int) -> str:
        return f"{samples / args.rate / args.readings * 1e6:7.1f} µs"

    print(f"{total} samples = {us(total)} per reading in all")
    for thread, n in threads.most_common():
        print(f"  {us(n)}  thread {thread}")
    print("\nby part (first match in the stack):")
    for part, n in parts.most_common():
        print(f"  {us(n)}  {part}")
    print(f"\ninclusive (function + callees), frames matching {args.match!r}:")
    for name, n in [(k, v) for k, v in inclusive.most_common() if args.match in k][: args.top]:
        print(f"  {us(n)}  {name}")
    print("\nself (innermost frame):")
    for name, n in self_time.most_common(args.top):
        print(f"  {us(n)}  {name}")


if __name__ == "__main__":
    main()
