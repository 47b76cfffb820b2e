"""The API documentation at `/schema`: Swagger UI served by Coord itself, never from a CDN.

Litestar's own viewers load their scripts from public CDNs (a blank page on a prefecture network
without Internet access) and start them with inline scripts (refused by Coord's CSP). Here the Swagger
UI files come from the `swagger-ui-bundle-v2` package (module `swagger_ui_bundle`) and are served
under `/static/api/`, and the page starts them with `static/api-docs.js`: only same-origin scripts
and styles, no inline code.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

ASSETS_PATH = "/static/api"


class SwaggerViewer(OpenAPIRenderPlugin):
    """Swagger UI from same-origin files, started without inline script."""

    def __init__(self, *, path: str | list[str] = "/swagger", **kwargs: Any) -> None:
        super().__init__(path=path, favicon="", style="", **kwargs)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · Documentation</title>
  <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
  <script src="{ASSETS_PATH}/swagger-ui-bundle.js" defer></script>
  <script src="/static/api-docs.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec_url}"></div>
</body>
</html>
""".encode()


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """For `OpenAPIConfig(render_plugins=...)`: the viewer (also at the root, `/schema`) and the YAML
    schema; Litestar adds `/schema/openapi.json` itself."""
    return [SwaggerViewer(path=["/", "/swagger"]), YamlRenderPlugin()]


def assets_router() -> Router:
    """The viewer's files, from the installed package (cached by browsers like every static file)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[Path(str(swagger_ui_path))],
        opt={"exclude_from_auth": True},
        include_in_schema=False,
        name="api_docs_assets",
    )
