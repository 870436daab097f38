"""The outbox: every e-mail the system sent through (moto's) SES, readable by a person or a test.

Served by the API listener at ``/_local/outbox`` (HTML) and ``/_local/outbox.json``; the messages come
from the moto process (``local.stack.aws_server``), newest first.
"""

from __future__ import annotations

import html
import json
import time
import urllib.request
from typing import Any

from local.stack.api_gateway import HttpRequest, HttpResponse
from local.stack.aws_server import SES_MESSAGES_PATH

OUTBOX_PATH = "/_local/outbox"
OUTBOX_JSON_PATH = "/_local/outbox.json"


class Outbox:
    def __init__(self, aws_endpoint: str) -> None:
        self._url = aws_endpoint.rstrip("/") + SES_MESSAGES_PATH

    def messages(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self._url, timeout=5) as response:  # noqa: S310 - local moto URL
            messages: list[dict[str, Any]] = json.loads(response.read())
        for message in messages:
            message["to"] = _recipients(message.get("destinations"))
        return list(reversed(messages))

    def json_response(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse.json(200, {"messages": self.messages()})

    def html_response(self, request: HttpRequest) -> HttpResponse:
        messages = self.messages()
        items = "\n".join(_render(message) for message in messages) or "<p>No e-mail sent yet.</p>"
        page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>coursepay local outbox</title>
<meta http-equiv="refresh" content="5">
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; }}
article {{ border: 1px solid #ccc; border-radius: 6px; padding: 1rem; margin-bottom: 1rem; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 .5rem; }}
dt {{ font-weight: 600; }} pre {{ white-space: pre-wrap; background: #f6f6f6; padding: .5rem; }}
</style></head><body>
<h1>Outbox <small>({len(messages)} e-mail{"" if len(messages) == 1 else "s"}, refreshes every 5 s)</small></h1>
<p>Every message sent through SES by the local stack. JSON: <a href="{OUTBOX_JSON_PATH}">{OUTBOX_JSON_PATH}</a></p>
{items}
</body></html>"""
        return HttpResponse(200, [("content-type", "text/html; charset=utf-8")], page.encode())


def _recipients(destinations: Any) -> list[str]:
    if isinstance(destinations, dict):
        return [address for addresses in destinations.values() for address in addresses or []]
    return [str(address) for address in destinations or []]


def _render(message: dict[str, Any]) -> str:
    sent = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(message.get("seen_at", 0)))
    subject = message.get("subject") or message.get("template") or "(raw message)"
    body = message.get("body") or message.get("template_data") or message.get("raw_data") or ""
    # Bodies may be HTML: show them as text, a local outbox must never run the mail's markup.
    return f"""<article>
<dl><dt>Subject</dt><dd>{html.escape(str(subject))}</dd>
<dt>From</dt><dd>{html.escape(str(message.get("source", "")))}</dd>
<dt>To</dt><dd>{html.escape(", ".join(message["to"]))}</dd>
<dt>Seen</dt><dd>{sent}</dd></dl>
<pre>{html.escape(str(body))}</pre>
</article>"""
