"""The report counts and draws "outside limits" against the limits in force at each moment (issue 22): a real Daemon on
a fake clock runs a session in which the patient's baseline becomes known and a limit is set; the report of its record
counts each reading against the limits of its moment and states the baseline it used."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import numpy as np
import pytest
from matplotlib.lines import Line2D

from roomctl.commands import EndSession, SetBaseline, SetLimit, StartSession
from roomctl.models import Priority, Quantity
from roomctl.report.data import load
from roomctl.report.render import figure
from roomctl.report.summary import summarise
from roomctl.storage.database import Database
from tests.daemon.restart_run import Run

HR = Quantity.HEART_RATE


async def test_outside_limits_follows_the_limits_in_force_and_the_report_states_the_baseline(tmp_path: Path) -> None:
    # the room: heart rate low 40 / high 140, following 0.8 / 1.4 x the baseline (proposed from the last 60 s)
    async with Run(tmp_path) as room:
        await room.send(StartSession())
        session_id = room.daemon.hub.state.session.id
        assert session_id is not None
        await room.hold(HR, 70, 64, device="strap")
        assert (await room.send(SetBaseline(action="confirm"))).ok  # baseline 70: limits 56-98 from 09:01:04
        await room.until(lambda: room.screen().limits_text(HR) == "56-98")
        assert room.limit(HR, "high", Priority.MEDIUM, "strap").limit == 98
        await room.hold(HR, 100, 30, device="strap")  # outside: above the derived 98 (not above the room's 140)
        set_at = room.clock.now()
        await room.send(SetLimit(quantity=HR, high=130))
        await room.hold(HR, 120, 30, device="strap")  # inside this session's 130
        await room.hold(HR, 135, 20, device="strap")  # outside: above 130 (not above 140)
        await room.hold(HR, 50, 10, device="strap")  # outside: below the derived 56 (not below 40)
        await room.send(EndSession())

    db = Database(tmp_path / "roomctl.db", readonly=True)
    record = load(db, session_id)
    stats = summarise(record).whole.stats[HR]
    assert stats.outside_s == pytest.approx(60, abs=2)  # 30 + 20 + 10 s; against the configured 40-140 it was 0
    (baseline,) = record.baselines
    assert (baseline.value, baseline.device, baseline.source) == (70, None, "confirmed")

    fig, _ = figure(record, tz=UTC)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    (header,) = [t for t in texts if "baseline used:" in t]
    assert "baseline used: heart rate 70 bpm (confirmed by the team, from 09:01)" in header
    assert f"limits set for this session: heart rate high 130 ({set_at:%H:%M})" in header
    hr_ax = fig.axes[1]
    limit_lines = [ln for ln in hr_ax.get_lines() if isinstance(ln, Line2D) and ln.get_linestyle() == ":"]
    drawn = {float(y) for ln in limit_lines for y in np.asarray(ln.get_ydata(), dtype=float) if not np.isnan(y)}
    assert {40.0, 56.0, 140.0, 98.0, 130.0} <= drawn  # the configured, then derived, then set limits, as they were


async def test_a_session_without_a_confirmed_baseline_is_judged_and_reported_against_the_rooms_limits(
    tmp_path: Path,
) -> None:
    async with Run(tmp_path) as room:
        await room.send(StartSession())
        session_id = room.daemon.hub.state.session.id
        assert session_id is not None
        await room.hold(HR, 70, 64, device="strap")  # proposed, never confirmed
        await room.hold(HR, 100, 30, device="strap")  # inside the room's 40-140
        await room.send(EndSession())
    record = load(Database(tmp_path / "roomctl.db", readonly=True), session_id)
    assert record.baselines == []
    assert summarise(record).whole.stats[HR].outside_s == 0
    fig, _ = figure(record, tz=UTC)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    (header,) = [t for t in texts if "baseline used:" in t]
    assert "baseline used: no confirmed baseline: the room's absolute limits (as configured or set)" in header
