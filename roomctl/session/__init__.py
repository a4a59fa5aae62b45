"""Sessions: kinds, the dosing timeline (phases, doses, breaks), manual vitals, reminders, resume after restart."""

from roomctl.commands import CommandRejected, parse_command
from roomctl.session.manager import SessionManager

__all__ = ["CommandRejected", "SessionManager", "parse_command"]
