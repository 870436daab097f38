"""The outbox: every e-mail the system sent through (moto's) SES, readable by a person or a test.

Served by the API listener at ``/_local/outbox`` (HTML) and ``/_local/outbox.json``; the messages come
from the moto process (``local.stack.aws_server``), newest first, each with ``subject``, ``to``, ``source``,
``body`` (the plain-text part) and ``html`` (the HTML part, or None): ``local.stack.ses_messages``.
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
        with urllib.request.urlopen(self._url, timeout=30) as response:  # noqa: S310 - local moto URL
            messages: list[dict[str, Any]] = json.loads(response.read())
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
iframe {{ width: 100%; height: 28rem; border: 1px solid #ddd; }}
</style></head><body>
<h1>Outbox <small>({len(messages)} e-mail{"" if len(messages) == 1 else "s"}, refreshes every 5 s)</small></h1>
<p>Every message sent through SES by the local stack. JSON: <a href="{OUTBOX_JSON_PATH}">{OUTBOX_JSON_PATH}</a></p>
{items}
</body></html>"""
        return HttpResponse(200, [("content-type", "text/html; charset=utf-8")], page.encode())


def _render(message: dict[str, Any]) -> str:
    sent = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(message.get("seen_at", 0)))
    subject = message.get("subject") or message.get("template") or "(raw message)"
    body = message.get("body") or message.get("template_data") or ""
    # The plain text is shown as text. The HTML part is shown as the recipient would see it, in a sandboxed frame
    # (no scripts, no same-origin access): a local outbox must never run the mail's markup.
    rendered = (f'<details open><summary>HTML part</summary><iframe sandbox="" title="HTML part" '
                f'srcdoc="{html.escape(message["html"], quote=True)}"></iframe></details>'
                if message.get("html") else "")
    return f"""<article>
<dl><dt>Subject</dt><dd>{html.escape(str(subject))}</dd>
<dt>From</dt><dd>{html.escape(str(message.get("source", "")))}</dd>
<dt>To</dt><dd>{html.escape(", ".join(message["to"]))}</dd>
<dt>Seen</dt><dd>{sent}</dd></dl>
<pre>{html.escape(str(body))}</pre>
{rendered}
</article>"""
