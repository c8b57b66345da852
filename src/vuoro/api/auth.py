"""Bearer-token authentication: every endpoint acts as the person who issued the token."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from vuoro.accounts.models import User
from vuoro.accounts.services import api_token_authenticate


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer vuo_…``; an unknown or revoked token is a 401."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(token.strip())
        if user is not None:
            request.user = user
        return user
