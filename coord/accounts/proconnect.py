"""ProConnect, the State's identity federation for civil servants: the OpenID Connect client.

Authorization code flow as ProConnect documents it (numerique-gouv/proconnect-documentation,
« Implémentation technique »): endpoints from discovery (`{issuer}/.well-known/openid-configuration`,
kept a few minutes in the process); the authorization URL carries exactly response_type, client_id,
redirect_uri, scope, state and nonce (ProConnect refuses any other parameter; acr_values is not
among those it expects); the code is exchanged with client_secret_post; the ID token and the userinfo
response — a signed JWT at ProConnect, not JSON — are verified with joserfc against the provider's
JWKS (fetched again once when a token names an unknown key). Accounts are matched on the e-mail,
lower-cased: `sub` differs per identity provider behind ProConnect.

Every failure raises a `ProConnectError` whose French `message` and `status_code` the page shows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from coord.accounts.tokens import new_secret
from coord.core.errors import CoordError
from coord.core.settings import Settings

SCOPE = "openid given_name usual_name email uid siret idp_id"
METADATA_SECONDS = 300  # discovery and JWKS kept this long in the process
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ALGORITHMS = ["RS256", "ES256"]  # what a service may register at ProConnect, HS256 aside: never "none"
LEEWAY = 60  # seconds of clock difference tolerated on exp and iat
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


class ProConnectError(CoordError):
    """A sign-in with ProConnect that cannot go on; `message` (French) says why to the person."""

    status_code = 400
    title = "Connexion avec ProConnect impossible"


class ProviderUnreachable(ProConnectError):
    status_code = 502
    title = "ProConnect est indisponible"

    def __init__(self) -> None:
        super().__init__(
            "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes ou, si vous avez un mot "
            "de passe Coord, connectez-vous avec votre adresse électronique et votre mot de passe."
        )


class ProviderMisbehaved(ProConnectError):
    """ProConnect answered, but not as OpenID Connect says (bad status, JSON, document)."""

    status_code = 502
    title = "ProConnect est indisponible"

    def __init__(self, detail: str) -> None:
        super().__init__(
            "ProConnect a renvoyé une réponse inattendue : la connexion n'a pas pu aboutir. Réessayez dans "
            "quelques minutes."
        )
        self.detail = detail  # for the audit and the logs, not for the page


class CallbackInvalid(ProConnectError):
    """The return from ProConnect does not match a sign-in this browser started (state)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "Cette connexion avec ProConnect n'est pas ou plus valable (elle a expiré, a déjà servi ou a été "
            "commencée dans un autre navigateur). Recommencez depuis la page de connexion."
        )
        self.detail = detail


class ProviderDenied(ProConnectError):
    """ProConnect came back with an `error` parameter instead of a code."""

    def __init__(self, error: str) -> None:
        if error == "access_denied":
            message = "La connexion avec ProConnect a été interrompue : vous n'êtes pas connecté(e) à Coord."
        else:
            message = (
                "ProConnect n'a pas pu vous identifier. Recommencez depuis la page de connexion ; si le problème "
                "persiste, adressez-vous au référent de votre préfecture ou à la coordination nationale."
            )
        super().__init__(message)
        self.detail = error


class CodeRefused(ProConnectError):
    """The token endpoint refused the code (invalid_grant: expired, already used, or not ours)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "ProConnect n'a pas confirmé cette connexion : le délai est dépassé ou elle a déjà servi. "
            "Recommencez depuis la page de connexion."
        )
        self.detail = detail


class IdentityInvalid(ProConnectError):
    """A token failed its checks: signature, issuer, audience, dates, nonce or subject."""

    status_code = 401

    def __init__(self, detail: str) -> None:
        super().__init__(
            "La réponse de ProConnect n'a pas pu être vérifiée : la connexion est refusée. Recommencez depuis "
            "la page de connexion ; si le problème persiste, prévenez la coordination nationale."
        )
        self.detail = detail


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str


@dataclass(frozen=True)
class Identity:
    """Who ProConnect says signed in (claims of the verified userinfo)."""

    sub: str
    email: str  # lower-cased
    given_name: str
    usual_name: str
    id_token: str  # raw, kept for the logout's id_token_hint
    claims: dict[str, Any]

    @property
    def full_name(self) -> str:
        return " ".join(f"{self.given_name} {self.usual_name}".split())


_metadata: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks: dict[str, tuple[float, KeySet]] = {}


def clear_cache() -> None:
    """Forget discovery documents and key sets (tests; a deployment just waits a few minutes)."""
    _metadata.clear()
    _jwks.clear()


def redirect_url(settings: Settings) -> str:
    return settings.proconnect_redirect_url or f"{settings.base_url.rstrip('/')}/connexion/proconnect/retour"


def post_logout_url(settings: Settings) -> str:
    return f"{settings.base_url.rstrip('/')}/connexion"


def provider_origin(settings: Settings) -> str | None:
    """The provider's origin (scheme://host[:port]) when ProConnect is on: the page policy's
    `form-action` must allow it, since the logout form's redirect to end_session_endpoint goes there."""
    if not settings.proconnect_enabled or not settings.proconnect_issuer:
        return None
    parts = httpx.URL(settings.proconnect_issuer)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{parts.host}{port}"


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False, headers={"User-Agent": "Coord"})


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ProviderMisbehaved(f"{what}: not JSON") from None
    if not isinstance(body, dict):
        raise ProviderMisbehaved(f"{what}: not a JSON object")
    return body


