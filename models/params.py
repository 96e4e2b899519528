"""Every detector threshold from domain.md, with its shipped default.

Rules files (``deploy/config/rules.yaml``) and ``fenghuo.toml`` override these; a value that is
out of range stops start-up with an error that names it.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateCapParams(_Section):
    """Judicially protected rate: ``multiplier`` × one-year LPR (4 × 3.0 % = 12 %)."""

    lpr: float = Field(0.030, gt=0, lt=1)
    multiplier: float = Field(4.0, gt=0)
    per_type: dict[str, float] = Field(
        default_factory=dict, description="cap per institution_type, overriding multiplier × lpr"
    )

    def cap_for(self, institution_type: str | None) -> float:
        if institution_type is not None and institution_type in self.per_type:
            return self.per_type[institution_type]
        return round(self.multiplier * self.lpr, 10)


class ExposureLimit(_Section):
    """A single-client limit as a share of a base figure of the lender's latest record."""

    limit: float = Field(gt=0)
    base: str = Field("net_assets", pattern="^(net_assets|registered_capital)$")


def _default_single_client() -> dict[str, ExposureLimit]:
    return {
        "microcredit": ExposureLimit(limit=0.10, base="net_assets"),
        "pawn": ExposureLimit(limit=0.25, base="registered_capital"),
        "leasing": ExposureLimit(limit=0.30, base="net_assets"),
    }


class ConcentrationParams(_Section):
    single_client: dict[str, ExposureLimit] = Field(default_factory=_default_single_client)
    related_party_total: float = Field(
        0.15, gt=0, description="lender's related-party loans / net assets"
    )
    guarantee_single_debtor: float = Field(0.10, gt=0)
    guarantee_related_total: float = Field(0.15, gt=0)


class LeverageParams(_Section):
    guarantee_multiple: float = Field(10.0, gt=0)
    guarantee_multiple_small_micro: float = Field(15.0, gt=0)
    microcredit_nonstandard_borrowing: float = Field(1.0, gt=0)
    microcredit_bonds: float = Field(4.0, gt=0)
    leasing_risk_assets: float = Field(8.0, gt=0)


class LicensingParams(_Section):
    blocked_statuses: tuple[str, ...] = ("suspended", "revoked", "in_liquidation")
    unknown_is_unlicensed: bool = True


class EvergreeningParams(_Section):
    min_chain: int = Field(3, ge=2, description="extensions or rollovers of one loan")


class MultiLenderParams(_Section):
    min_lenders: int = Field(5, ge=2)
    window_days: float = Field(7.0, gt=0)


class VenueParams(_Section):
    lawful_modes: tuple[str, ...] = ("negotiated",)
    t_plus_days: int = Field(5, ge=1, description="trading days; exactly this many apart is lawful")
    holder_limit: int = Field(200, ge=1)
    holidays: tuple[date, ...] = ()


class EscalationParams(_Section):
    min_categories: int = Field(3, ge=2)
    window_days: float = Field(7.0, gt=0)


class RegionalClusterParams(_Section):
    min_institutions: int = Field(3, ge=2)
    window_days: float = Field(7.0, gt=0)
    categories: tuple[str, ...] = ("delinquency_spike", "compensation_spike", "guarantee_contagion")


class DetectorParams(_Section):
    """All detector parameters; ``version`` is stamped on every finding's detector."""

    version: str = "1"
    rate_cap: RateCapParams = RateCapParams()
    concentration: ConcentrationParams = ConcentrationParams()
    leverage: LeverageParams = LeverageParams()
    licensing: LicensingParams = LicensingParams()
    evergreening: EvergreeningParams = EvergreeningParams()
    multi_lender: MultiLenderParams = MultiLenderParams()
    venue: VenueParams = VenueParams()
    escalation: EscalationParams = EscalationParams()
    regional_cluster: RegionalClusterParams = RegionalClusterParams()
