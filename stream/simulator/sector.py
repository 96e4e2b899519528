"""The Fujian local financial sector in figures: prefectures, institution types, industries,
and each lender type's usual business. Round, plausible values, not statistics.
"""

from __future__ import annotations

#: Fujian prefecture codes (domain.md) with a weight for how much business each has.
REGIONS: dict[str, tuple[str, float]] = {
    "350100": ("福州", 0.20),
    "350200": ("厦门", 0.17),
    "350300": ("莆田", 0.07),
    "350400": ("三明", 0.06),
    "350500": ("泉州", 0.17),
    "350600": ("漳州", 0.09),
    "350700": ("南平", 0.06),
    "350800": ("龙岩", 0.06),
    "350900": ("宁德", 0.07),
    "350128": ("平潭", 0.05),
}

#: institution_type -> (id code, share of institutions, name suffix)
TYPES: dict[str, tuple[str, float, str]] = {
    "microcredit": ("MC", 0.25, "小额贷款有限公司"),
    "guarantee": ("GT", 0.13, "融资担保有限公司"),
    "pawn": ("PW", 0.09, "典当有限公司"),
    "leasing": ("LS", 0.06, "融资租赁有限公司"),
    "local_bank": ("LB", 0.08, "农村商业银行"),
    "local_insurer": ("LI", 0.03, "财产保险股份有限公司"),
    "securities": ("SC", 0.02, "证券股份有限公司"),
    "futures": ("FT", 0.02, "期货有限公司"),
    "trading_venue": ("TV", 0.05, "交易中心有限公司"),
    "equity_fund": ("EF", 0.10, "股权投资合伙企业"),
    "private_lending": ("PL", 0.13, "民间融资服务有限公司"),
    "other": ("OT", 0.04, "金融服务有限公司"),
}

LENDER_TYPES = ("microcredit", "pawn", "leasing", "local_bank", "private_lending")

BRANDS = [
    "鑫源",
    "海峡",
    "闽台",
    "福兴",
    "恒信",
    "汇通",
    "融达",
    "金桥",
    "瑞丰",
    "东南",
    "华闽",
    "宏远",
    "联合",
    "永安",
    "兴业",
    "博大",
    "中和",
    "泰和",
    "嘉禾",
    "顺昌",
    "万通",
    "富邦",
    "鼎盛",
    "安泰",
    "长乐",
    "闽江",
    "侨兴",
    "海西",
    "利民",
    "通达",
    "福海",
    "盛达",
    "惠民",
    "丰源",
    "德信",
    "新港",
]

#: GB/T 4754 sections that enterprises borrow in, with a weight and a default-risk shift.
INDUSTRIES: dict[str, tuple[float, float]] = {
    "A": (0.08, 0.3),
    "C": (0.30, 0.0),
    "E": (0.08, 0.5),
    "F": (0.20, 0.2),
    "G": (0.04, -0.2),
    "H": (0.08, 0.3),
    "I": (0.05, -0.3),
    "K": (0.03, 0.6),
    "L": (0.06, 0.7),
    "M": (0.04, -0.4),
    "R": (0.04, 0.1),
}


#: Fewest institutions of a type, so even a small world has room for every scenario.
MINIMUM = {"trading_venue": 6, "guarantee": 6, "local_bank": 4, "private_lending": 6}


# type -> (orig/day, median individual, median enterprise, enterprise share, rate mean, rate sd,
#          terms, collateral weights)
LENDING: dict[str, tuple[float, float, float, float, float, float, tuple[int, ...], str]] = {
    "microcredit": (
        2.5,
        150e3,
        600e3,
        0.4,
        0.100,
        0.007,
        (90, 180, 270, 365),
        "none:.35 real_estate:.2 vehicle:.1 guarantee:.2 movable:.1 equity:.05",
    ),
    "pawn": (
        1.5,
        100e3,
        300e3,
        0.3,
        0.104,
        0.007,
        (30, 60, 90, 180),
        "movable:.4 vehicle:.3 real_estate:.25 equity:.05",
    ),
    "leasing": (0.7, 800e3, 3e6, 0.9, 0.070, 0.008, (730, 1095, 1825), "movable:.7 other:.3"),
    "local_bank": (
        5.0,
        300e3,
        2e6,
        0.5,
        0.055,
        0.008,
        (180, 365, 730, 1095),
        "real_estate:.5 guarantee:.25 none:.15 movable:.1",
    ),
    "private_lending": (
        3.0,
        60e3,
        200e3,
        0.2,
        0.108,
        0.005,
        (30, 90, 180, 365),
        "none:.6 vehicle:.2 guarantee:.1 real_estate:.1",
    ),
}

#: Overdue events per origination by lender type: riskier lending, more delinquency.
OVERDUE_SHARE = {
    "microcredit": 0.06,
    "pawn": 0.05,
    "leasing": 0.03,
    "local_bank": 0.025,
    "private_lending": 0.09,
}

# type -> (median net assets, sd of log)
SIZES: dict[str, tuple[float, float]] = {
    "microcredit": (80e6, 0.35),
    "guarantee": (250e6, 0.4),
    "pawn": (30e6, 0.35),
    "leasing": (400e6, 0.4),
    "local_bank": (8e9, 0.6),
    "local_insurer": (2e9, 0.4),
    "securities": (5e9, 0.4),
    "futures": (600e6, 0.4),
    "trading_venue": (100e6, 0.4),
    "equity_fund": (200e6, 0.6),
    "private_lending": (30e6, 0.35),
    "other": (50e6, 0.4),
}

PRODUCT_TYPES = ("equity", "equity_unit", "financial_asset", "commodity_rights", "cultural_art")
