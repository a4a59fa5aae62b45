#!/bin/sh
# Install the system packages a make target needs, when they are missing: `ensure-system-packages.sh demo` for
# `make demo`, `ensure-system-packages.sh test` (the default) for `make test` and the other developer targets.
# demo: dbus-daemon, the private bus the BLE emulator runs on; alsa-utils: aplay, which plays the alarm bursts;
# mpd: the room's music player.
# test, besides: mosquitto, the MQTT broker the tests start per test; tmux, the real terminal the TUI tests use;
# openssl, the tests' certificates; chromium and tesseract, the browser test of `roomctl central --serve`;
# systemd (systemd-analyze, the unit checks); mmdebstrap and systemd-container, scripts/systemd-check's container.
set -eu
target="${1:-test}"
case "$target" in demo|test) ;; *) echo "usage: $0 [demo|test]" >&2; exit 2 ;; esac
missing=""
command -v dbus-daemon >/dev/null 2>&1 || missing="$missing dbus"
command -v aplay >/dev/null 2>&1 || missing="$missing alsa-utils"  # audible alarms through ALSA (tests/sound/)
command -v mpd >/dev/null 2>&1 || [ -x /usr/bin/mpd ] || missing="$missing mpd"  # the room's music player (demo, tests/music/)
if [ "$target" = test ]; then
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing="$missing mosquitto mosquitto-clients"
  command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
  command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
  command -v chromium >/dev/null 2>&1 || missing="$missing chromium"  # the nursing station's browser test (headless)
  command -v tesseract >/dev/null 2>&1 || missing="$missing tesseract-ocr tesseract-ocr-eng"  # reads its screenshots
  command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"  # unit checks (tests/daemon/test_units.py)
  command -v mmdebstrap >/dev/null 2>&1 || missing="$missing mmdebstrap"  # scripts/systemd-check's Debian 12 rootfs
  command -v systemd-nspawn >/dev/null 2>&1 || missing="$missing systemd-container"  # ... booted with systemd-nspawn
fi
[ -z "$missing" ] && exit 0

echo "roomctl: installing system packages:$missing"
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "roomctl needs these Debian packages and cannot install them without root:$missing" >&2
  echo "Run as root:  apt-get install -y$missing   and then try again." >&2
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
