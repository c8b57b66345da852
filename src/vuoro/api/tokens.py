"""The caller's own API tokens: list, issue (the secret is shown once) and revoke."""

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Path, Router, Schema, Status

from vuoro.accounts.models import ApiToken, User
from vuoro.accounts.selectors import api_token_list
from vuoro.accounts.services import api_token_issue, api_token_revoke
from vuoro.api.schemas import ErrorOut, Id, TokenCreateIn, TokenIssuedOut, TokenOut

router = Router(tags=["tokens"])

ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _token(token: ApiToken) -> dict[str, Any]:
    return {"id": token.pk, "name": token.name, "prefix": token.prefix,
            "created_at": token.created_at, "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at}


@router.get("/tokens", response={200: list[TokenOut], **ERRORS}, summary="List own tokens")
def list_tokens(request: HttpRequest) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    return [_token(t) for t in api_token_list(user=user)]


@router.post("/tokens", response={201: TokenIssuedOut, **ERRORS}, summary="Issue a token")
def issue_token(request: HttpRequest, payload: TokenCreateIn) -> Any:
    """The plain token is in this response only; Vuoro keeps just its hash."""
    user: User = request.auth  # type: ignore[attr-defined]
    token, plain = api_token_issue(user=user, name=payload.name)
    return Status(201, {**_token(token), "token": plain})


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS}, summary="Revoke a token")
def revoke_token(request: HttpRequest, token_id: Path[Id]) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    if not api_token_revoke(user=user, token_id=token_id):
        raise Http404
    return Status(204, None)
