"""A hosted "save a card" page: a stand-in for a frontend that saves a card with Stripe.js.

It knows only what a browser holds (the publishable key and a SetupIntent's client secret, both in its URL)
and does what ``stripe.confirmCardSetup`` does: it posts the card to ``POST /v1/setup_intents/{id}/confirm``
with ``key`` and ``client_secret``, follows ``next_action.redirect_to_url`` to the /3ds page when the card
asks for 3-D Secure, and ends on ``return_url`` with ``?setup_intent=…&setup_intent_client_secret=…
&redirect_status=succeeded|failed``. The default ``return_url`` is the sandbox's result page, which
retrieves the SetupIntent with the publishable key (``stripe.retrieveSetupIntent``) and shows its status.

Element ids: form ``#name``, ``#card_number``, ``#exp`` (MM/YY), ``#cvc``, ``#save``, ``#error``;
result ``#status`` (``data-status`` = the SetupIntent's status), ``#payment_method``, ``#error``, ``#retry``.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from .pages import _page
from .router import Request, Response, page

CLIENT_SECRET_RE = re.compile(r"^(seti_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$")
URL_RE = re.compile(r"^https?://\S+$")

_CONFIRM_JS = """
const cfg = JSON.parse(document.getElementById("config").textContent);
const intentId = cfg.clientSecret.split("_secret_")[0];
const form = document.getElementById("save-card-form");
const error = document.getElementById("error");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const [month, year] = document.getElementById("exp").value.replace(/\\s/g, "").split("/");
  const body = new URLSearchParams({
    key: cfg.key, client_secret: cfg.clientSecret, return_url: cfg.returnUrl,
    "payment_method_data[type]": "card",
    "payment_method_data[card][number]": document.getElementById("card_number").value.replace(/[\\s-]/g, ""),
    "payment_method_data[card][exp_month]": month || "", "payment_method_data[card][exp_year]": year || "",
    "payment_method_data[card][cvc]": document.getElementById("cvc").value,
    "payment_method_data[billing_details][name]": document.getElementById("name").value,
  });
  document.getElementById("save").disabled = true;
  const response = await fetch(`/v1/setup_intents/${intentId}/confirm`, {method: "POST", body});
  const intent = await response.json();
  document.getElementById("save").disabled = false;
  if (intent.error) {
    error.textContent = intent.error.message;
    error.hidden = false;
    return;
  }
  if (intent.status === "requires_action" && intent.next_action && intent.next_action.type === "redirect_to_url") {
    window.location.assign(intent.next_action.redirect_to_url.url);
    return;
  }
  const query = new URLSearchParams({setup_intent: intent.id, setup_intent_client_secret: cfg.clientSecret,
                                     redirect_status: intent.status === "succeeded" ? "succeeded" : "failed"});
  window.location.assign(cfg.returnUrl + (cfg.returnUrl.includes("?") ? "&" : "?") + query);
});
"""

_RESULT_JS = """
const query = new URLSearchParams(window.location.search);
const status = document.getElementById("status");
const secret = query.get("setup_intent_client_secret") || "";
const params = new URLSearchParams({key: query.get("key") || "", client_secret: secret});
fetch(`/v1/setup_intents/${query.get("setup_intent")}?${params}`).then((r) => r.json()).then((intent) => {
  const error = document.getElementById("error");
  if (intent.error) {
    status.dataset.status = "error";
    status.textContent = "Could not load the SetupIntent.";
    error.textContent = intent.error.message;
    error.hidden = false;
    return;
  }
  status.dataset.status = intent.status;
  status.textContent = intent.status === "succeeded" ? "Your card is saved." : `Not saved (${intent.status}).`;
  document.getElementById("payment_method").textContent = intent.payment_method || "";
  if (intent.last_setup_error) {
    error.textContent = intent.last_setup_error.message;
    error.hidden = false;
  }
});
"""


def _bad_request(message: str) -> Response:
    return _page("Save a card", f"<h1>Cannot save a card</h1><p class=error id=error>{message}</p>", 400)


def _script_json(data: dict[str, str]) -> str:
    """Data for the page's script, safe inside <script type=application/json>."""
    return json.dumps(data).replace("<", "\\u003c")


@page("GET", "/save_card")
def save_card_form(req: Request) -> Response:
    secret, key = req.params.get("client_secret"), req.params.get("key")
    return_url = req.params.get("return_url")
    if not isinstance(secret, str) or not CLIENT_SECRET_RE.match(secret):
        return _bad_request("client_secret must be a SetupIntent's client secret (seti_…_secret_…).")
    if not isinstance(key, str) or not key.startswith("pk_test_"):
        return _bad_request("key must be a publishable test key (pk_test_…).")
    if return_url is not None and (not isinstance(return_url, str) or not URL_RE.match(return_url)):
        return _bad_request("return_url must be an http(s) URL.")
    default_return = f"{req.app.base_url}/save_card/result?{urlencode({'key': key})}"
    config = _script_json({"clientSecret": secret, "key": key, "returnUrl": return_url or default_return})
    body = f"""
<p class=muted><span class=badge>TEST MODE</span> Stripe sandbox · client-side card setup</p>
<h1>Save a card</h1>
<p class=muted>Saved for later payments; nothing is charged now.</p>
<form id=save-card-form>
<label for=name>Name on card</label>
<input id=name name=name autocomplete=cc-name required>
<label for=card_number>Card number</label>
<input id=card_number name=card_number inputmode=numeric autocomplete=cc-number placeholder='4242 4242 4242 4242'
 required>
<div class=row><div><label for=exp>Expiry (MM/YY)</label>
<input id=exp name=exp placeholder='12/34' autocomplete=cc-exp required></div>
<div><label for=cvc>CVC</label><input id=cvc name=cvc placeholder='123' autocomplete=cc-csc required></div></div>
<div class=error id=error role=alert hidden></div>
<button type=submit id=save>Save card</button>
</form>
<script type=application/json id=config>{config}</script>
<script>{_CONFIRM_JS}</script>"""
    return _page("Save a card", body)


@page("GET", "/save_card/result")
def save_card_result(req: Request) -> Response:
    secret, key = req.params.get("setup_intent_client_secret"), req.params.get("key")
    retry = ""
    if isinstance(secret, str) and CLIENT_SECRET_RE.match(secret) and isinstance(key, str):
        retry = f"<p><a id=retry href='/save_card?{urlencode({'client_secret': secret, 'key': key})}'>Try again</a></p>"
    body = f"""
<p class=muted><span class=badge>TEST MODE</span> Stripe sandbox · client-side card setup</p>
<h1>Save a card</h1>
<p id=status data-status=loading>Loading…</p>
<p class=muted>PaymentMethod: <code id=payment_method></code></p>
<div class=error id=error role=alert hidden></div>
{retry}
<script>{_RESULT_JS}</script>"""
    return _page("Save a card", body)
