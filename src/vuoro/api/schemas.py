"""Request and response shapes of the API, typed tightly so the OpenAPI document is exact."""

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, StringConstraints

from vuoro.tickets.models import Level, Priority, Status


def _storable(value: str) -> str:
    """Refuse text no database can store: NUL characters and unpaired surrogates."""
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode.") from None
    return value


def text(max_length: int, min_length: int = 0, strip: bool = False) -> Any:
    """A string type with length limits that the database can store."""
    constraints = StringConstraints(min_length=min_length, max_length=max_length,
                                    strip_whitespace=strip)
    return Annotated[str, constraints, AfterValidator(_storable)]


Id = Annotated[int, Field(ge=1, le=2**53)]
Slug = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_]+$", min_length=1, max_length=60)]
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]+$", min_length=1, max_length=32)]
AnswerKey = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_]+$", min_length=1, max_length=60)]
Subject = text(200, 1)
LongText = text(100_000)
Body = text(100_000, 1)
Identifier = text(254, 3)
TokenName = text(100, 1, strip=True)
AnswerValue = text(5000) | int | float | bool | None

StopsWork = Literal["yes", "partly", "no"]
Affected = Literal["me", "team", "many"]
StatusValue = Literal[tuple(Status.values)]  # type: ignore[valid-type]
PriorityValue = Literal[tuple(Priority.values)]  # type: ignore[valid-type]
LevelValue = Literal[tuple(Level.values)]  # type: ignore[valid-type]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


class ServiceRef(Schema):
    slug: str
    name: str


class CategoryRef(Schema):
    slug: str
    name: str


class PersonRef(Schema):
    id: int
    name: str


class RequesterRef(Schema):
    id: int
    name: str
    email: str | None = Field(None, description="Hidden from partner agents.")


class NamedRef(Schema):
    id: int
    name: str


class TicketSummaryOut(Schema):
    reference: str
    subject: str
    status: StatusValue
    priority: PriorityValue
    channel: str
    service: ServiceRef
    category: CategoryRef | None
    requester: RequesterRef
    organisation: NamedRef | None
    team: NamedRef | None
    assignee: PersonRef | None
    created_at: datetime
    updated_at: datetime


class SlaClockOut(Schema):
    kind: Literal["first_response", "resolution"]
    state: Literal["running", "paused", "stopped"]
    due_at: datetime | None = Field(description="When the target falls due; empty unless running.")
    target_seconds: int = Field(description="Target in business seconds on the clock's calendar.")
    used_seconds: float = Field(description="Business time used, up to now for a running clock.")
    breached: bool


class ExpectedHandlingOut(Schema):
    at: datetime | None = Field(description="When handling starts: now, or the service's next opening.")
    text: str = Field(description="The same, as a sentence in the requester's language.")


class TicketOut(TicketSummaryOut):
    description: str = Field(description="Sanitised HTML.")
    impact: LevelValue
    urgency: LevelValue
    stops_work: str
    affected: str
    form_answers: dict[str, Any]
    first_response_at: datetime | None
    resolved_at: datetime | None
    expected_handling: ExpectedHandlingOut | None = Field(
        description="When the requester was told the request is handled; empty once resolved.")
    sla: list[SlaClockOut] = Field(description="The ticket's SLA clocks; empty without an SLA policy.")


class TicketPageOut(Schema):
    items: list[TicketSummaryOut]
    next_cursor: str | None


class TicketCreateIn(Schema):
    service: Slug = Field(description="Short name (slug) of the service.")
    category: Slug | None = Field(None, description="Short name of a category of the service.")
    subject: Subject
    description: LongText = ""
    stops_work: StopsWork
    affected: Affected
    form_answers: dict[AnswerKey, AnswerValue] = Field(default_factory=dict, max_length=100)
    requester: Id | Identifier | None = Field(
        None, description="Email or id of the person the request is for (service desk only)."
    )


class TicketChangeIn(Schema):
    status: StatusValue | None = None
    priority: PriorityValue | None = None
    impact: LevelValue | None = None
    urgency: LevelValue | None = None
    service: Slug | None = Field(None, description="Short name of the service to move the ticket to.")
    category: Slug | None = Field(None, description="Short name of a category of the ticket's (new) service, or null to clear.")
    team: Id | None = Field(None, description="Team id, or null to clear.")
    assignee: Id | None = Field(None, description="User id, or null to clear.")


class MessageIn(Schema):
    body: Body
    internal: bool = False


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    internal: bool
    created_at: datetime


class MessageOut(Schema):
    id: int
    author: PersonRef | None
    body: str = Field(description="Sanitised HTML.")
    internal: bool
    channel: str
    created_at: datetime
    attachments: list[AttachmentOut]


class EventOut(Schema):
    id: int
    kind: str
    field: str
    old_value: str
    new_value: str
    actor: PersonRef | None
    internal: bool
    created_at: datetime


class ChoiceOut(Schema):
    value: str
    label: str


class FormFieldOut(Schema):
    key: str
    kind: str
    required: bool
    label: str
    help: str
    choices: list[ChoiceOut]
    min_value: float | None
    max_value: float | None
    max_length: int


class CategoryOut(Schema):
    slug: str
    name: str
    description: str
    fields: list[FormFieldOut]


class ServiceOut(Schema):
    slug: str
    name: str
    description: str
    critical: bool


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreateIn(Schema):
    name: TokenName


class TokenIssuedOut(TokenOut):
    token: str = Field(description="The secret; shown only in this response.")

