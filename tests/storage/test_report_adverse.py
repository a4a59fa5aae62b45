"""The adverse events in the report (a table after the alarms, a mark on the heart-rate chart) and in the export."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from matplotlib.table import Table

from roomctl.report.data import load
from roomctl.report.export import export
from roomctl.report.render import figure
from roomctl.report.synthetic import ADVERSE, ADVERSE_MIN, fill_database
from roomctl.storage.database import Database
from tests.storage.helpers import T0


def test_the_report_has_the_adverse_event_in_a_table_and_on_the_chart(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    db = Database(tmp_path / "room.db")
    sid = fill_database(db, T0, hours=5.0, rate_hz=0.2, seed=2)
    rec = load(db, sid)
    out = io.StringIO()
    export(db, sid, "json", out)
    db.close()
    fig, _ = figure(rec, tz=UTC)
    fig.canvas.draw()
    fig.savefig(tmp_path / "report.png", dpi=100)
    tables = [(ax.get_title(loc="left"), t) for ax in fig.axes for t in ax.tables if isinstance(t, Table)]
    (table,) = [t for title, t in tables if title == "Adverse events (1)"]
    cells = {(r, c): cell.get_text().get_text() for (r, c), cell in table.get_celld().items()}
    at = T0.timestamp() + ADVERSE_MIN * 60
    assert [cells[(1, c)] for c in range(6)] == [
        f"{datetime.fromtimestamp(at, UTC):%H:%M}",
        "anxiety or panic",
        "moderate",
        "grounding",
        "no",
        "panic wave at the peak, settled with breathing",
    ]
    hr = fig.axes[1]
    assert any(t.get_text() == " AE" for t in hr.texts)
    plt.close(fig)
    events = [e for e in json.loads(out.getvalue())["events"] if e["event"] == "adverse_event"]
    assert [e["data"] for e in events] == [ADVERSE]
