"""What the local API tells a screen about the room (:class:`roomctl.api.protocol.RoomInfo`), made from its
configuration here in the daemon, so the wire protocol knows nothing of the configuration's models."""

from __future__ import annotations

from roomctl.api.protocol import LimitInfo, PhaseInfo, RoomInfo, WearableInfo
from roomctl.config import RoomConfig


def room_info(config: RoomConfig) -> RoomInfo:
    return RoomInfo(
        site=config.room.site,
        room=config.room.room,
        name=config.room.name or config.room.room,
        wearables=tuple(
            WearableInfo(id=w.id, label=w.label or w.id, profile=w.profile, stale_after_s=w.stale_after_s)
            for w in config.wearables
        ),
        scenes=tuple(config.lighting.scenes),
        phases=tuple(PhaseInfo(id=p.id, label=p.label) for p in config.session.phases),
        limits=tuple(
            LimitInfo(quantity=r.quantity, low=r.low, high=r.high, priority=r.priority) for r in config.alarms.rules
        ),
        audio_pause_s=config.alarms.audio_pause_s,
        break_standby_min=config.session.break_standby_min,
        music=config.music.enabled,
        adverse_categories=tuple(config.session.adverse_events.categories),
        adverse_actions=tuple(config.session.adverse_events.actions),
    )
