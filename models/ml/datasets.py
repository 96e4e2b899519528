"""Real public credit data mapped into the loan feature table, to check the default model
against published results. The data stays where it is; callers pass its directory.

- Yeh, I.-C. & Lien, C. (2009). *Default of credit card clients* (Taiwan, 2005). UCI Machine
  Learning Repository, CC BY 4.0. 30,000 cards; ``Y`` = default next month.
- Hofmann, H. (1994). *Statlog (German Credit Data)*. UCI Machine Learning Repository,
  CC BY 4.0. 1,000 loans; ``creditability`` good / bad.

Each set is mapped two ways: ``*_features`` fills the columns of ``FEATURE_NAMES`` that the
data can honestly fill (a card is a revolving loan at a local bank; months late are days past
due / 30; the bill is the outstanding balance) and leaves the rest at their neutral value;
``*_raw`` keeps every original column (one-hot for categories), the reference table the
published AUROCs were measured on, so a reader can tell a weak mapping from a weak model.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.errors import ArtifactError
from models.ml.features import FEATURE_INDEX, N_FEATURES, TYPICAL_RATE

TAIWAN_FILE = "uci_taiwan_credit_default.csv"
GERMAN_FILE = "uci_german_credit.csv"
#: Published AUROC range on the full original features (datasets README).
PUBLISHED_AUROC = {"taiwan": (0.77, 0.78), "german": (0.77, 0.80)}
_PAY = [f"X{i}" for i in range(6, 12)]  # repayment status, X6 = the latest month
_BILL = [f"X{i}" for i in range(12, 18)]


@dataclass(frozen=True)
class LabelledTable:
    """A feature table with labels (1 = default / bad) and the column names."""

    name: str
    X: np.ndarray
    y: np.ndarray
    columns: tuple[str, ...]


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise ArtifactError(f"dataset file {path.name} not found in {path.parent}")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _table(
    rows: list[dict[str, str]], fill: Callable[[dict[str, str], np.ndarray], None]
) -> np.ndarray:
    X = np.zeros((len(rows), N_FEATURES))
    for i, row in enumerate(rows):
        fill(row, X[i])
    return X


def _neutral_loan(x: np.ndarray, *, lender: str = "local_bank") -> None:
    """What the data cannot tell: a priced-as-usual loan at an active local bank."""
    x[FEATURE_INDEX["annual_rate"]] = TYPICAL_RATE[lender]
    x[FEATURE_INDEX[f"lender_{lender}"]] = 1.0
    x[FEATURE_INDEX["industry_missing"]] = 1.0
    x[FEATURE_INDEX["region_missing"]] = 1.0


def _taiwan_row(row: dict[str, str], x: np.ndarray) -> None:
    ix = FEATURE_INDEX
    _neutral_loan(x)
    limit = float(row["X1"])
    pay = [int(row[c]) for c in _PAY]
    bill = float(row[_BILL[0]])
    x[ix["log_principal"]] = math.log1p(limit)
    x[ix["term_years"]] = 1.0
    x[ix["dpd_months"]] = max(pay[0], 0)
    x[ix["utilisation"]] = max(bill, 0.0) / limit if limit > 0 else 0.0
    x[ix["prior_loans"]] = math.log1p(1)
    x[ix["prior_lenders"]] = 1.0
    x[ix["prior_overdues"]] = float(sum(p >= 1 for p in pay[1:]))
    x[ix["prior_max_dpd_months"]] = float(max(max(pay[1:]), 0))
    x[ix["log_total_outstanding"]] = math.log1p(max(bill, 0.0))
    x[ix["log_days_known"]] = math.log1p(180)


def taiwan_features(directory: Path) -> LabelledTable:
    rows = _read(Path(directory) / TAIWAN_FILE)
    X = _table(rows, _taiwan_row)
    y = np.array([int(r["Y"]) for r in rows])
    return LabelledTable("taiwan", X, y, tuple(FEATURE_INDEX))


def taiwan_raw(directory: Path) -> LabelledTable:
    rows = _read(Path(directory) / TAIWAN_FILE)
    columns = tuple(f"X{i}" for i in range(1, 24))
    X = np.array([[float(r[c]) for c in columns] for r in rows])
    y = np.array([int(r["Y"]) for r in rows])
    return LabelledTable("taiwan_raw", X, y, columns)


_GERMAN_COLLATERAL = {
    "real estate": "real_estate",
    "car or other, not in attribute Savings account/bonds": "vehicle",
    "building society savings agreement/ life insurance": "other",
}


def _german_row(row: dict[str, str], x: np.ndarray) -> None:
    ix = FEATURE_INDEX
    _neutral_loan(x)
    amount = float(row["credit_amount"])
    history = row["credit_history"]
    x[ix["log_principal"]] = math.log1p(amount)
    x[ix["term_years"]] = float(row["duration_in_month"]) / 12.0
    x[ix["utilisation"]] = 1.0
    x[ix["borrower_enterprise"]] = float(row["purpose"] == "business")
    collateral = _GERMAN_COLLATERAL.get(row["property"])
    if collateral is not None:
        x[ix[f"collateral_{collateral}"]] = 1.0
    if row["other_debtors_or_guarantors"] == "guarantor":
        x[ix["has_guarantee"]] = 1.0
        x[ix["collateral_guarantee"]] = 1.0
    credits = int(row["number_of_existing_credits_at_this_bank"])
    elsewhere = history.startswith("critical account") or row["other_installment_plans"] != "none"
    x[ix["prior_loans"]] = math.log1p(credits)
    x[ix["prior_lenders"]] = 1.0 + float(elsewhere)
    x[ix["prior_overdues"]] = float(history == "delay in paying off in the past")
    x[ix["outstanding_elsewhere_share"]] = 0.5 if elsewhere else 0.0
    x[ix["log_days_known"]] = math.log1p(365.0 * float(row["present_residence_since"]))


def german_features(directory: Path) -> LabelledTable:
    rows = _read(Path(directory) / GERMAN_FILE)
    X = _table(rows, _german_row)
    y = np.array([int(r["creditability"] == "bad") for r in rows])
    return LabelledTable("german", X, y, tuple(FEATURE_INDEX))


def german_raw(directory: Path) -> LabelledTable:
    rows = _read(Path(directory) / GERMAN_FILE)
    fields = [c for c in rows[0] if c != "creditability"]
    numeric = [c for c in fields if all(_is_number(r[c]) for r in rows)]
    columns: list[str] = list(numeric)
    levels = {c: sorted({r[c] for r in rows}) for c in fields if c not in numeric}
    for c, values in levels.items():
        columns.extend(f"{c}={v}" for v in values)
    X = np.zeros((len(rows), len(columns)))
    for i, r in enumerate(rows):
        for j, c in enumerate(numeric):
            X[i, j] = float(r[c])
        for c in levels:
            X[i, columns.index(f"{c}={r[c]}")] = 1.0
    y = np.array([int(r["creditability"] == "bad") for r in rows])
    return LabelledTable("german_raw", X, y, tuple(columns))


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
