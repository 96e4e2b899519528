"""Regulatory rules: each checks one limit of domain.md on one event."""

from models.detector import Detector
from models.rules.concentration import GuaranteeConcentration, LenderConcentration
from models.rules.evergreening import Evergreening
from models.rules.leverage import GuaranteeLeverage
from models.rules.licensing import UnlicensedGuaranteeing, UnlicensedLending, UnlicensedTrading
from models.rules.rate_cap import UsuriousRate
from models.rules.venue import HolderLimit, ProhibitedTradingMode, TPlus5Violation

#: Rule detector classes, in the order the engine runs them.
RULE_DETECTORS: list[type[Detector]] = [
    UnlicensedLending,
    UsuriousRate,
    LenderConcentration,
    Evergreening,
    UnlicensedGuaranteeing,
    GuaranteeLeverage,
    GuaranteeConcentration,
    UnlicensedTrading,
    ProhibitedTradingMode,
    TPlus5Violation,
    HolderLimit,
]

__all__ = [
    "RULE_DETECTORS",
    "Evergreening",
    "GuaranteeConcentration",
    "GuaranteeLeverage",
    "HolderLimit",
    "LenderConcentration",
    "ProhibitedTradingMode",
    "TPlus5Violation",
    "UnlicensedGuaranteeing",
    "UnlicensedLending",
    "UnlicensedTrading",
    "UsuriousRate",
]
