"""One description per vital: unit, names, decimals, where it is shown, and how Home Assistant reads it.

Home Assistant's ``SensorEntityDescription`` habit: every table that used to say something about a quantity (the units,
the alarm texts' names, the screen's panels, the trends, the station's tile, the report's columns, the discovery
sensors) is derived from :data:`DESCRIPTIONS`. Adding a vital is a :class:`Quantity` member and its row here (and a
decoder, if a wearable measures it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Quantity(StrEnum):
    """Canonical quantities (design/contracts.md). Values are always in :data:`UNITS`."""

    HEART_RATE = "heart_rate"
    RR_INTERVALS = "rr_intervals"
    ENERGY_EXPENDED = "energy_expended"
    SPO2 = "spo2"
    PULSE_RATE = "pulse_rate"
    PERFUSION_INDEX = "perfusion_index"
    SPO2_FAST = "spo2_fast"
    PULSE_RATE_FAST = "pulse_rate_fast"
    SPO2_SLOW = "spo2_slow"
    PULSE_RATE_SLOW = "pulse_rate_slow"
    TEMPERATURE = "temperature"
    SYSTOLIC = "systolic"
    DIASTOLIC = "diastolic"
    MEAN_ARTERIAL_PRESSURE = "mean_arterial_pressure"
    BATTERY = "battery"


@dataclass(frozen=True, slots=True)
class HomeAssistant:
    """How a vital is announced to Home Assistant (checked against its tables in ``tests/mqtt/test_discovery.py``)."""

    icon: str | None = None
    device_class: str | None = None
    state_class: str = "measurement"


@dataclass(frozen=True, slots=True)
class VitalDescription:
    quantity: Quantity
    unit: str
    name: str  # in sentences, alarm texts and Home Assistant: "Heart rate"
    short: str  # on the screen's panels, the station's tiles and the report's columns: "HR"
    decimals: int = 0  # as shown (screen, station, report, Home Assistant's display precision)
    trend: bool = False  # the hub keeps a recent and a whole-session trend
    screen_span: float | None = None  # a panel on the room's screen, with this smallest sparkline scale
    station: bool = False  # one of the numbers on the nursing station's tile
    report_column: int | None = None  # a column of the report's summary table, in this order
    home_assistant: HomeAssistant | None = None  # a Home Assistant sensor (battery: per wearable, not here)


_HR, _SPO2 = HomeAssistant("mdi:heart-pulse"), HomeAssistant("mdi:water-percent")
_PR, _BP = HomeAssistant("mdi:pulse"), HomeAssistant("mdi:heart-box")

DESCRIPTIONS: dict[Quantity, VitalDescription] = {
    d.quantity: d
    for d in (
        VitalDescription(
            Quantity.HEART_RATE, "bpm", "Heart rate", "HR", trend=True, screen_span=20, station=True,
            report_column=0, home_assistant=_HR,
        ),
        VitalDescription(Quantity.RR_INTERVALS, "s", "RR intervals", "RR", decimals=3),
        VitalDescription(
            # no device class: Home Assistant's `energy` class is for its Energy dashboard and knows no kJ before
            # 2024.6 (2024.3: GJ, kWh, MJ, MWh, Wh); a body's energy expended is no meter reading either
            Quantity.ENERGY_EXPENDED, "kJ", "Energy expended", "Energy",
            home_assistant=HomeAssistant("mdi:fire", state_class="total_increasing"),
        ),
        VitalDescription(
            Quantity.SPO2, "%", "SpO2", "SpO2", trend=True, screen_span=6, station=True, report_column=2,
            home_assistant=_SPO2,
        ),
        VitalDescription(
            Quantity.PULSE_RATE, "bpm", "Pulse rate", "PR", trend=True, screen_span=20, report_column=1,
            home_assistant=_PR,
        ),
        VitalDescription(
            Quantity.PERFUSION_INDEX, "%", "Perfusion index", "PI", decimals=1, trend=True, screen_span=2,
            home_assistant=HomeAssistant("mdi:waveform"),
        ),
        VitalDescription(Quantity.SPO2_FAST, "%", "SpO2 (fast)", "SpO2 f", home_assistant=_SPO2),
        VitalDescription(Quantity.PULSE_RATE_FAST, "bpm", "Pulse rate (fast)", "PR f", home_assistant=_PR),
        VitalDescription(Quantity.SPO2_SLOW, "%", "SpO2 (slow)", "SpO2 s", home_assistant=_SPO2),
        VitalDescription(Quantity.PULSE_RATE_SLOW, "bpm", "Pulse rate (slow)", "PR s", home_assistant=_PR),
        VitalDescription(
            Quantity.TEMPERATURE, "°C", "Temperature", "Temp", decimals=1,
            home_assistant=HomeAssistant(device_class="temperature"),
        ),
        VitalDescription(Quantity.SYSTOLIC, "mmHg", "Systolic BP", "Sys", home_assistant=_BP),
        VitalDescription(Quantity.DIASTOLIC, "mmHg", "Diastolic BP", "Dia", home_assistant=_BP),
        VitalDescription(Quantity.MEAN_ARTERIAL_PRESSURE, "mmHg", "Mean BP", "MAP", home_assistant=_BP),
        VitalDescription(Quantity.BATTERY, "%", "Battery", "Batt"),
    )
}  # fmt: skip

UNITS: dict[Quantity, str] = {q: d.unit for q, d in DESCRIPTIONS.items()}
TREND_QUANTITIES: tuple[Quantity, ...] = tuple(q for q, d in DESCRIPTIONS.items() if d.trend)
SCREEN_VITALS: tuple[VitalDescription, ...] = tuple(d for d in DESCRIPTIONS.values() if d.screen_span is not None)
STATION_VITALS: tuple[VitalDescription, ...] = tuple(d for d in DESCRIPTIONS.values() if d.station)
REPORT_QUANTITIES: tuple[Quantity, ...] = tuple(
    d.quantity for d in sorted(DESCRIPTIONS.values(), key=lambda d: d.report_column or 0) if d.report_column is not None
)