async def _get(url: str, what: str, **kwargs: Any) -> httpx.Response:
    try:
        async with _client() as client:
            response = await client.get(url, **kwargs)
    except httpx.HTTPError:
        raise ProviderUnreachable() from None
    if response.status_code >= 500:
        raise ProviderUnreachable()
    return response


def missing_endpoints(document: dict[str, Any]) -> list[str]:
    """The endpoints Coord uses that a discovery document does not give as a URL."""
    return [name for name in REQUIRED_ENDPOINTS if not str(document.get(name, "")).startswith(("https://", "http://"))]


async def metadata(settings: Settings) -> ProviderMetadata:
    """The provider's endpoints, from its discovery document (cached for METADATA_SECONDS)."""
    issuer = settings.proconnect_issuer.rstrip("/")
    cached = _metadata.get(issuer)
    if cached and time.monotonic() - cached[0] < METADATA_SECONDS:
        return cached[1]
    response = await _get(f"{issuer}/.well-known/openid-configuration", "discovery")
    if response.status_code != 200:
        raise ProviderMisbehaved(f"discovery: HTTP {response.status_code}")
    document = _json_object(response, "discovery")
    # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched from.
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderMisbehaved(f"discovery: issuer {document.get('issuer')!r} instead of {issuer!r}")
    missing = missing_endpoints(document)
    if missing:
        raise ProviderMisbehaved(f"discovery: missing {', '.join(missing)}")
    found = ProviderMetadata(
        issuer=str(document["issuer"]),
        authorization_endpoint=str(document["authorization_endpoint"]),
        token_endpoint=str(document["token_endpoint"]),
        userinfo_endpoint=str(document["userinfo_endpoint"]),
        jwks_uri=str(document["jwks_uri"]),
        end_session_endpoint=str(document.get("end_session_endpoint") or ""),
    )
    _metadata[issuer] = (time.monotonic(), found)
    return found


def authorization_url(settings: Settings, meta: ProviderMetadata, *, state: str, nonce: str) -> str:
    """Where the browser goes to sign in: exactly the parameters ProConnect accepts, nothing else."""
    params = {
        "response_type": "code",
        "client_id": settings.proconnect_client_id,
        "redirect_uri": redirect_url(settings),
        "scope": SCOPE,
        "state": state,
        "nonce": nonce,
    }
    separator = "&" if "?" in meta.authorization_endpoint else "?"
    return f"{meta.authorization_endpoint}{separator}{urlencode(params, quote_via=quote)}"


async def _key_set(meta: ProviderMetadata, *, refresh: bool = False) -> KeySet:
    cached = _jwks.get(meta.jwks_uri)
    if cached and not refresh and time.monotonic() - cached[0] < METADATA_SECONDS:
        return cached[1]
    response = await _get(meta.jwks_uri, "jwks")
    if response.status_code != 200:
        raise ProviderMisbehaved(f"jwks: HTTP {response.status_code}")
    try:
        keys = KeySet.import_key_set(_json_object(response, "jwks"))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ProviderMisbehaved(f"jwks: {exc}") from None
    _jwks[meta.jwks_uri] = (time.monotonic(), keys)
    return keys


async def _verified(meta: ProviderMetadata, token: str, what: str) -> jwt.Token:
    """The token's header and claims once its signature checks out with the provider's key."""
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError) as exc:
        raise IdentityInvalid(f"{what}: not a compact JWS ({exc})") from None
    kid, alg = header.get("kid"), header.get("alg")
    if alg not in ALGORITHMS:
        raise IdentityInvalid(f"{what}: algorithm {alg!r} refused")
    if not isinstance(kid, str) or not kid:
        raise IdentityInvalid(f"{what}: no kid")
    keys = await _key_set(meta)
    if not any(key.kid == kid for key in keys.keys):
        keys = await _key_set(meta, refresh=True)  # the provider may have rotated its keys
    key = next((key for key in keys.keys if key.kid == kid), None)
    if key is None:
        raise IdentityInvalid(f"{what}: unknown kid {kid!r}")
    try:
        return jwt.decode(token, key, algorithms=[alg])
    except JoseError as exc:
        raise IdentityInvalid(f"{what}: {exc.error or type(exc).__name__}") from None
    except (ValueError, TypeError) as exc:
        raise IdentityInvalid(f"{what}: {exc}") from None


