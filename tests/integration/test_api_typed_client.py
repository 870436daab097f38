"""A frontend developer's path: generate a typed Python client from the document the local stack serves, with
openapi-python-client (PyPI), and call routes with it - public, signing in, authenticated (each answer parsed into
its typed view), and a refused request whose error comes back as the typed Error model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

GENERATOR = Path(sys.executable).with_name("openapi-python-client")

CALLS = textwrap.dedent("""
    import json, sys
    from coursepay_client import AuthenticatedClient, Client
    from coursepay_client.api.accounts import login, me
    from coursepay_client.api.courses import create_course
    from coursepay_client.api.payments import list_tracks
    from coursepay_client.models import CreateCourseRequest, Error, LoginRequest

    base_url = sys.argv[1]
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    tracks = list_tracks.sync_detailed(client=anonymous)
    tokens = login.sync(client=anonymous, body=LoginRequest(email="student@coursepay.local", password=sys.argv[2]))
    signed_in = AuthenticatedClient(base_url=base_url, token=tokens.access_token)
    profile = me.sync(client=signed_in)
    refused = create_course.sync(client=signed_in, body=CreateCourseRequest(title="x", currency="usd",
                                                                          monthly_price=1500))
    print(json.dumps({"tracks": [int(tracks.status_code), tracks.parsed.items[0].track_id],
                      "types": [type(tokens).__name__, type(profile).__name__, type(tracks.parsed).__name__],
                      "email": profile.email, "refused_type": type(refused).__name__,
                      "refused": refused.to_dict() if isinstance(refused, Error) else None}))
""")


def test_a_generated_typed_client_calls_the_api(api: Any, tmp_path: Path) -> None:
    from local.stack.seed import DEMO_PASSWORD

    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(api.get("/_local/openapi.json").json()))
    generated = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(document), "--meta", "none",
         "--output-path", str(tmp_path / "coursepay_client")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Endpoint will not be generated" not in generated.stdout, generated.stdout  # every route has a function

    called = subprocess.run([sys.executable, "-c", CALLS, api.base_url, DEMO_PASSWORD], capture_output=True,
                            text=True, timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert called.returncode == 0, called.stderr
    result = json.loads(called.stdout)
    assert result["tracks"] == [200, "DP"]
    assert result["email"] == "student@coursepay.local"
    assert result["types"] == ["Tokens", "Profile", "TrackViewPage"]  # typed answers, the document's views
    assert result["refused_type"] == "Error"  # a student may not create courses: 403 in the typed error shape
    assert result["refused"]["error"]["code"] == "forbidden"
