"""[session]: session defaults, the dosing phases and their scenes, the vitals-check schedule."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from roomctl.config.base import Section, Slug
from roomctl.models import ADVERSE_ACTIONS, ADVERSE_CATEGORIES, SessionKind


class PhaseConfig(Section):
    id: Slug
    label: str = Field(max_length=40)
    scene: str | None = Field(None, description="lighting scene for this phase")
    suggest_after_dose_min: float | None = Field(
        None, ge=0, le=1440, description="suggest this phase this many minutes after the first dose"
    )


def default_phases() -> list[PhaseConfig]:
    return [
        PhaseConfig(id="arrival", label="Arrival and baseline"),
        PhaseConfig(id="intentions", label="Intentions"),
        PhaseConfig(id="dose", label="Dose (T0)", suggest_after_dose_min=0),
        PhaseConfig(id="onset", label="Onset", suggest_after_dose_min=15),
        PhaseConfig(id="active", label="Active", suggest_after_dose_min=60),
        PhaseConfig(id="supplemental", label="Supplemental-dose window", suggest_after_dose_min=90),
        PhaseConfig(id="taper", label="Taper", suggest_after_dose_min=240),
        PhaseConfig(id="closing", label="Closing", suggest_after_dose_min=330),
        PhaseConfig(id="discharge", label="Discharge", suggest_after_dose_min=420),
    ]


class ChecklistItem(Section):
    id: Slug
    label: str = Field(min_length=1, max_length=60)


BASELINE_ITEM = "baseline"
"""The checklist item that ticks itself when the team confirms (or enters) the baseline."""


def default_checklist() -> list[ChecklistItem]:
    return [
        ChecklistItem(id="screening", label="medical and psychiatric screening reviewed"),
        ChecklistItem(id="medication", label="medication review done"),
        ChecklistItem(id=BASELINE_ITEM, label="baseline confirmed"),
        ChecklistItem(id="intentions", label="intentions and grounding reviewed"),
        ChecklistItem(id="ride_home", label="support person or ride home arranged"),
        ChecklistItem(id="recording_consent", label="consent for any recording"),
    ]


class DischargeConfig(Section):
    """When the screen offers the discharge check at the end of a dosing session, and what "near baseline" means."""

    offer_from_phase: Slug | None = Field(
        None, description='offer the check from this phase on (default: "taper" if there is one, else the last phase)'
    )
    steady_min: float = Field(30.0, ge=1, le=240, description="heart rate near the baseline for this long")
    heart_rate_within_bpm: float = Field(15.0, gt=0, le=60, description="near = within this of the baseline")
    systolic_within_mmhg: float = Field(20.0, gt=0, le=80, description="if blood pressure was entered")
    diastolic_within_mmhg: float = Field(15.0, gt=0, le=60, description="if blood pressure was entered")
    temperature_within_c: float = Field(0.5, gt=0, le=3, description="if temperature was entered")
    min_since_last_dose_min: float = Field(
        180.0, ge=0, le=720, description="ready no sooner than this after the last dose, initial or supplemental"
    )
    blood_pressure_within_min: float = Field(
        30.0, gt=0, le=240, description="a blood pressure for discharge: taken after the last dose and this recently"
    )


class CheckStep(Section):
    """One row of the vitals-check schedule: until this long after the last dose, a check every ``every_min``."""

    until_min_after_dose: float = Field(gt=0, le=1440, description="this row holds until this long after the last dose")
    every_min: float = Field(ge=1, le=240, description="a check this often")


def default_check_schedule() -> list[CheckStep]:
    return [CheckStep(until_min_after_dose=120, every_min=15)]


class ChecksConfig(Section):
    """The vitals checks of a dosing session: a schedule by time since the last dose (initial or supplemental; after the
    last row, and before the first dose, ``[session] vitals_check_interval_min``), the grace before a check is overdue,
    and what a check needs. Default: every 15 min for 2 h after a dose (the first peak), then every 30 min."""

    schedule: list[CheckStep] = Field(
        default_factory=default_check_schedule,
        description="rows in order of until_min_after_dose; after the last one, vitals_check_interval_min",
    )
    overdue_after_min: float = Field(
        10.0, ge=1, le=120, description="a check not done this long after it was due is OVERDUE (done within: on time)"
    )
    temperature_required: bool = Field(
        True, description="a check is done with a blood pressure and a temperature (false: the blood pressure alone)"
    )

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        untils = [s.until_min_after_dose for s in self.schedule]
        if untils != sorted(set(untils)):
            shown = ", ".join(f"{u:g}" for u in untils)
            raise ValueError(f"schedule rows go in increasing until_min_after_dose, each once (given: {shown})")
        return self


class AdverseEventsConfig(Section):
    """The lists an adverse event is recorded from (the screen's ``A``: one key each, so nine at most). The ids may
    go on MQTT with the event's kind, severity and time; what the team types beside them stays on the Pi."""

    categories: list[Slug] = Field(
        default_factory=lambda: list(ADVERSE_CATEGORIES), min_length=1, max_length=9, description="what happened"
    )
    actions: list[Slug] = Field(
        default_factory=lambda: list(ADVERSE_ACTIONS), min_length=1, max_length=9, description="what the team did"
    )

    @model_validator(mode="after")
    def _once_each(self) -> Self:
        for name, ids in (("categories", self.categories), ("actions", self.actions)):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{name}: listed twice: {', '.join(dupes)}")
        return self


class SessionConfig(Section):
    default_kind: SessionKind = SessionKind.DOSING
    vitals_check_interval_min: float = Field(
        30.0,
        ge=1,
        le=240,
        description="a vitals check this often before the first dose and after the last row of [session.checks]",
    )
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    adverse_events: AdverseEventsConfig = Field(default_factory=AdverseEventsConfig)
    break_standby_min: float = Field(
        10.0, ge=1, le=30, description="a break's monitoring standby (wearables off) lasts at most this long"
    )
    phases: list[PhaseConfig] = Field(default_factory=default_phases)
    discharge: DischargeConfig = Field(default_factory=DischargeConfig)
    checklist: list[ChecklistItem] = Field(
        default_factory=default_checklist,
        max_length=9,
        description="the pre-dose checklist the team ticks on the screen (keys 1-9); the item 'baseline' ticks itself "
        "when the baseline is confirmed; empty: no checklist",
    )
    supplemental_from_min: float = Field(
        90.0, ge=0, le=720, description="a supplemental dose is expected from this many minutes after the initial dose"
    )
    supplemental_to_min: float = Field(
        150.0,
        ge=0,
        le=720,
        description="... until this many; one marked outside the window is warned about and recorded so",
    )

    @property
    def discharge_phase(self) -> str:
        """The phase from which the discharge check is offered."""
        ids = [p.id for p in self.phases]
        if self.discharge.offer_from_phase is not None:
            return self.discharge.offer_from_phase
        return "taper" if "taper" in ids else ids[-1]

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = [p.id for p in self.phases]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"phase id(s) used twice: {', '.join(dupes)}")
        if not self.phases:
            raise ValueError("at least one phase is needed")
        items = [i.id for i in self.checklist]
        dupes = sorted({i for i in items if items.count(i) > 1})
        if dupes:
            raise ValueError(f"checklist item id(s) used twice: {', '.join(dupes)}")
        if self.supplemental_from_min >= self.supplemental_to_min:
            raise ValueError(
                f"supplemental_from_min {self.supplemental_from_min:g} must be below supplemental_to_min"
                f" {self.supplemental_to_min:g}"
            )
        offer = self.discharge.offer_from_phase
        if offer is not None and offer not in ids:
            raise ValueError(f"discharge.offer_from_phase '{offer}' is not one of the phases: {', '.join(ids)}")
        return self
