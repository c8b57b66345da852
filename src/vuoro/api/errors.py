"""One error shape for the whole API: ``{"detail": "...", "errors": {"field": ["..."]}}``.

Business rules raise Django's ValidationError, PermissionDenied and Http404 from services and
selectors; these handlers turn them into 400, 403 and 404 so no endpoint has to.
"""

import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError

# Parameter sources ninja puts first in an error location; the field path follows them.
SOURCES = {"body", "query", "path", "header", "form", "file", "cookie"}


def error_body(detail: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    return body


def _field_path(loc: tuple[Any, ...] | list[Any], body_params: set[str]) -> str:
    parts = list(loc)
    if parts and parts[0] in SOURCES:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in body_params:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "__all__"


def _schema_message(error: dict[str, Any]) -> str:
    """Pydantic's message, in the request language for the most common cases."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        return _("At most %(n)d characters.") % {"n": ctx.get("max_length", 0)}
    if kind == "string_too_short":
        return _("At least %(n)d characters.") % {"n": ctx.get("min_length", 0)}
    if kind == "string_type":
        return _("Enter text.")
    if kind == "literal_error":
        return _("Choose one of: %(options)s.") % {"options": ctx.get("expected", "")}
    return str(error.get("msg", _("Invalid value.")))


def schema_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Ninja's error list as field path → messages; union branches repeat, so deduplicate."""
    body_params = {"payload", "data", "body"}
    result: dict[str, list[str]] = {}
    for error in errors:
        loc = error.get("loc", ())
        # A union (e.g. id or email) reports one error per branch, named after the branch type.
        loc = [p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"int", "str", "float", "bool", "none"}))]
        path = _field_path(loc, body_params)
        message = _schema_message(error)
        if message not in result.setdefault(path, []):
            result[path].append(message)
    return result


def _validation_error(request: HttpRequest, exc: DjangoValidationError, api: NinjaAPI) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, error_body(_("Invalid input."), errors), status=400)


def _schema_validation_error(request: HttpRequest, exc: SchemaValidationError, api: NinjaAPI) -> HttpResponse:
    return api.create_response(
        request, error_body(_("Invalid input."), schema_errors(exc.errors)), status=422
    )


def _permission_denied(request: HttpRequest, exc: PermissionDenied, api: NinjaAPI) -> HttpResponse:
    detail = str(exc) or _("You do not have permission to do this.")
    return api.create_response(request, error_body(detail), status=403)


def _not_found(request: HttpRequest, exc: Http404, api: NinjaAPI) -> HttpResponse:
    return api.create_response(request, error_body(_("Not found.")), status=404)


def _authentication_failed(request: HttpRequest, exc: AuthenticationError, api: NinjaAPI) -> HttpResponse:
    response = api.create_response(
        request, error_body(_("A valid API token is required.")), status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


def _http_error(request: HttpRequest, exc: HttpError, api: NinjaAPI) -> HttpResponse:
    """Ninja raises HttpError(400) when the body is not JSON; say so plainly."""
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | json.JSONDecodeError):
        detail = _("The request body is not valid JSON.")
        return api.create_response(request, error_body(detail, {"body": [detail]}), status=400)
    return api.create_response(request, error_body(str(exc)), status=exc.status_code)


def _bound(handler: Callable[[HttpRequest, Any, NinjaAPI], HttpResponse],
           api: NinjaAPI) -> Callable[[HttpRequest, Any], HttpResponse]:
    """``handler`` as ninja calls it: with the request and the exception only."""
    return lambda request, exc: handler(request, exc, api)


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api``."""
    handlers = [
        (DjangoValidationError, _validation_error),
        (SchemaValidationError, _schema_validation_error),
        (PermissionDenied, _permission_denied),
        (Http404, _not_found),
        (AuthenticationError, _authentication_failed),
        (HttpError, _http_error),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, _bound(handler, api))
