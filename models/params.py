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
    warmup_hours: float = Field(
        12.0,
        ge=0,
        description="originations this soon after the lender's first record re-report the book",
    )
    max_loans: int = Field(64, ge=2, description="recent originations kept per borrower")


class VenueParams(_Section):
    lawful_modes: tuple[str, ...] = ("negotiated",)
    t_plus_days: int = Field(5, ge=1, description="trading days; exactly this many apart is lawful")
    holder_limit: int = Field(200, ge=1)
    holidays: tuple[date, ...] = ()


class EscalationParams(_Section):
    """``ignored_categories``: loan-level ML scores are probabilities, not breaches; a lender
    collects a few every week, so by default they don't count towards an escalation."""

    min_categories: int = Field(3, ge=2)
    window_days: float = Field(7.0, gt=0)
    ignored_categories: tuple[str, ...] = ("loan_anomaly", "default_risk", "model_drift")


class RegionalClusterParams(_Section):
    min_institutions: int = Field(3, ge=2)
    window_days: float = Field(7.0, gt=0)
    categories: tuple[str, ...] = ("delinquency_spike", "compensation_spike", "guarantee_contagion")


class GuaranteeNetworkParams(_Section):
    """guarantee_circle and guarantee_contagion over the guarantor -> debtor graph."""

    circle_guarantor_types: tuple[str, ...] = ("enterprise", "individual")
    max_cycle_length: int = Field(8, ge=2, description="guarantors in a reported cycle")
    max_search_nodes: int = Field(2000, ge=10, description="nodes one search may visit")
    contagion_depth: int = Field(4, ge=1, description="guarantor levels the distress reaches")
    contagion_decay: float = Field(
        0.5, gt=0, le=1, description="relative impact on a guarantor whose net assets are unknown"
    )
    contagion_min_exposure: float = Field(5_000_000.0, ge=0, description="CNY at risk")
    contagion_min_nodes: int = Field(3, ge=1, description="guarantors reached")


class WashTradeParams(_Section):
    """wash_trade: same owner on both sides, or a small cycle of accounts."""

    window_hours: float = Field(72.0, gt=0)
    min_cycle_accounts: int = Field(2, ge=2)
    max_cycle_accounts: int = Field(4, ge=2)
    quantity_tolerance: float = Field(0.02, ge=0, lt=1, description="relative to the new trade")
    price_tolerance: float = Field(0.05, ge=0, lt=1, description="relative to the new trade")
    max_trades: int = Field(256, ge=4, description="recent trades kept per product")


class NetworkParams(_Section):
    """Cross-entity detectors (models/network)."""

    guarantee: GuaranteeNetworkParams = GuaranteeNetworkParams()
    wash_trade: WashTradeParams = WashTradeParams()


class BaselineParams(_Section):
    """A per-entity baseline judged over a trailing window of event-time buckets.

    The level is an EWMA of the per-bucket rate (count / exposure); the scale is an EWMA of the
    absolute deviation of the trailing-window sum, floored by the Poisson standard deviation.
    """

    bucket_hours: float = Field(1.0, gt=0, description="event-time bucket length")
    window_hours: float = Field(24.0, gt=0, description="trailing window judged (whole buckets)")
    half_life_hours: float = Field(168.0, gt=0, description="EWMA half-life of level and scale")
    warmup_hours: float = Field(
        12.0, ge=0, description="since the entity's first event: the re-reported book, not judged"
    )
    min_baseline_hours: float = Field(48.0, ge=0, description="learning after warm-up")
    min_events: int = Field(0, ge=0, description="events seen in the baseline before judging")
    z_threshold: float = Field(5.0, gt=0, description="robust z of the window sum to fire")
    min_ratio: float = Field(2.0, ge=1, description="observed / expected to fire")
    min_excess: float = Field(5.0, ge=0, description="observed − expected (events) to fire")
    clear_z: float = Field(2.0, ge=0, description="cleared below this z ...")
    clear_ratio: float = Field(1.5, ge=1, description="... or below this ratio")
    repeat_hours: float = Field(
        12.0, gt=0, description="repeat a finding while it holds (below the alert quiet period)"
    )
    winsor_z: float = Field(3.0, gt=0, description="clip bucket updates at level + z·scale")
    max_freeze_hours: float = Field(
        72.0, gt=0, description="an alarm older than this no longer freezes the baseline"
    )


class LendingSurgeParams(BaselineParams):
    """Originations of new business; the amount is judged beside the count when enabled."""

    min_ratio: float = Field(3.0, ge=1)
    min_events: int = Field(5, ge=0, description="originations in the baseline before judging")
    use_amount: bool = False


class VolumeParams(BaselineParams):
    """Traded quantity per product (``metric="quantity"``) or the number of trades."""

    metric: str = Field("quantity", pattern="^(quantity|trades)$")
    min_ratio: float = Field(3.0, ge=1)
    min_events: int = Field(5, ge=0, description="typical trades in the baseline before judging")
    min_excess: float = Field(5.0, ge=0, description="trades above expected (both metrics)")


class PriceParams(_Section):
    """price_manipulation: a window move far outside the product's robust volatility, with a
    few owners on the driving side (buyers of a rise, sellers of a fall)."""

    bucket_hours: float = Field(1.0, gt=0)
    window_hours: float = Field(24.0, gt=0)
    half_life_hours: float = Field(168.0, gt=0)
    warmup_hours: float = Field(24.0, ge=0)
    min_baseline_hours: float = Field(48.0, ge=0)
    min_trades: int = Field(5, ge=1, description="trades in the window")
    z_threshold: float = Field(5.0, gt=0, description="|log move| / robust volatility")
    min_move: float = Field(0.10, ge=0, description="absolute log move, whatever the volatility")
    max_accounts: int = Field(3, ge=1, description="owners that drive the move")
    min_share: float = Field(0.6, gt=0, le=1, description="their share of the driving side")
    clear_z: float = Field(2.0, ge=0)
    repeat_hours: float = Field(12.0, gt=0)
    max_owners: int = Field(48, ge=4, description="owners tracked per bucket (space-saving)")


class StatsParams(_Section):
    """Statistical detectors: one baseline section per category."""

    delinquency_spike: BaselineParams = BaselineParams()
    compensation_spike: BaselineParams = BaselineParams()
    lending_surge: LendingSurgeParams = LendingSurgeParams()
    volume_anomaly: VolumeParams = VolumeParams()
    price_manipulation: PriceParams = PriceParams()


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
    stats: StatsParams = StatsParams()
    network: NetworkParams = NetworkParams()
