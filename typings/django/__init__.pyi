# Django ships no types; only what the type check needs is declared here, the rest is Any.
from typing import Any

def __getattr__(name: str) -> Any: ...
