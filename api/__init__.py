"""The regulator alert API (FastAPI) over the alert store: ``create_app(ApiSettings())``."""

from api.auth import ALL_AGENCIES, Caller, Role, check_grant
from api.main import create_app
from api.settings import ApiSettings

__all__ = ["ALL_AGENCIES", "ApiSettings", "Caller", "Role", "check_grant", "create_app"]
