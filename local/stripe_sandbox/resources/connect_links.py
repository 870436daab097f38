"""Account links (hosted onboarding, single use, 5 minutes) and Express dashboard login links."""

from __future__ import annotations

import secrets

from ..app import Obj
from ..errors import StripeError, invalid
from ..router import Request, api
from .connect_accounts import get_account

LINK_LIFETIME = 300
LINK_TYPES = ("account_onboarding", "account_update")


def _url(value: str | None, param: str) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise invalid(param, "Not a valid URL", "url_invalid")
    return value


@api("POST", "/v1/account_links")
def account_links_create(req: Request) -> Obj:
    app, p = req.app, req.p
    p.allow("account", "type", "refresh_url", "return_url", "collect", "collection_options")
    account = get_account(app, p.req("account"))
    kind = p.req("type")
    if kind not in LINK_TYPES:
        raise invalid("type", f"Invalid type: must be one of {', '.join(LINK_TYPES)}", "parameter_invalid_string")
    if kind == "account_update" and account["type"] != "custom":
        raise invalid("type", "account_update links are only available for accounts whose platform collects "
                      "their requirements (Custom accounts).", "parameter_invalid_string")
    if p.str("collect", "currently_due") not in ("currently_due", "eventually_due"):
        raise invalid("collect", "Invalid collect", "parameter_invalid_string")
    options = p.sub("collection_options")
    options.allow("fields", "future_requirements")
    now = app.now()
    token = secrets.token_urlsafe(18)
    link: Obj = {"id": token, "object": "account_link", "created": now, "expires_at": now + LINK_LIFETIME,
                 "url": f"{app.base_url}/connect/onboarding/{token}", "_account_id": account["id"], "_type": kind,
                 "_refresh_url": _url(p.str("refresh_url"), "refresh_url"),
                 "_return_url": _url(p.str("return_url"), "return_url"), "_used": False}
    app.add(link)
    out = app.render(link)
    del out["id"]  # Stripe's account links have no id
    return out


@api("POST", "/v1/accounts/{id}/login_links")
def login_links_create(req: Request) -> Obj:
    app = req.app
    req.p.allow()
    account = get_account(app, req.args["id"], "id")
    if account["type"] != "express":
        raise invalid("account", "You may only create login links for Express accounts.",
                      "parameter_invalid_string")
    if not account["details_submitted"]:
        raise StripeError(400, "Cannot create a login link for an account that has not completed onboarding.",
                          param="account")
    token = secrets.token_urlsafe(18)
    app.add({"id": token, "object": "login_link", "_account_id": account["id"]})
    return {"object": "login_link", "created": app.now(),
            "url": f"{app.base_url}/connect/express/{account['id']}/{token}"}
