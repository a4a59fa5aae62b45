"""Vitals checks and adverse events in a real room: ``roomctl run`` with the screen in a real terminal (tmux, 80x24).

From the keyboard: a dosing session, a dose, a check (p, r, t: blood pressure, distress rating, temperature) and an
adverse event (A and one key per question, then text); the record in the database has them as the team entered them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.daemon.helpers import room_on_screen, type_adverse_event, type_temperature_and_distress


def events(db: Path, kind: str) -> list[tuple[str | None, dict[str, object]]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select text, data from events where event = ? order by ts, seq", (kind,)).fetchall()
    return [(text, json.loads(data)) for text, data in rows]


async def test_a_check_and_an_adverse_event_from_the_keyboard(tmp_path: Path) -> None:
    db = tmp_path / "roomctl.db"
    async with room_on_screen(tmp_path) as (_, tmux):
        await tmux.press("S", until=lambda s: "p preparation   d dosing   i integration" in s)
        await tmux.press("d", until=lambda s: "Phase: Arrival and baseline" in s and "vitals check in 30 min" in s)
        await tmux.press("d", until=lambda s: "Dose given now (T0)?" in s)
        await tmux.press("Enter", until=lambda s: "Dose anyway?" in s)  # the checklist is not ticked: asked once more
        screen = await tmux.press("y", until=lambda s: "since dose" in s and "vitals check in 15 min" in s)
        assert "r distress" in screen
        assert "A adverse" in screen

        await tmux.press("p", until=lambda s: "systolic/diastolic" in s)
        await tmux.press("128/82", "Enter", until=lambda s: "blood pressure 128/82" in s)
        await type_temperature_and_distress(tmux)
        await type_adverse_event(tmux, "brief nausea after the dose")
    ((text, check),) = events(db, "vitals_check")
    assert text == "vitals check done on time"  # early: before it was due
    assert check["blood_pressure"] == [128, 82]
    assert check["temperature"] == 37.4
    assert check["distress"] == 3
    assert events(db, "adverse_event") == [
        (
            "brief nausea after the dose",
            {
                "category": "nausea_or_vomiting",
                "severity": "mild",
                "action": "reassurance",
                "emergency_services": False,
            },
        )
    ]
