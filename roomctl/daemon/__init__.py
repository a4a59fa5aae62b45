"""The daemon: services composed under supervision, systemd notification and watchdog, logs for journald."""
