"""The agent of scripts/systemd-check: runs inside the booted Debian 12 container, as a unit, with the system's python3.

Runs the install steps of docs/operations.md literally (the marked blocks), then checks roomctl's units under the
container's real systemd, one result line each (``ok NAME: figures`` or ``FAIL NAME: why``) into /check/results, and
powers the container off. Standard library only: the container has nothing else outside roomctl's virtualenv.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import re
import select
import struct
import subprocess
import termios
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHECK = Path("/check")
RESULTS = CHECK / "results"
CONFIG = Path("/etc/roomctl/room.toml")
SOUND_FILE = Path("/var/lib/roomctl/alarm-sound.raw")  # /etc/asound.conf's pcm.roomctl_check writes here
UNIT = "roomctl.service"
TUI = "roomctl-tui.service"
ROOM_NAME = "Willow Room"  # config/room.example.toml's [room] name: the screen shows it
STATUS_TOPIC = "roomctl/harbor-clinic/willow/status"  # the example's topic_prefix / site / room
# The retained status the broker holds, read with the paho of roomctl's own virtualenv.
READ_STATUS = f"""
import paho.mqtt.client as mqtt, sys
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
c.on_message = lambda c, u, m: (print(m.payload.decode()), c.disconnect())
c.on_connect = lambda c, u, f, rc, p: c.subscribe("{STATUS_TOPIC}")
c.connect("127.0.0.1", 1883)
c.loop_forever()
"""

# What the installer's edit does here, the container being no Pi: mock pins, no wearables (no Bluetooth adapter), the
# alarm sound on the file device, MQTT to the container's own broker. Everything else stays as shipped.
EDITOR = r"""#!/usr/bin/python3
import re, sys
from pathlib import Path
p = Path(sys.argv[1])
t = p.read_text()
t = t.replace('pin_factory = "lgpio"', 'pin_factory = "mock"')
t = re.sub(r"\[\[wearables\]\]\n(?:(?!\[|# -).*\n)*", "", t)
t = t.replace("enabled = false                 # set true", "enabled = true                  # set true")
t = t.replace('host = "broker.clinic.lan"', 'host = "127.0.0.1"').replace("port = 8883", "port = 1883")
t += '\n[alarms.sound]\nalsa_device = "roomctl_check"\n'
p.write_text(t)
"""


def result(ok: bool, name: str, detail: str) -> bool:
    with RESULTS.open("a") as f:
        f.write(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}\n")
    return ok


def sh(
    cmd: str | list[str], *, check: bool = False, timeout: float = 120, **kw: Any
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, timeout=timeout, **kw)
    if check and done.returncode != 0:
        raise RuntimeError(f"{cmd!r} exited {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def show(unit: str, *props: str) -> dict[str, str]:
    out = sh(["systemctl", "show", unit, *[f"--property={p}" for p in props]], check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def wait_for(what: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(step)
    return None


def journal(*args: str) -> list[dict[str, Any]]:
    out = sh(["journalctl", "--no-pager", "-o", "json", *args], check=True).stdout  # a bad query fails, not "none"
    entries = []
    for line in out.splitlines():
        entry = json.loads(line)
        if isinstance(entry.get("MESSAGE"), list):  # journald gives non-UTF-8 messages as byte lists
            entry["MESSAGE"] = bytes(entry["MESSAGE"]).decode(errors="replace")
        entries.append(entry)
    return entries


def journal_cursor() -> str:
    """Where the whole journal is now (it always has entries: a unit's own may have none yet)."""
    (last,) = journal("-n1")
    return str(last["__CURSOR"])


def main_pid() -> int:
    return int(show(UNIT, "MainPID")["MainPID"])


def running_new(old_pid: int) -> int | None:
    s = show(UNIT, "MainPID", "ActiveState", "SubState")
    pid = int(s["MainPID"])
    return pid if pid not in (0, old_pid) and s["ActiveState"] == "active" and s["SubState"] == "running" else None


def install(blocks: dict[str, str]) -> bool:
    Path("/usr/local/bin/editor").write_text(EDITOR)
    Path("/usr/local/bin/editor").chmod(0o755)
    script = blocks["step 1, Debian 12"] + blocks["steps 2-5"]
    script = script.replace("/path/to/", "/check/dist/")
    commands = [line for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_FIND_LINKS="/wheels", PIP_DISABLE_PIP_VERSION_CHECK="1")
    start = time.monotonic()
    done = sh(["sh", "-e", "-x", "-c", script], env=env, cwd="/root", timeout=600)
    (CHECK / "install.log").write_text(done.stdout + done.stderr)
    took = time.monotonic() - start
    if done.returncode != 0:
        return result(
            False, "install", f"docs/operations.md's steps failed (exit {done.returncode}): {done.stderr[-600:]}"
        )
    said_ok = "OK:" in done.stdout
    return result(
        said_ok,
        "install",
        f"docs/operations.md steps 1-5 ran literally ({len(commands)} commands, {took:.0f} s, offline from a wheelhouse); "
        + ("config check as roomctl said OK" if said_ok else "config check did not say OK"),
    )


def check_ready() -> bool:
    s = show(UNIT, "Type", "ActiveState", "SubState", "StatusText", "ExecMainStartTimestampMonotonic",
             "ActiveEnterTimestampMonotonic")  # fmt: skip
    ready_s = (int(s["ActiveEnterTimestampMonotonic"]) - int(s["ExecMainStartTimestampMonotonic"])) / 1e6
    ok = s["Type"] == "notify" and s["SubState"] == "running" and s["StatusText"].startswith("monitoring")
    return result(ok, "ready", f"Type={s['Type']}, {s['ActiveState']} ({s['SubState']}) {ready_s:.2f} s after exec; "
                  f"STATUS={s['StatusText']!r}")  # fmt: skip


def check_sandbox() -> bool:
    pid = main_pid()
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    audio = sh(["getent", "group", "audio"], check=True).stdout.split(":")[2]
    groups = fields["Groups"].split()
    etc = sh(["nsenter", "-t", str(pid), "-m", "--", "touch", "/etc/roomctl/probe"])
    state = sh(
        [
            "nsenter",
            "-t",
            str(pid),
            "-m",
            "--",
            "sh",
            "-c",
            "touch /var/lib/roomctl/.probe && rm /var/lib/roomctl/.probe",
        ]
    )
    db = Path("/var/lib/roomctl/roomctl.db")
    sock = Path("/run/roomctl/api.sock")
    problems = []
    if fields["NoNewPrivs"].strip() != "1" or fields["Seccomp"].strip() != "2" or int(fields["CapEff"], 16) != 0:
        problems.append(
            f"NoNewPrivs {fields['NoNewPrivs'].strip()}, Seccomp {fields['Seccomp'].strip()}, CapEff {fields['CapEff'].strip()}"
        )
    if audio not in groups:
        problems.append(f"not in the audio group (groups {groups})")
    if etc.returncode == 0 or "Read-only" not in etc.stderr:
        problems.append(f"/etc writable in the unit's namespace ({etc.stderr.strip()!r})")
    if state.returncode != 0:
        problems.append(f"/var/lib/roomctl not writable: {state.stderr.strip()}")
    if not db.exists() or pwd.getpwuid(db.stat().st_uid).pw_name != "roomctl":
        problems.append("no roomctl.db owned by roomctl")
    if not sock.is_socket():
        problems.append("no API socket")
    return result(not problems, "sandbox", "; ".join(problems) or (
        f"no new privileges, seccomp on, no capabilities, groups {groups} (audio {audio}); roomctl.db and api.sock "
        f"written; /etc read-only in the unit ({etc.stderr.strip().split(': ')[-1]})"))  # fmt: skip


def check_screen(blocks: dict[str, str]) -> bool:
    """The screen unit as shipped, with a pty standing in for tty1: what it draws must reach the pty, not the journal."""
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    path = os.ttyname(slave)
    screen = pwd.getpwnam("roomctl-screen")
    os.chown(path, screen.pw_uid, screen.pw_gid)
    dropin = Path(f"/etc/systemd/system/{TUI}.d/systemd-check.conf")
    dropin.parent.mkdir(parents=True, exist_ok=True)
    dropin.write_text(f"[Service]\nTTYPath={path}\nDeviceAllow={path} rw\nTTYVTDisallocate=no\n")
    sh(["systemctl", "daemon-reload"], check=True)
    cursor = journal_cursor()
    done = sh(["sh", "-e", "-c", blocks["the screen"]])
    if done.returncode != 0:
        return result(False, "screen", f"docs/operations.md's screen step failed: {done.stderr.strip()[-400:]}")
    drawn = b""
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                drawn += os.read(master, 65536)
            except OSError:
                break
    text = re.sub(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]", b"", drawn).decode(errors="replace")
    logged = sum(len(str(e.get("MESSAGE", ""))) for e in journal("-u", TUI, f"--after-cursor={cursor}")
                 if e.get("_PID") != "1" and e.get("SYSLOG_IDENTIFIER") != "systemd")  # fmt: skip
    state = show(TUI, "ActiveState", "SubState")
    ok = ROOM_NAME in text and len(drawn) > 2000 and logged < 2000 and state["SubState"] == "running"
    return result(ok, "screen", f"{len(drawn)} bytes drawn on {path} in 12 s ({ROOM_NAME!r} "
                  f"{'shown' if ROOM_NAME in text else 'NOT shown'}), {logged} bytes of its output in the journal; "
                  f"{TUI} {state['ActiveState']} ({state['SubState']})")  # fmt: skip


def check_sigkill_and_sound() -> bool:
    pid = main_pid()
    SOUND_FILE.unlink(missing_ok=True)
    start = time.monotonic()
    os.kill(pid, 9)
    new = wait_for(lambda: running_new(pid), 60)
    took = time.monotonic() - start
    ok = result(new is not None, "restart after SIGKILL", f"active again {took:.1f} s after SIGKILL (RestartSec=2)")
    played = wait_for(lambda: SOUND_FILE.exists() and SOUND_FILE.stat().st_size > 0 and SOUND_FILE.stat().st_size, 30)
    failures = [
        e["MESSAGE"] for e in journal("-u", UNIT) if "sound" in e["MESSAGE"].lower() and "fail" in e["MESSAGE"].lower()
    ]
    sound_ok = bool(played) and not failures
    return result(sound_ok, "alarm sound", (f"the start-up self-test played under the unit as roomctl: {played} bytes "
                  "through aplay on ALSA device roomctl_check (a file PCM)") if sound_ok else
                  f"file {SOUND_FILE}: {played}; journal: {failures[:2]}") and ok  # fmt: skip


def check_watchdog() -> bool:
    pid = main_pid()
    start = time.monotonic()
    os.kill(pid, 19)  # SIGSTOP: the daemon stops pinging
    last_ping = int(show(UNIT, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"])
    new = wait_for(lambda: running_new(pid), 90, step=0.2)
    back_s = time.monotonic() - start
    kills = [e for e in journal("-u", UNIT) if "Watchdog timeout" in e["MESSAGE"]]
    if new is None or not kills:
        return result(False, "watchdog", f"new process {new}, watchdog lines {len(kills)} within 90 s of SIGSTOP")
    after_ping = (int(kills[-1]["__MONOTONIC_TIMESTAMP"]) - last_ping) / 1e6
    ok = 29.5 <= after_ping <= 31.5
    return result(ok, "watchdog", f"SIGSTOPped daemon killed {after_ping:.1f} s after its last ping (WatchdogSec=30; "
                  f"{kills[-1]['MESSAGE']!r}), a new one active {back_s:.1f} s after the stop")  # fmt: skip


def check_exit_2() -> bool:
    """A machine problem the restart cannot fix (lgpio without any GPIO chip): exit 2, no restart, the reason shown."""
    shipped = CONFIG.read_text()
    CONFIG.write_text(shipped.replace('pin_factory = "mock"', 'pin_factory = "lgpio"'))
    try:
        sh(["systemctl", "restart", UNIT])  # a manual restart sets NRestarts to 0: any automatic one counts
        failed = wait_for(lambda: show(UNIT, "ActiveState")["ActiveState"] == "failed", 30)
        time.sleep(5)  # RestartSec=2 twice over: a restart would have happened by now
        s = show(UNIT, "ActiveState", "ExecMainStatus", "NRestarts")
        status = sh(["systemctl", "status", "--no-pager", "-n", "5", UNIT]).stdout
        line = next((ln.strip() for ln in status.splitlines() if "lighting.pin_factory" in ln), "")
        warn = [e for e in journal("-u", UNIT, "-p", "warning") if "lighting.pin_factory" in e["MESSAGE"]]
        ok = bool(failed) and s["ActiveState"] == "failed" and s["ExecMainStatus"] == "2" and \
            s["NRestarts"] == "0" and bool(line) and bool(warn)  # fmt: skip
        return result(ok, "no restart on exit 2", f"{s['ActiveState']}, exit {s['ExecMainStatus']}, restarts "
                      f"{s['NRestarts']}; status shows {line[:170]!r}; at priority "
                      f"{warn[-1]['PRIORITY'] if warn else '-'} in the journal")  # fmt: skip
    finally:
        CONFIG.write_text(shipped)
        sh(["systemctl", "restart", UNIT])


def check_stop() -> bool:
    if not wait_for(lambda: show(UNIT, "SubState")["SubState"] == "running", 60):
        return result(False, "stop", "the daemon did not come back after the exit-2 check")
    safe = re.search(r"^safe_level = ([0-9.]+)", CONFIG.read_text(), re.MULTILINE)
    assert safe is not None
    cursor = journal_cursor()
    start = time.monotonic()
    done = sh(["systemctl", "stop", UNIT])
    took = time.monotonic() - start
    s = show(UNIT, "ExecMainStatus", "Result", "ActiveState")
    lines = [e["MESSAGE"] for e in journal("-u", UNIT, f"--after-cursor={cursor}")]
    lights = next((m for m in lines if "lights at the safe level" in m), "")
    levels = re.findall(r"=([0-9.,]+)", lights.split("msg=", 1)[-1].split('"')[1] if '"' in lights else "")
    values = [float(v) for group in levels for v in group.split(",") if v]
    status = sh(["/opt/roomctl/venv/bin/python3", "-c", READ_STATUS], timeout=20).stdout.strip()
    ok = done.returncode == 0 and s["ExecMainStatus"] == "0" and s["Result"] == "success" and bool(values) and \
        all(abs(v - float(safe.group(1))) < 0.006 for v in values) and status == "offline"  # fmt: skip
    return result(ok, "stop", f"systemctl stop took {took:.2f} s, exit {s['ExecMainStatus']} ({s['Result']}); "
                  f"lights {values} (safe_level {safe.group(1)}); MQTT {STATUS_TOPIC} = {status!r} (retained)")  # fmt: skip


def check_journal() -> bool:
    entries = [e for e in journal("-u", UNIT) if e.get("SYSLOG_IDENTIFIER") != "systemd"]
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.get("PRIORITY", "?")] = counts.get(e.get("PRIORITY", "?"), 0) + 1
    screen = [e for e in journal("-u", TUI) if e.get("SYSLOG_IDENTIFIER") != "systemd"]
    tracebacks = [
        e["MESSAGE"][:200] for e in entries + screen if "Traceback" in e["MESSAGE"] or "never retrieved" in e["MESSAGE"]
    ]
    unprefixed = [e["MESSAGE"][:120] for e in entries if e["MESSAGE"].startswith("<")]
    errors = [e["MESSAGE"][:160] for e in entries if int(e.get("PRIORITY", 6)) <= 3]
    (CHECK / "journal-roomctl.txt").write_text("\n".join(f"<{e.get('PRIORITY')}> {e['MESSAGE']}" for e in entries))
    ok = not tracebacks and not unprefixed
    return result(ok, "journal", f"{len(entries)} lines of roomctl by priority {dict(sorted(counts.items()))}, "
                  f"{len(screen)} of the screen; "
                  f"tracebacks {tracebacks[:2] or 'none'}; error lines: {errors[:3] or 'none'}")  # fmt: skip


def check_security() -> bool:
    figures = {}
    for unit in (UNIT, TUI):
        out = sh(["systemd-analyze", "security", "--no-pager", unit]).stdout
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\S+)", out)
        figures[unit] = f"{m.group(1)} {m.group(2)}" if m else "?"
    ok = all(v != "?" for v in figures.values())
    return result(ok, "systemd-analyze security", ", ".join(f"{u} {v}" for u, v in figures.items()) + " (live units)")


def check_full_disk() -> bool:
    """Issue 20 under the unit: /var/lib/roomctl on a 3 MiB tmpfs filled up while the daemon runs (docs/operations.md,
    "Reproduce a full disk under the unit"). The watchdog keeps being pinged (no restart, the same process), the alarm
    says what is wrong in words, and the record catches up once there is room again."""
    state = "/var/lib/roomctl"
    sh(["systemctl", "stop", UNIT])
    sh(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755,uid=roomctl,gid=roomctl", "roomctl-full", state], check=True)
    try:
        cursor = journal_cursor()
        sh(["systemctl", "start", UNIT], check=True)
        if not wait_for(lambda: show(UNIT, "SubState")["SubState"] == "running", 60):
            return result(False, "full disk", "the daemon did not start on the small disk")
        pid = main_pid()
        sh(["runuser", "-u", "roomctl", "--", "dd", "if=/dev/zero", f"of={state}/filler", "bs=4k"], timeout=60)
        full_at = time.monotonic()

        def said(words: str) -> bool:
            return any(words in e["MESSAGE"] for e in journal("-u", UNIT, f"--after-cursor={cursor}"))

        alarmed = wait_for(lambda: said("recording stopped: the disk is full"), 30, step=0.5)
        alarm_s = time.monotonic() - full_at
        time.sleep(max(0.0, 45 - (time.monotonic() - full_at)))  # past WatchdogSec=30: a missed ping would show
        s = show(UNIT, "NRestarts", "ActiveState", "MainPID", "StatusText")
        kept = s["NRestarts"] == "0" and s["ActiveState"] == "active" and s["MainPID"] == str(pid)
        Path(f"{state}/filler").unlink()
        freed_at = time.monotonic()
        caught_up = wait_for(lambda: said("storage is writing again"), 30, step=0.5)
        ok = bool(alarmed) and kept and bool(caught_up) and "unhealthy" not in s["StatusText"]
        return result(ok, "full disk", f"alarm 'recording stopped: the disk is full' {alarm_s:.1f} s after the disk "
                      f"filled; after 45 s full: {s['ActiveState']}, restarts {s['NRestarts']}, the same process "
                      f"{'yes' if s['MainPID'] == str(pid) else 'no'}, STATUS {s['StatusText'][:60]!r}; writing "
                      f"again {time.monotonic() - freed_at:.1f} s after space was freed" if caught_up else
                      "no 'storage is writing again' within 30 s of freeing space")  # fmt: skip
    finally:
        sh(["systemctl", "stop", UNIT])
        sh(["umount", state])


def main() -> None:
    RESULTS.write_text("")
    blocks: dict[str, str] = json.loads((CHECK / "blocks.json").read_text())
    try:
        if install(blocks):
            steps: list[Callable[[], bool]] = [
                check_ready,
                check_sandbox,
                lambda: check_screen(blocks),
                check_sigkill_and_sound,
                check_watchdog,
                check_exit_2,
                check_stop,
                check_journal,
                check_security,
                check_full_disk,
            ]
            for step in steps:
                try:
                    step()
                except Exception as e:  # one check's surprise is its failure, not the end of the others
                    result(False, getattr(step, "__name__", "check"), f"{type(e).__name__}: {e}")
                    (CHECK / "agent-errors.log").open("a").write(traceback.format_exc())
    finally:
        with RESULTS.open("a") as f:
            f.write("done\n")
        subprocess.run(["systemctl", "poweroff", "--no-block"])


if __name__ == "__main__":
    main()
