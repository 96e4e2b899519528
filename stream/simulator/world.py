"""The simulated sector: institutions of every type in the ten prefectures, and who they serve.

Built once per run from the seed. Borrowers of lenders, debtors of guarantee companies and the
enterprises that guarantee each other are separate populations, so the background never links
them by accident (no borrower at five lenders, no guarantee cycle, no contagion path).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from stream.simulator.sector import (
    BRANDS,
    INDUSTRIES,
    LENDER_TYPES,
    LENDING,
    MINIMUM,
    OVERDUE_SHARE,
    PRODUCT_TYPES,
    REGIONS,
    SIZES,
    TYPES,
)


@dataclass(slots=True)
class InstitutionState:
    """An institution's latest record; scenarios change it and publish the change."""

    institution_id: str
    name: str
    institution_type: str
    region_code: str
    registered_capital: int
    net_assets: int
    license_status: str = "active"
    serves_small_micro: bool = False

    @property
    def active(self) -> bool:
        return self.license_status == "active"

    @property
    def limit_base(self) -> float:
        """The figure single-client limits are measured against (pawn: registered capital)."""
        if self.institution_type == "pawn":
            return float(self.registered_capital)
        return float(self.net_assets)


@dataclass(slots=True)
class Borrower:
    borrower_id: str
    borrower_type: str
    region_code: str
    industry_code: str | None
    hidden_risk: float
    related_to: str | None = None


@dataclass(slots=True)
class LenderProfile:
    """How one lender lends: its volume, loan sizes, prices, terms and collateral."""

    inst: InstitutionState
    orig_per_day: float
    overdue_per_day: float
    median_individual: float
    median_enterprise: float
    enterprise_share: float
    rate_mean: float
    rate_sd: float
    terms: tuple[int, ...]
    collateral: tuple[tuple[str, float], ...]
    pool: list[Borrower] = field(default_factory=list)
    related: list[Borrower] = field(default_factory=list)


@dataclass(slots=True)
class GuarantorProfile:
    inst: InstitutionState
    issue_per_day: float
    median_amount: float
    creditors: tuple[str, ...]
    debtors: list[Borrower] = field(default_factory=list)
    related: list[Borrower] = field(default_factory=list)


@dataclass(slots=True)
class Account:
    account_id: str
    owner_id: str


@dataclass(slots=True)
class Product:
    product_id: str
    product_type: str
    venue: InstitutionState
    trades_per_day: float
    anchor_price: float
    lot: float
    sellers: list[Account] = field(default_factory=list)
    buyers: list[Account] = field(default_factory=list)


@dataclass(slots=True)
class World:
    institutions: list[InstitutionState]
    lenders: list[LenderProfile]
    guarantors: list[GuarantorProfile]
    products: list[Product]
    network: list[Borrower]
    banks: list[InstitutionState]
    ids: IdMaker

    def by_id(self) -> dict[str, InstitutionState]:
        return {inst.institution_id: inst for inst in self.institutions}


