"""The human message, in Chinese and English, shared by e-mail and the webhook ``summary``.

Plain text on purpose: it reads the same in a mail client, a chat bridge and a log, and it
needs no template engine. Evidence figures are shown as the detector gave them (at most
``MAX_EVIDENCE`` scalar entries; lists and tables stay in the CloudEvent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts.notify.notification import Notification, repeat_of

MAX_EVIDENCE = 8

#: Category id -> (Chinese, English), the catalogue of domain.md.
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "usurious_rate": ("高利放贷", "Usurious lending rate"),
    "borrower_concentration": ("单户贷款集中度超限", "Borrower concentration"),
    "related_party_lending": ("关联交易放贷", "Related-party lending"),
    "delinquency_spike": ("逾期率异常上升", "Delinquency spike"),
    "evergreening": ("借新还旧掩盖不良", "Evergreening"),
    "multi_lender_borrowing": ("多头借贷", "Multi-lender borrowing"),
    "lending_surge": ("放贷规模异常增长", "Lending surge"),
    "loan_anomaly": ("贷款异常（模型）", "Loan anomaly (model)"),
    "default_risk": ("违约风险（模型）", "Default risk (model)"),
    "guarantee_leverage": ("担保放大倍数超限", "Guarantee leverage"),
    "guarantee_concentration": ("担保集中度超限", "Guarantee concentration"),
    "guarantee_circle": ("担保圈/互保", "Guarantee circle"),
    "guarantee_contagion": ("担保链风险传染", "Guarantee contagion"),
    "compensation_spike": ("代偿率异常上升", "Compensation spike"),
    "wash_trade": ("对倒/自买自卖", "Wash trade"),
    "price_manipulation": ("操纵价格", "Price manipulation"),
    "volume_anomaly": ("成交量异常", "Volume anomaly"),
    "prohibited_trading_mode": ("违规交易模式", "Prohibited trading mode"),
    "t_plus_5_violation": ("违反T+5交易限制", "T+5 violation"),
    "holder_limit": ("持有人数超限", "Holder limit"),
    "unlicensed_activity": ("无牌或违规经营", "Unlicensed activity"),
    "institution_risk_escalation": ("机构风险升级", "Institution risk escalation"),
    "regional_cluster": ("区域性风险聚集", "Regional risk cluster"),
    "model_drift": ("模型漂移", "Model drift"),
}
SEVERITY_NAMES: dict[str, tuple[str, str]] = {
    "info": ("提示", "info"),
    "low": ("低", "low"),
    "medium": ("中", "medium"),
    "high": ("高", "high"),
    "critical": ("严重", "critical"),
}
KIND_NAMES: dict[str, tuple[str, str]] = {
    "opened": ("新预警", "New alert"),
    "updated": ("预警更新", "Alert updated"),
    "resolved": ("预警解除", "Alert resolved"),
}
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "open": ("待处理", "open"),
    "acknowledged": ("已确认", "acknowledged"),
    "escalated": ("已升级", "escalated"),
    "resolved": ("已解除", "resolved"),
    "suppressed": ("已屏蔽", "suppressed"),
}
#: Fujian's prefectures (domain.md region codes).
REGION_NAMES: dict[str, tuple[str, str]] = {
    "350100": ("福州", "Fuzhou"),
    "350200": ("厦门", "Xiamen"),
    "350300": ("莆田", "Putian"),
    "350400": ("三明", "Sanming"),
    "350500": ("泉州", "Quanzhou"),
    "350600": ("漳州", "Zhangzhou"),
    "350700": ("南平", "Nanping"),
    "350800": ("龙岩", "Longyan"),
    "350900": ("宁德", "Ningde"),
    "350128": ("平潭", "Pingtan"),
}


def _names(table: Mapping[str, tuple[str, str]], key: str) -> tuple[str, str]:
    return table.get(key, (key, key))


def kind_of(event: Mapping[str, Any]) -> str:
    """``fenghuo.alert.opened`` -> ``opened``."""
    return str(event.get("type", "")).rsplit(".", 1)[-1]


def figure(value: Any) -> str:
    """A figure as people read it: ratios to 4 significant digits, big numbers grouped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def evidence_lines(evidence: Mapping[str, Any]) -> list[str]:
    """``name: figure`` for the scalar evidence entries, in the detector's order."""
    scalars = [(k, v) for k, v in evidence.items() if isinstance(v, str | int | float | bool)]
    return [f"{name}: {figure(value)}" for name, value in scalars[:MAX_EVIDENCE]]


