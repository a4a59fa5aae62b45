"""The wearable profiles, derived from the vendor modules (:data:`roomctl.sensors.vendors.VENDOR_MODULES`).

One :class:`~roomctl.sensors.vendor.WearableProfile` per config ``profile`` name; each vendor module exports its own
in ``PROFILES``. The link driver (:mod:`roomctl.sensors.link`) is the same for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from roomctl.sensors.vendor import (
    OXIMETER_RULES,
    STRAP_RULES,
    Characteristic,
    ConditionRule,
    Notify,
    Poll,
    WearableProfile,
    sig,
)
from roomctl.sensors.vendors import VENDOR_MODULES

PROFILES: dict[str, WearableProfile] = {
    p.name: p for module in VENDOR_MODULES for p in getattr(module, "PROFILES", ()) if isinstance(p, WearableProfile)
}
PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)


def recognise(name: str | None, service_uuids: Iterable[str]) -> WearableProfile | None:
    """The profile an advertisement looks like; vendor name patterns win over generic service UUIDs."""
    uuids = list(service_uuids)
    by_name = [p for p in PROFILES.values() if p.matches_name(name)]
    if by_name:
        return by_name[0]
    return next((p for p in PROFILES.values() if p.recognises(None, uuids)), None)


__all__ = [
    "OXIMETER_RULES",
    "PROFILES",
    "PROFILE_NAMES",
    "STRAP_RULES",
    "Characteristic",
    "ConditionRule",
    "Notify",
    "Poll",
    "WearableProfile",
    "recognise",
    "sig",
]