class IdMaker:
    """Ids that match the contracts' id pattern and are unique within a run."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._n: dict[str, int] = {}

    def next(self, kind: str) -> int:
        n = self._n.get(kind, 0) + 1
        self._n[kind] = n
        return n

    def enterprise(self, region: str) -> str:
        """An 18-character unified social credit code."""
        n = self.next("enterprise")
        check = "0123456789ABCDEFGHJKLMNPQRTUWXY"[(n * 7 + self.seed) % 31]
        return f"91{region}MA{n:07d}{check}"

    def individual(self) -> str:
        """A hashed ID-card number."""
        n = self.next("individual")
        return "P" + hashlib.blake2b(f"{self.seed}:{n}".encode(), digest_size=8).hexdigest()

    def owner(self) -> str:
        return f"BO-{self.next('owner'):07d}"

    def account(self, venue_code: str) -> str:
        return f"{venue_code}-AC{self.next('account'):07d}"


def _pick(rng: random.Random, weighted: dict[str, float]) -> str:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def _region(rng: random.Random) -> str:
    return _pick(rng, {code: w for code, (_, w) in REGIONS.items()})


def _industry(rng: random.Random) -> str:
    return _pick(rng, {code: w for code, (w, _) in INDUSTRIES.items()})


def new_borrower(
    rng: random.Random, ids: IdMaker, region: str, *, enterprise: bool, risk: float = 0.0
) -> Borrower:
    if enterprise:
        return Borrower(ids.enterprise(region), "enterprise", region, _industry(rng), risk)
    return Borrower(ids.individual(), "individual", region, None, risk)


def _type_counts(n: int) -> dict[str, int]:
    counts = {t: max(MINIMUM.get(t, 1), round(n * share)) for t, (_, share, _) in TYPES.items()}
    counts["microcredit"] += n - sum(counts.values())
    return counts


def build_world(rng: random.Random, seed: int, n_institutions: int) -> World:
    """Institutions, lender and guarantor profiles, venue products and the guarantee network."""
    ids = IdMaker(seed)
    institutions: list[InstitutionState] = []
    for itype, count in _type_counts(n_institutions).items():
        code, _, suffix = TYPES[itype]
        for n in range(1, count + 1):
            region = _region(rng)
            median, sd = SIZES[itype]
            net = int(median * rng.lognormvariate(0, sd))
            capital = int(net * rng.uniform(0.8, 1.1))
            name = f"{REGIONS[region][0]}{rng.choice(BRANDS)}{suffix}"
            inst = InstitutionState(f"FJ-{code}-{n:04d}", name, itype, region, capital, net)
            if itype == "guarantee":
                inst.serves_small_micro = rng.random() < 0.4
            institutions.append(inst)
    # A few institutions are already out of business: records only, never any activity.
    for inst in rng.sample(institutions, max(2, n_institutions // 40)):
        inst.license_status = rng.choice(("suspended", "revoked", "in_liquidation"))
    active = [inst for inst in institutions if inst.active]
    banks = [i for i in active if i.institution_type == "local_bank"]
    lenders = [_lender(rng, ids, inst) for inst in active if inst.institution_type in LENDER_TYPES]
    _share_borrowers(rng, lenders)
    creditors = tuple(i.institution_id for i in banks) or ("FJ-LB-0001",)
    guarantors = [
        _guarantor(rng, ids, inst, creditors)
        for inst in active
        if inst.institution_type == "guarantee"
    ]
    products = [
        product
        for venue in active
        if venue.institution_type == "trading_venue"
        for product in _products(rng, ids, venue)
    ]
    network = [
        new_borrower(rng, ids, _region(rng), enterprise=True)
        for _ in range(max(200, 2 * n_institutions))
    ]
    return World(institutions, lenders, guarantors, products, network, banks, ids)


def _lender(rng: random.Random, ids: IdMaker, inst: InstitutionState) -> LenderProfile:
    per_day, ind, ent, share, rate, rate_sd, terms, coll = LENDING[inst.institution_type]
    collateral = tuple((name, float(w)) for name, w in (item.split(":") for item in coll.split()))
    profile = LenderProfile(
        inst=inst,
        orig_per_day=per_day * rng.lognormvariate(0, 0.3),
        overdue_per_day=0.0,
        median_individual=ind * rng.lognormvariate(0, 0.2),
        median_enterprise=ent * rng.lognormvariate(0, 0.2),
        enterprise_share=share,
        rate_mean=rate + rng.gauss(0, 0.004),
        rate_sd=rate_sd,
        terms=terms,
        collateral=collateral,
    )
    profile.overdue_per_day = profile.orig_per_day * OVERDUE_SHARE[inst.institution_type]
    size = max(60, int(profile.orig_per_day * 45))
    for _ in range(size):
        region = inst.region_code if rng.random() < 0.85 else _region(rng)
        enterprise = rng.random() < share
        profile.pool.append(
            new_borrower(rng, ids, region, enterprise=enterprise, risk=rng.gauss(0, 1))
        )
    for _ in range(4):
        related = new_borrower(rng, ids, inst.region_code, enterprise=True, risk=rng.gauss(0, 1))
        related.related_to = inst.institution_id
        profile.related.append(related)
    return profile


def _share_borrowers(rng: random.Random, lenders: list[LenderProfile]) -> None:
    """Some borrowers also borrow from one other lender: never more than two lenders each."""
    if len(lenders) < 2:
        return
    for profile in lenders:
        other = rng.choice(lenders)
        if other is profile:
            continue
        own = {b.borrower_id for b in profile.pool}
        for borrower in rng.sample(other.pool, min(8, len(other.pool) // 10)):
            if borrower.borrower_id not in own:
                profile.pool.append(borrower)
    # Remember which borrowers are now at two lenders so no third lender takes them.
    seen: dict[str, int] = {}
    for profile in lenders:
        keep = []
        for borrower in profile.pool:
            seen[borrower.borrower_id] = seen.get(borrower.borrower_id, 0) + 1
            if seen[borrower.borrower_id] <= 2:
                keep.append(borrower)
        profile.pool = keep


def _guarantor(
    rng: random.Random, ids: IdMaker, inst: InstitutionState, creditors: tuple[str, ...]
) -> GuarantorProfile:
    profile = GuarantorProfile(
        inst=inst,
        issue_per_day=1.5 * rng.lognormvariate(0, 0.3),
        median_amount=min(0.006 * inst.net_assets, 3e6) * rng.lognormvariate(0, 0.2),
        creditors=tuple(rng.sample(creditors, min(4, len(creditors)))),
    )
    for _ in range(150):
        region = inst.region_code if rng.random() < 0.8 else _region(rng)
        profile.debtors.append(
            new_borrower(rng, ids, region, enterprise=rng.random() < 0.7, risk=rng.gauss(0, 1))
        )
    for _ in range(4):
        related = new_borrower(rng, ids, inst.region_code, enterprise=True)
        related.related_to = inst.institution_id
        profile.related.append(related)
    return profile


def _products(rng: random.Random, ids: IdMaker, venue: InstitutionState) -> list[Product]:
    code = f"V{venue.institution_id[-2:]}"
    owners = [ids.owner() for _ in range(300)]
    accounts = {owner: Account(ids.account(code), owner) for owner in owners}
    products = []
    for n in range(rng.randint(6, 10)):
        ptype = rng.choice(PRODUCT_TYPES)
        # One busy product per venue: the holder-limit and volume scenarios need them.
        per_day = 25.0 * rng.uniform(0.9, 1.3) if n == 0 else 6.0 * rng.lognormvariate(0, 0.5)
        product = Product(
            product_id=f"{code}-{ptype[:2].upper()}-{100000 + ids.next('product')}",
            product_type=ptype,
            venue=venue,
            trades_per_day=per_day,
            anchor_price=round(5.0 * rng.lognormvariate(0, 0.8), 2) + 0.5,
            lot=100.0 * round(20 * rng.lognormvariate(0, 0.5) + 1),
        )
        chosen = rng.sample(owners, rng.randint(60, 120))
        n_sellers = rng.randint(8, 15)
        product.sellers = [accounts[o] for o in chosen[:n_sellers]]
        product.buyers = [accounts[o] for o in chosen[n_sellers:]]
        products.append(product)
    return products
