"""The Litestar application: one factory for the web server, the tests and the benchmark."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.static_files import create_static_files_router
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from coord.accounts import proconnect
from coord.accounts.service import principal_for_token
from coord.accounts.sessions import principal_for_session
from coord.app import jobs
from coord.app.routes import api_routes, page_routes, system_routes, with_department
from coord.core.db import PooledSQLiteEngine, current_engine, engine_for, prepare_sqlite, use_engine
from coord.core.keys import csrf_key, session_key
from coord.core.settings import Settings, get_settings, use_settings
from coord.mail import outbox
from coord.mail.sink import SmtpSink
from coord.mail.smtp import SmtpSettings
from coord.notifications.middleware import UnreadCountMiddleware
from coord.ops.logs import configure_logging, install_redaction
from coord.ops.npm_tools import TOOLS_DIR
from coord.scheduling.config import cycle_config
from coord.web import apidocs, request_ids, security
from coord.web import metrics as web_metrics
from coord.web.auth import CSRF_COOKIE, AuthMiddleware, PrincipalLoaders, provide_scope
from coord.web.errors import EXCEPTION_HANDLERS
from coord.web.hygiene import bound_request_input, reject_nul_bytes
from coord.web.session_cookie import WriteOnChangeCookieConfig
from coord.web.templating import STATIC_DIR, template_config
from coord.worker.scheduler import CoordScheduler

logger = logging.getLogger("coord")
DSFR_DIST = TOOLS_DIR / "dsfr" / "node_modules" / "@gouvfr" / "dsfr" / "dist"

# The largest body of every route but the uploads (coord.documents.routes) and iMIP
# (coord.calendar.ingest); nginx's client_max_body_size covers all three (coord.app.deploy).
APP_BODY_LIMIT = 5_000_000
# Paths that never need a login: assets, the OpenAPI schema, health checks, partner links.
PUBLIC_PATHS = [
    "^/static/",
    "^/schema",
    "^/health",
    "^/ready",
    "^/metrics$",  # its own bearer token (coord.web.metrics)
    "^/connexion",
    "^/invitation/",
    "^/mot-de-passe",
    "^/r/",
    "^/favicon",
    # The pages every State site publishes (coord.web.legal), open to all.
    "^/accessibilite$",
    "^/mentions-legales$",
    "^/donnees-personnelles$",
    "^/plan-du-site$",
]
# Probes and assets: GET only, no page, no user. Neither the session cookie (decrypted and
# re-encrypted) nor a CSRF cookie has any use there, and load balancers call the probes often.
NO_SESSION_PATHS = ["^/api/", "^/static/", "^/schema", "^/health$", "^/ready$", "^/metrics$", "^/favicon"]
NO_CSRF_PATHS = ["^/static/", "^/health$", "^/ready$", "^/metrics$", "^/favicon"]


def _cookie_secret(settings: Settings) -> bytes:
    # AES-GCM needs 16, 24 or 32 bytes: HKDF of the configured secret for this purpose (coord.core.keys).
    return session_key(settings.secret_key)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, demo: bool = False, **extra_state: Any
) -> Litestar:
    settings = settings or get_settings()
    use_settings(settings)
    engine = engine or (current_engine() if settings is get_settings() else engine_for(settings))

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        use_engine(engine)
        await prepare_sqlite(engine)
        pooled = isinstance(engine, PostgresEngine) and settings.database_pool
        if pooled:
            await engine.start_connection_pool(min_size=1, max_size=10)
        try:
            yield
        finally:
            if pooled:
                await engine.close_connection_pool()
            if isinstance(engine, PooledSQLiteEngine):
                await engine.close_pool()

    @asynccontextmanager
    async def mail(app: Litestar) -> AsyncIterator[None]:
        """Demo mode captures mail on loopback; the scheduler delivers the outbox and runs the reminders."""
        sink = None
        if app.state.demo:
            sink = SmtpSink(host="127.0.0.1", port=settings.smtp_port)
            try:
                sink.start()
            except OSError as exc:
                logger.warning("demo SMTP sink could not start on port %s: %s", settings.smtp_port, exc)
                sink = None
            app.state.mail_sink = sink
        # One scheduler owns the outbox delivery and the reminder ticks (coord.worker.scheduler);
        # web instances of a deployment with a separate `coord worker` run with scheduler_enabled=false.
        scheduler = None
        if settings.scheduler_enabled:
            cycle = cycle_config(settings)
            scheduler = CoordScheduler(
                smtp_settings=SmtpSettings.from_settings(settings),
                outbox_seconds=5.0 if app.state.demo else float(cycle.outbox_seconds),
                jobs=jobs.periodic_jobs(tick_seconds=60.0 * cycle.tick_minutes),
            )
            scheduler.start()
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler:
                await scheduler.stop()
            if sink:
                sink.stop()

    session = WriteOnChangeCookieConfig(
        secret=_cookie_secret(settings),
        key="coord_session",
        max_age=settings.session_hours * 3600,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
        exclude=NO_SESSION_PATHS,
    )
    templates = template_config()
    install_redaction()  # no link or feed token in any log line (coord.ops.logs)
    app = Litestar(
        route_handlers=[
            *with_department(api_routes()),
            *with_department(page_routes()),
            *system_routes(),
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                opt={"exclude_from_auth": True},
                include_in_schema=False,
            ),
            # The State design system, installed from npm by `coord serve`/`coord demo` and tests/run.py.
            create_static_files_router(
                path="/static/dsfr",
                directories=[DSFR_DIST],
                opt={"exclude_from_auth": True},
                include_in_schema=False,
            ),
            apidocs.assets_router(),
            web_metrics.metrics_endpoint,  # Prometheus, behind metrics_token
        ],
        dependencies={"access": Provide(provide_scope)},
        middleware=[
            reject_nul_bytes,
            session.middleware,
            DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS),
            UnreadCountMiddleware,  # the header's unread count (coord.notifications.middleware)
            bound_request_input,  # path ids beyond 32 bits: 404; JSON nested too deep: 400
        ],
        csrf_config=CSRFConfig(
            secret=csrf_key(settings.secret_key),
            cookie_name=CSRF_COOKIE,
            cookie_secure=settings.cookie_secure,
            cookie_httponly=True,
            cookie_samesite="lax",
            # The API authenticates with bearer tokens (no ambient credential to forge); partner links
            # carry their own signed token.
            exclude=["^/api/", "^/r/", *NO_CSRF_PATHS],
        ),
        template_config=templates,
        plugins=[FlashPlugin(config=FlashConfig(template_config=templates))],
        openapi_config=OpenAPIConfig(
            title="Coord API",
            version="1.0.0",
            description="Coordination départementale de la lutte contre la traite des êtres humains.",
            path="/schema",
            render_plugins=apidocs.render_plugins(),  # Swagger UI from Coord itself, no CDN
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", description="Jeton créé par `coord token create`."
                    ),
                }
            ),
            security=[{"bearer": []}],
        ),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[database, mail, web_metrics.pool_sampler],
        state=State(
            {
                "settings": settings,
                "demo": demo or settings.demo_mode,
                "principals": PrincipalLoaders(for_token=principal_for_token, for_session=principal_for_session),
                # What a scrape of /metrics reads besides the processes' values (coord.web.metrics).
                "metrics_engine": engine,
                "metrics_sources": [outbox.metric_families],
                **extra_state,
            }
        ),
        request_max_body_size=APP_BODY_LIMIT,
        debug=False,
        # Logging is Coord's (coord.ops.logs): Litestar's default config would replace the JSON handler.
        logging_config=None,
    )
    provider = proconnect.provider_origin(settings)
    security.install(app, https=settings.base_url.startswith("https://"), form_targets=(provider,) if provider else ())
    web_metrics.install(app)  # request count and latency by route template (coord.web.metrics)
    # Outermost: every response gets its X-Request-ID, and every log line of the request carries it.
    return request_ids.install(app)


def production_app() -> Litestar:
    """The app of one process of `coord serve --workers N` (uvicorn imports it in each process)."""
    configure_logging(json_lines=True)
    return create_app()
