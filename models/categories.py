"""Closed vocabularies that appear in the contracts: categories, severities, feeds, kinds.

Each StrEnum holds exactly the ids of ``alert.schema.json`` so a typo fails at import, not in an
alert that a downstream system rejects.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """Risk scenario ids from the catalogue in domain.md."""

    USURIOUS_RATE = "usurious_rate"
    BORROWER_CONCENTRATION = "borrower_concentration"
    RELATED_PARTY_LENDING = "related_party_lending"
    DELINQUENCY_SPIKE = "delinquency_spike"
    EVERGREENING = "evergreening"
    MULTI_LENDER_BORROWING = "multi_lender_borrowing"
    LENDING_SURGE = "lending_surge"
    LOAN_ANOMALY = "loan_anomaly"
    DEFAULT_RISK = "default_risk"
    GUARANTEE_LEVERAGE = "guarantee_leverage"
    GUARANTEE_CONCENTRATION = "guarantee_concentration"
    GUARANTEE_CIRCLE = "guarantee_circle"
    GUARANTEE_CONTAGION = "guarantee_contagion"
    COMPENSATION_SPIKE = "compensation_spike"
    WASH_TRADE = "wash_trade"
    PRICE_MANIPULATION = "price_manipulation"
    VOLUME_ANOMALY = "volume_anomaly"
    PROHIBITED_TRADING_MODE = "prohibited_trading_mode"
    T_PLUS_5_VIOLATION = "t_plus_5_violation"
    HOLDER_LIMIT = "holder_limit"
    UNLICENSED_ACTIVITY = "unlicensed_activity"
    INSTITUTION_RISK_ESCALATION = "institution_risk_escalation"
    REGIONAL_CLUSTER = "regional_cluster"
    MODEL_DRIFT = "model_drift"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Order for comparisons: info < low < medium < high < critical."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = list(Severity)


class Feed(StrEnum):
    """The topics events come from; ``system`` is for alerts about the service itself."""

    LOANS = "loans"
    GUARANTEES = "guarantees"
    TRADES = "trades"
    INSTITUTIONS = "institutions"
    SYSTEM = "system"


class DetectorKind(StrEnum):
    RULE = "rule"
    STATISTICAL = "statistical"
    ML = "ml"
    NETWORK = "network"
    COMPOSITE = "composite"


class EntityType(StrEnum):
    INSTITUTION = "institution"
    BORROWER = "borrower"
    LOAN = "loan"
    GUARANTOR = "guarantor"
    GUARANTEE_NETWORK = "guarantee_network"
    PRODUCT = "product"
    ACCOUNT = "account"
    OWNER = "owner"
    REGION = "region"
    MODEL = "model"


class InstitutionType(StrEnum):
    MICROCREDIT = "microcredit"
    GUARANTEE = "guarantee"
    PAWN = "pawn"
    LEASING = "leasing"
    LOCAL_BANK = "local_bank"
    LOCAL_INSURER = "local_insurer"
    SECURITIES = "securities"
    FUTURES = "futures"
    TRADING_VENUE = "trading_venue"
    EQUITY_FUND = "equity_fund"
    PRIVATE_LENDING = "private_lending"
    OTHER = "other"


class LicenseStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    IN_LIQUIDATION = "in_liquidation"


#: Fujian's prefecture codes (domain.md, ``region_code``), in the order of the notice's table.
FUJIAN_PREFECTURES: tuple[str, ...] = (
    "350100",  # 福州
    "350200",  # 厦门
    "350300",  # 莆田
    "350400",  # 三明
    "350500",  # 泉州
    "350600",  # 漳州
    "350700",  # 南平
    "350800",  # 龙岩
    "350900",  # 宁德
    "350128",  # 平潭综合实验区
)

#: Systemic categories: they go to the coordination mechanism and the central bank too.
SYSTEMIC_CATEGORIES = frozenset({Category.REGIONAL_CLUSTER, Category.GUARANTEE_CONTAGION})
