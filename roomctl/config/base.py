"""Building blocks shared by the configuration sections."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo

from roomctl.models import Slug as Slug


class Section(BaseModel):
    """A configuration table: frozen, unknown keys rejected, numbers finite (TOML's ``nan`` and ``inf`` are refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _existing_file(value: Path, info: ValidationInfo) -> Path:
    """Resolve a path relative to the configuration file's folder and require that the file exists."""
    base = (info.context or {}).get("base_dir")
    path = value if value.is_absolute() or base is None else Path(base) / value
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    return path


ExistingFile = Annotated[Path, AfterValidator(_existing_file)]
"""A file that must exist when the configuration is loaded (relative to the configuration file)."""
