"""Export one session's record: CSV (one row per reading, event or alarm event, in time order) or JSON.

CSV columns: ``ts, record, name, value, unit, device, quality, detail, seq`` — ``record`` is ``reading``, ``event``,
``alarm`` or ``music``; ``name`` the quantity, event kind, alarm condition or the track's "title — artist"; ``detail``
the event text and data, the alarm's action, priority and limit, or the track's file, playlist and phase. JSON:
``{"format", "version", "session", "readings", "rr_intervals", "events", "alarms", "music"}`` (``music``: what played
when, one entry per track started). Times are ISO-8601 UTC with milliseconds. Both are streamed, so an 8-hour session needs little memory.
Text is cleaned and spreadsheet formulas neutralised on the way out (:mod:`roomctl.report.clean`).
"""

from __future__ import annotations

import csv
import heapq
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from roomctl.errors import StorageError
from roomctl.models import AlarmEvent, iso_ms
from roomctl.music.record import tracks_played
from roomctl.report.clean import clean_json, csv_cell
from roomctl.storage.database import Database

FORMATS = ("csv", "json")
CSV_COLUMNS = ["ts", "record", "name", "value", "unit", "device", "quality", "detail", "seq"]


def _iso(ts: float) -> str:
    return iso_ms(datetime.fromtimestamp(ts, UTC))


def export(db: Database, session_id: str, fmt: str, out: TextIO) -> int:
    """Write the session to ``out``; returns the number of records written."""
    if db.session(session_id) is None:
        raise StorageError(f"no session '{session_id}' in {db.path} (roomctl session list shows them)")
    if fmt == "csv":
        return _csv(db, session_id, out)
    if fmt == "json":
        return _json(db, session_id, out)
    raise StorageError(f"unknown export format '{fmt}'; use one of: {', '.join(FORMATS)}")


def _csv_rows(db: Database, session_id: str) -> Iterator[tuple[float, int, list[Any]]]:
    Item = tuple[float, int, list[Any]]
    readings: Iterator[Item] = (
        (ts, seq, [_iso(ts), "reading", q, "" if v is None else v, unit, device, quality, "", seq])
        for seq, ts, device, q, v, unit, quality in db.readings(session_id)
    )
    events: Iterator[Item] = (
        (ts, seq, [_iso(ts), "event", ev, "", "", "", "", _detail(text, json.loads(data)), seq])
        for seq, _id, ts, ev, text, data in db.events(session_id)
    )
    alarms: list[Item] = []
    for seq, ts, action, payload in db.session_alarms(session_id):
        a = AlarmEvent.model_validate_json(payload).alarm
        detail = f"{action} {a.priority.value} {a.category.value}" + (
            f" limit {a.limit:g}" if a.limit is not None else ""
        )
        value = "" if a.value is None else a.value
        alarms.append((ts, seq, [_iso(ts), "alarm", a.condition, value, "", a.device or "", "", detail, seq]))
    music: list[Item] = [
        (
            t.ts,
            t.seq,
            [
                _iso(t.ts),
                "music",
                t.name,
                "",
                "",
                "",
                "",
                f"file={t.file}; playlist={t.playlist}; phase={t.phase}",
                t.seq,
            ],
        )
        for t in tracks_played(db.music(session_id))
    ]
    yield from heapq.merge(readings, events, alarms, music, key=lambda r: (r[0], r[1]))


def _detail(text: str | None, data: dict[str, Any]) -> str:
    parts = [text] if text else []
    parts += [f"{k}={v}" for k, v in data.items() if v is not None]
    return "; ".join(parts)


def _csv(db: Database, session_id: str, out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for _ts, _seq, row in _csv_rows(db, session_id):
        writer.writerow([csv_cell(cell) for cell in row])
        n += 1
    return n


def _json(db: Database, session_id: str, out: TextIO) -> int:
    row = db.session(session_id)
    assert row is not None
    session = {
        "id": row.id,
        "kind": row.session_kind,  # the export format's name (as in the database)
        "started_at": _iso(row.started_at),
        "ended_at": None if row.ended_at is None else _iso(row.ended_at),
        "state": json.loads(row.state),
        "phases": row.meta.get("phases", []),
        "alarm_rules": row.meta.get("alarm_rules", []),
    }
    out.write(
        '{"format": "roomctl-session", "version": 1,\n"session": ' + json.dumps(clean_json(session), ensure_ascii=False)
    )
    sections: dict[str, Iterator[dict[str, Any]]] = {
        "readings": (
            {"seq": s, "ts": _iso(ts), "device": d, "quantity": q, "value": v, "unit": u, "quality": ql}
            for s, ts, d, q, v, u, ql in db.readings(session_id)
        ),
        "rr_intervals": (
            {"seq": s, "ts": _iso(ts), "device": d, "intervals": json.loads(iv)}
            for s, ts, d, iv in db.rr_intervals(session_id)
        ),
        "events": (
            {"seq": s, "id": i, "ts": _iso(ts), "event": ev, "text": t, "data": json.loads(data)}
            for s, i, ts, ev, t, data in db.events(session_id)
        ),
        "alarms": ({"seq": s, **json.loads(p)} for s, _ts, _a, p in db.session_alarms(session_id)),
        "music": (
            {
                "seq": t.seq,
                "ts": _iso(t.ts),
                "phase": t.phase,
                "playlist": t.playlist,
                "title": t.title,
                "artist": t.artist,
                "file": t.file,
            }
            for t in tracks_played(db.music(session_id))
        ),
    }
    n = 0
    for name, items in sections.items():
        out.write(f',\n"{name}": [')
        for i, item in enumerate(items):
            out.write(("\n" if i == 0 else ",\n") + json.dumps(clean_json(item), ensure_ascii=False))
            n += 1
        out.write("]")
    out.write("}\n")
    return n
