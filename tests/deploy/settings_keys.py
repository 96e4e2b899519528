"""Which ``FENGHUO_*`` environment names a process reads, for checking the deploy files.

pydantic-settings ignores unknown variables (``extra="ignore"``), so a misspelt name in a
manifest would be silently lost: these checks walk the real settings classes instead.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from api.settings import ApiSettings
from stream.settings import WorkerSettings

#: Read by the code directly, not through a settings class.
PLAIN_NAMES = frozenset({"FENGHUO_CONFIG", "FENGHUO_VAR_DIR"})
PREFIX = "FENGHUO_"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside ``X``, ``X | None`` or ``Optional[X]``, else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def reads(settings: type[BaseModel], name: str) -> bool:
    """True when ``settings`` has the field that env var ``name`` sets."""
    if name in PLAIN_NAMES:
        return True
    if not name.startswith(PREFIX):
        return False
    model: type[BaseModel] | None = settings
    parts = name[len(PREFIX) :].lower().split("__")
    for i, part in enumerate(parts):
        if model is None or part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        model = _model_of(annotation) if i < len(parts) - 1 else None
    return True


def worker_reads(name: str) -> bool:
    return reads(WorkerSettings, name)


def api_reads(name: str) -> bool:
    return reads(ApiSettings, name)
