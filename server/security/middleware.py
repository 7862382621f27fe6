"""The security middleware of the application, outermost first."""

from __future__ import annotations

from sqlalchemy import Engine
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from server.security.body import BodySizeLimit
from server.security.rate_limit import RateLimit
from server.security.timeout import RequestTimeout
from server.security.transport import GraphQLTransportRules
from server.settings import Settings


def security_middleware(settings: Settings, engine: Engine) -> list[Middleware]:
    """Build CORS, the request deadline, rate limiting, the body cap and transport rules.

    CORS comes first so that browsers can read the 4xx responses of the others.
    Cookies are not used, so cross-origin credentials stay off.
    """
    stack = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
            allow_credentials=False,
            max_age=600,
        ),
        Middleware(RequestTimeout, seconds=settings.request_timeout_seconds),
    ]
    if settings.rate_limit_per_minute > 0:
        stack.append(
            Middleware(
                RateLimit,
                per_minute=settings.rate_limit_per_minute,
                burst=settings.rate_limit_burst,
                engine=engine,
            )
        )
    stack += [
        Middleware(
            BodySizeLimit,
            max_bytes=settings.max_body_bytes,
            max_upload_bytes=settings.max_upload_bytes,
        ),
        Middleware(GraphQLTransportRules, max_query_tokens=settings.max_query_tokens),
    ]
    return stack
