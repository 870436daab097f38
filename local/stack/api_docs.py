"""The API's OpenAPI document and a small interactive page over it, served by the local stack:
``/_local/openapi.json`` (docs/openapi.json, with this stack's address as its server) and ``/_local/docs`` (every
operation, its request schema, and a form that sends it with an optional bearer token). The page is plain HTML and
script written here: it loads nothing from the network, so it works offline."""

from __future__ import annotations

import json
from typing import Any

from local.stack.api_gateway import HttpRequest, HttpResponse
from local.stack.template import REPO_ROOT

# what `make openapi` (local/openapi.py) writes; read here without importing the generator, which imports the
# layer (the stack's process runs without it)
DOCUMENT = REPO_ROOT / "docs" / "openapi.json"

OPENAPI_PATH = "/_local/openapi.json"
DOCS_PATH = "/_local/docs"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>coursepay API</title>
<style>
body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}
details{border:1px solid #ccc;border-radius:4px;margin:.4rem 0;padding:.4rem .8rem}
summary{cursor:pointer}code{background:#f4f4f4;padding:0 .2rem}
.m{display:inline-block;width:4.5rem;font-weight:bold}pre{background:#f8f8f8;padding:.5rem;overflow:auto}
textarea{width:100%;height:6rem;font-family:monospace}input{width:28rem}
</style></head><body>
<h1>coursepay HTTP API</h1>
<p>From <a href="/_local/openapi.json">/_local/openapi.json</a>. Bearer token (for the routes that need one):
<input id="token" placeholder="access_token from POST /auth/login"></p>
<div id="ops"></div>
<script>
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));
fetch("/_local/openapi.json").then(r => r.json()).then(doc => {
  const ops = document.getElementById("ops");
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const ref = op.requestBody && op.requestBody.content["application/json"].schema.$ref;
      const schema = ref ? doc.components.schemas[ref.split("/").pop()] : null;
      const box = document.createElement("details");
      box.innerHTML = `<summary><span class="m">${method.toUpperCase()}</span><code>${esc(path)}</code>
        ${op.security.length ? "(token)" : ""} ${esc(op.summary || "")}</summary>
        ${schema ? `<pre>${esc(JSON.stringify(schema, null, 2))}</pre>` : ""}
        <p>Path: <input class="path" value="${esc(path)}"></p>
        ${schema ? `<textarea class="body">{}</textarea>` : ""}
        <p><button>Send</button> responses: ${Object.keys(op.responses).join(", ")}</p><pre class="out"></pre>`;
      box.querySelector("button").onclick = async () => {
        const headers = {"content-type": "application/json"};
        const token = document.getElementById("token").value.trim();
        if (token) headers.authorization = "Bearer " + token;
        const body = box.querySelector(".body");
        const answer = await fetch(box.querySelector(".path").value,
          {method: method.toUpperCase(), headers, body: body ? body.value : undefined});
        box.querySelector(".out").textContent = answer.status + "\\n" + await answer.text();
      };
      ops.appendChild(box);
    }
  }
});
</script></body></html>
"""


def served_document(api_url: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT.read_text())
    document["servers"] = [{"url": api_url, "description": "this local stack"}]
    return document


class ApiDocs:
    def __init__(self, api_url: str) -> None:
        self._api_url = api_url

    def openapi_response(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse.json(200, served_document(self._api_url))

    def page_response(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [("content-type", "text/html; charset=utf-8")], _PAGE.encode())
