# mypy: disable-error-code="misc"
# Django ships no types: the choices enums are declared so that a member (Channel.PORTAL) is
# its str or int value to the type check; everything else in django.db.models is Any.
import enum
from typing import Any, ClassVar

class Choices(enum.Enum):
    choices: ClassVar[list[tuple[Any, str]]]
    values: ClassVar[list[Any]]
    labels: ClassVar[list[str]]
    names: ClassVar[list[str]]
    @property
    def label(self) -> str: ...

class TextChoices(str, Choices):
    @property
    def value(self) -> str: ...

class IntegerChoices(int, Choices):
    @property
    def value(self) -> int: ...

def __getattr__(name: str) -> Any: ...
