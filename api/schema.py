"""How the API key appears in the OpenAPI schema (a drf-spectacular extension, loaded by the app)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class KeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.KeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer cv_<prefix>_<secret>"}
