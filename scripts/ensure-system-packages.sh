#!/bin/sh
# Install the system packages roomctl's demo and tests need, when they are missing.
# mosquitto: the MQTT broker the tests start per test; dbus-daemon: the private bus the BLE emulator runs on;
# tmux: the real terminal the TUI test uses; alsa-utils: aplay, which plays the alarm bursts;
# chromium and tesseract: the browser test of `roomctl central --serve`; mpd: the room's music (demo and tests).
set -eu
missing=""
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing="$missing mosquitto mosquitto-clients"
command -v dbus-daemon >/dev/null 2>&1 || missing="$missing dbus"
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"  # the nursing station's browser test (headless)
command -v tesseract >/dev/null 2>&1 || missing="$missing tesseract-ocr tesseract-ocr-eng"  # reads that page's screenshots
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"  # unit checks (tests/daemon/test_units.py)
command -v aplay >/dev/null 2>&1 || missing="$missing alsa-utils"  # audible alarms through ALSA (tests/signals/)
command -v mpd >/dev/null 2>&1 || [ -x /usr/bin/mpd ] || missing="$missing mpd"  # the room's music player (demo, tests/music/)
[ -z "$missing" ] && exit 0

echo "roomctl: installing system packages:$missing"
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "roomctl needs these Debian packages and cannot install them without root:$missing" >&2
  echo "Run:  sudo apt-get install -y$missing   and then try again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
  $SUDO apt-get update -qq && $SUDO apt-get install -y --no-install-recommends $missing; }
# The packaged broker must not hold port 1883 on a development machine; tests start their own.
if [ -z "${ROOMCTL_KEEP_SYSTEM_BROKER:-}" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  case "$missing" in *mosquitto*) $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true ;; esac
fi