def headline(event: Mapping[str, Any]) -> tuple[str, str]:
    """One line per language: kind (or reminder and its number), category, severity,
    institution."""
    data = event["data"]
    kind_zh, kind_en = _names(KIND_NAMES, kind_of(event))
    repeat = repeat_of(event)
    if repeat:
        kind_zh, kind_en = f"重复提醒 第{repeat}次", f"Reminder #{repeat}"
    cat_zh, cat_en = _names(CATEGORY_NAMES, data["category"])
    sev_zh, sev_en = _names(SEVERITY_NAMES, data["severity"])
    who = data.get("institution_id") or data["entity_id"]
    return (
        f"【{kind_zh}】{cat_zh}（{sev_zh}）{who}",
        f"[{kind_en}] {cat_en} ({sev_en}) {who}",
    )


def subject(notification: Notification) -> str:
    """E-mail subject: the first alert's headline, and how many more the batch holds."""
    zh, en = headline(notification.events[0])
    more = len(notification.events) - 1
    if more:
        return f"{zh} 等{more + 1}条 / {en} and {more} more"
    return f"{zh} / {en}"


def _block_zh(event: Mapping[str, Any], link: str | None) -> list[str]:
    data = event["data"]
    cat_zh, _ = _names(CATEGORY_NAMES, data["category"])
    sev_zh, _ = _names(SEVERITY_NAMES, data["severity"])
    region = data.get("region_code")
    lines = [
        headline(event)[0],
        f"风险类别：{cat_zh}（{data['category']}）",
        f"严重程度：{sev_zh}",
        f"机构：{data.get('institution_id') or '—'}",
        f"地区：{_names(REGION_NAMES, region)[0] + f'（{region}）' if region else '—'}",
        f"对象：{data['entity_type']} {data['entity_id']}",
        f"首次/最近发现：{data['first_seen']} / {data['last_seen']}（共{data['occurrences']}次）",
        "主要证据：",
    ]
    if repeat_of(event):
        status = _names(STATUS_NAMES, data.get("status", "open"))[0]
        lines.insert(1, f"重复提醒：预警仍为“{status}”，尚未确认；确认后不再提醒")
    lines += [f"  {line}" for line in evidence_lines(data.get("evidence", {}))] or ["  —"]
    if link:
        lines.append(f"详情：{link}")
    return lines


def _block_en(event: Mapping[str, Any], link: str | None) -> list[str]:
    data = event["data"]
    _, cat_en = _names(CATEGORY_NAMES, data["category"])
    _, sev_en = _names(SEVERITY_NAMES, data["severity"])
    region = data.get("region_code")
    lines = [
        headline(event)[1],
        f"Category: {cat_en} ({data['category']})",
        f"Severity: {sev_en}",
        f"Institution: {data.get('institution_id') or '-'}",
        f"Region: {_names(REGION_NAMES, region)[1] + f' ({region})' if region else '-'}",
        f"Subject: {data['entity_type']} {data['entity_id']}",
        f"First/last seen: {data['first_seen']} / {data['last_seen']} "
        f"({data['occurrences']} occurrences)",
        "Key evidence:",
    ]
    if repeat_of(event):
        status = _names(STATUS_NAMES, data.get("status", "open"))[1]
        lines.insert(1, f"Reminder: still {status}, not acknowledged; acknowledging it stops these")
    lines += [f"  {line}" for line in evidence_lines(data.get("evidence", {}))] or ["  -"]
    if link:
        lines.append(f"Details: {link}")
    return lines


def body(notification: Notification) -> str:
    """The full message: every alert in Chinese, then every alert in English."""
    parts: list[str] = []
    for block in (_block_zh, _block_en):
        for event in notification.events:
            parts.append("\n".join(block(event, notification.link(event["data"]["alert_id"]))))
    footer = (
        f"-- 烽火风险监测 Fenghuo risk monitoring · 接收方 receiver {notification.receiver}"
        f" · {notification.key}"
    )
    return "\n\n".join([*parts, footer]) + "\n"


def summary(notification: Notification) -> str:
    """A few lines for chat and webhook consumers: one headline pair per alert."""
    lines: list[str] = []
    for event in notification.events:
        zh, en = headline(event)
        lines += [zh, en]
    return "\n".join(lines)
