"""The API's documentation page (/api/v1/docs/): Swagger UI from our own static files, under our CSP, in Chromium."""

from __future__ import annotations

from urllib.parse import urlsplit


def test_the_docs_page_draws_every_operation_from_our_own_files_under_our_csp(browser, live_server):
    page = browser.new_page()
    hosts, refusals = set(), []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on(
        "console", lambda message: refusals.append(message.text) if "Content Security Policy" in message.text else None
    )
    response = page.goto(f"{live_server.url}/api/v1/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = {element.inner_text().replace("\u200b", "") for element in page.query_selector_all(".opblock-summary-path")}
    assert "/api/v1/drafts/" in paths and "/api/v1/dispatches/{id}/deliveries/" in paths
    assert len(paths) >= 14
    assert hosts == {urlsplit(live_server.url).netloc}, "nothing from a CDN"
    assert refusals == []


def test_the_schema_is_served_as_openapi_json_without_a_key(client, db):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert (
        schema["openapi"].startswith("3.") and schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    )
