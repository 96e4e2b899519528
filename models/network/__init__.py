"""Cross-entity detectors: guarantee graphs, trade graphs, borrowers across lenders."""

from models.detector import Detector
from models.network.borrowers import MultiLenderBorrowing
from models.network.guarantee_graph import GuaranteeNetwork
from models.network.trade_graph import WashTrade

NETWORK_DETECTORS: list[type[Detector]] = [MultiLenderBorrowing, GuaranteeNetwork, WashTrade]

__all__ = ["NETWORK_DETECTORS", "GuaranteeNetwork", "MultiLenderBorrowing", "WashTrade"]
