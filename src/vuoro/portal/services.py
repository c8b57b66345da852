"""Writes the portal needs before a request reaches the intake service."""

import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vuoro.accounts.models import Role, User
from vuoro.accounts.selectors import organisation_for_email


def _existing_user(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).order_by("id").first()


def _refuse_unusable(user: User) -> None:
    """An address alone does not speak for an account that signs in, nor for a disabled one.

    Whoever has a password (a requester or desk staff) signs in to make a request; one answer for
    all of them, so the form does not tell account types apart. Only contacts without a password
    (made by earlier mail or anonymous requests) are filed from their address alone, and their
    tracking link goes to that address, never to the browser (``portal.views.new_request``).
    """
    if user.uses_desk or not user.is_active or user.has_usable_password():
        raise ValidationError({"email": [_("Please sign in to make a request with this address.")]})


def prospective_requester(email: str) -> User:
    """The requester a request from ``email`` would get, unsaved when new.

    Lets a request be checked in full before anything is stored.
    """
    email = (email or "").strip()
    existing = _existing_user(email) if email else None
    if existing is not None:
        _refuse_unusable(existing)
        return existing
    return User(role=Role.REQUESTER, email=email, organisation=organisation_for_email(email))


def _split_name(name: str) -> tuple[str, str]:
    first, _sep, last = " ".join(name.split()).partition(" ")
    return first[:150], last[:150]


def requester_for_email(*, email: str, name: str, language: str) -> User:
    """Find the requester with this address, or create one without a usable password.

    A new requester joins the organisation whose email domain matches. The username is the
    address, so two simultaneous first requests meet the unique constraint and share one user.
    """
    email = email.strip()
    existing = _existing_user(email)
    if existing is not None:
        _refuse_unusable(existing)
        return existing
    first_name, last_name = _split_name(name)
    user = User(
        username=email.lower()[:150],
        email=email,
        role=Role.REQUESTER,
        first_name=first_name,
        last_name=last_name,
        language=language[:2] or "fi",
        organisation=organisation_for_email(email),
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        existing = _existing_user(email)
        if existing is not None:
            _refuse_unusable(existing)
            return existing
        user.username = f"{email.lower()[:110]}-{uuid.uuid4().hex[:8]}"
        user.save()
    return user
