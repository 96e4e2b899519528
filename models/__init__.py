"""Plain-Python risk logic: events, findings, detectors, the engine. Never imports faust, kafka,
fastapi, sqlalchemy or prometheus_client, so the same code runs live, in backtests and training.
"""

from models.categories import Category, DetectorKind, EntityType, Feed, InstitutionType, Severity
from models.detector import Context, Detector, Partition
from models.engine import DetectorFailure, Outcome, RiskEngine
from models.errors import ArtifactError, InvalidEvent, InvalidParameter, ModelsError
from models.events import FeedEvent, Guarantee, Institution, Loan, Trade, parse_event
from models.findings import DetectorRef, Finding
from models.params import DetectorParams
from models.state import DictRegistry, DictStore, InstitutionRegistry, StateStore

__all__ = [
    "ArtifactError",
    "Category",
    "Context",
    "Detector",
    "DetectorFailure",
    "DetectorKind",
    "DetectorParams",
    "DetectorRef",
    "DictRegistry",
    "DictStore",
    "EntityType",
    "Feed",
    "FeedEvent",
    "Finding",
    "Guarantee",
    "Institution",
    "InstitutionRegistry",
    "InstitutionType",
    "InvalidEvent",
    "InvalidParameter",
    "Loan",
    "ModelsError",
    "Outcome",
    "Partition",
    "RiskEngine",
    "Severity",
    "StateStore",
    "Trade",
    "parse_event",
]
