"""The configuration reference in Markdown, generated from the models so the docs cannot drift from the code."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

BEGIN = "<!-- BEGIN GENERATED REFERENCE: roomctl config docs -->"
END = "<!-- END GENERATED REFERENCE -->"


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin is None:
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return " \\| ".join(f'"{m.value}"' for m in annotation)
        if annotation is Path:
            return "path"
        return getattr(annotation, "__name__", str(annotation)).replace("Strict", "").lower()
    name = getattr(origin, "__name__", str(origin))
    if name == "Literal":
        return " \\| ".join(json.dumps(a) for a in get_args(annotation))
    if name == "Annotated":
        return _type_name(get_args(annotation)[0])
    if name in ("list", "dict"):
        return f"{name}[{', '.join(_type_name(a) for a in get_args(annotation))}]"
    inner = " or ".join(_type_name(a) for a in args)
    return inner + (" (optional)" if len(args) < len(get_args(annotation)) else "")


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined:
        return "*required*" if field.default_factory is None else "see below"
    value = field.default
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path):
        value = str(value)
    return f"`{json.dumps(value)}`" if value is not None else "none"


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for inner in get_args(candidate):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _field_type(field: FieldInfo) -> str:
    """The field's type; a closed choice checked at validation (the wearable profiles) lists its names."""
    for meta in field.metadata:
        choices = getattr(meta, "choices", None)
        if callable(choices):
            return " \\| ".join(json.dumps(c) for c in choices())
    return _type_name(field.annotation)


def _limits(field: FieldInfo) -> str:
    words = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    parts = []
    for meta in field.metadata:
        for attr, sign in words.items():
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sign} {value}")
    return f" ({', '.join(parts)})" if parts else ""


def _section(title: str, model: type[BaseModel], out: list[str], is_list: bool = False, note: str = "") -> None:
    rows: list[str] = []
    nested: list[tuple[str, type[BaseModel], bool, str]] = []
    for name, field in model.model_fields.items():
        sub = _nested_model(field.annotation)
        if sub is not None:
            sub_title, sub_note = f"{title}.{name}", ""
            key = get_args(field.annotation)[0] if get_origin(field.annotation) is dict else None
            if isinstance(key, type) and issubclass(key, Enum):  # one table per member: [alarms.settable.<quantity>]
                sub_title += f".<{key.__name__.lower()}>"
                sub_note = field.description or ""
            nested.append((sub_title, sub, get_origin(field.annotation) is list, sub_note))
            continue
        desc = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | {_field_type(field)}{_limits(field)} | {_default(field)} | {desc} |")
    if rows:
        out += [f"### `[[{title}]]`" if is_list else f"### `[{title}]`", ""]
        doc = (model.__doc__ or "").strip().splitlines()
        if doc and not doc[0].startswith("A configuration table"):
            out += [doc[0], ""]
        if note:
            out += [note[0].upper() + note[1:] + ".", ""]
        out += ["| key | type | default | meaning |", "|---|---|---|---|", *rows, ""]
    for sub_title, sub, sub_is_list, sub_note in nested:
        _section(sub_title, sub, out, sub_is_list, sub_note)


def markdown_reference() -> str:
    from roomctl.config import RoomConfig

    out: list[str] = []
    for name, field in RoomConfig.model_fields.items():
        sub = _nested_model(field.annotation)
        if sub is not None:
            _section(name, sub, out, get_origin(field.annotation) is list)
    return "\n".join(out).rstrip() + "\n"


def splice(document: str, reference: str) -> str:
    """Replace the generated block between the markers in ``document``."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{reference}\n{END}{tail}"