def _check_claims(claims: dict[str, Any], what: str, **options: Any) -> None:
    try:
        jwt.JWTClaimsRegistry(leeway=LEEWAY, **options).validate(claims)
    except JoseError as exc:
        raise IdentityInvalid(f"{what}: {exc.error or type(exc).__name__} {exc.description or ''}".strip()) from None


async def _exchange(settings: Settings, meta: ProviderMetadata, code: str) -> tuple[str, str]:
    """(ID token, access token) for the code; client_secret_post as ProConnect documents it."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_url(settings),
        "client_id": settings.proconnect_client_id,
        "client_secret": settings.proconnect_client_secret,
    }
    try:
        async with _client() as client:
            response = await client.post(meta.token_endpoint, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError:
        raise ProviderUnreachable() from None
    if response.status_code >= 500:
        raise ProviderUnreachable()
    body = _json_object(response, "token")
    if response.status_code != 200:
        error = str(body.get("error", ""))
        if error == "invalid_grant":
            raise CodeRefused(f"token: {error} {body.get('error_description', '')}".strip())
        raise ProviderMisbehaved(f"token: HTTP {response.status_code} {error}")
    id_token, access_token = body.get("id_token"), body.get("access_token")
    if not isinstance(id_token, str) or not isinstance(access_token, str) or not id_token or not access_token:
        raise ProviderMisbehaved("token: no id_token or access_token")
    if str(body.get("token_type", "")).lower() != "bearer":
        raise ProviderMisbehaved(f"token: token_type {body.get('token_type')!r}")
    return id_token, access_token


async def _userinfo(meta: ProviderMetadata, access_token: str) -> str:
    response = await _get(
        meta.userinfo_endpoint,
        "userinfo",
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/jwt"},
    )
    if response.status_code != 200:
        raise ProviderMisbehaved(f"userinfo: HTTP {response.status_code}")
    if response.headers.get("content-type", "").split(";")[0].strip().lower() != "application/jwt":
        # ProConnect signs userinfo: a plain JSON answer would be claims nobody vouches for.
        raise IdentityInvalid(f"userinfo: content type {response.headers.get('content-type')!r}, not a JWT")
    return response.text.strip()


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return " ".join(value.split()) if isinstance(value, str) else ""


async def complete_sign_in(settings: Settings, *, code: str, nonce: str) -> Identity:
    """Exchange the code, verify the ID token and the signed userinfo; who signed in."""
    meta = await metadata(settings)
    id_token, access_token = await _exchange(settings, meta, code)

    token = await _verified(meta, id_token, "id_token")
    _check_claims(
        token.claims,
        "id_token",
        iss={"essential": True, "value": meta.issuer},
        aud={"essential": True, "value": settings.proconnect_client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    audience = token.claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and token.claims.get("azp") != settings.proconnect_client_id:
        raise IdentityInvalid("id_token: several audiences without our azp")  # OIDC Core §3.1.3.7

    info = await _verified(meta, await _userinfo(meta, access_token), "userinfo")
    _check_claims(
        info.claims,
        "userinfo",
        iss={"essential": True, "value": meta.issuer},
        aud={"essential": True, "value": settings.proconnect_client_id},
        sub={"essential": True, "value": token.claims["sub"]},  # OIDC Core §5.3.2: same person
        email={"essential": True},
    )
    email = _text(info.claims, "email").lower()
    if "@" not in email or len(email) > 254:
        raise IdentityInvalid("userinfo: no usable email")
    return Identity(
        sub=str(token.claims["sub"]),
        email=email,
        given_name=_text(info.claims, "given_name"),
        usual_name=_text(info.claims, "usual_name"),
        id_token=id_token,
        claims=dict(info.claims),
    )


async def logout_redirect(settings: Settings, id_token: str) -> str | None:
    """Where to send the browser to end its ProConnect session too, or None (local logout only).

    ProConnect's end_session_endpoint wants id_token_hint, state and post_logout_redirect_uri; if the
    provider cannot be reached the logout stays local rather than failing."""
    if not settings.proconnect_enabled or not id_token or not settings.proconnect_issuer:
        return None
    try:
        meta = await metadata(settings)
    except ProConnectError:
        return None
    if not meta.end_session_endpoint:
        return None
    params = {
        "id_token_hint": id_token,
        "state": new_secret(),
        "post_logout_redirect_uri": post_logout_url(settings),
    }
    separator = "&" if "?" in meta.end_session_endpoint else "?"
    return f"{meta.end_session_endpoint}{separator}{urlencode(params, quote_via=quote)}"
