"""A hand-off's JSON payload template: {placeholders} filled with JSON-escaped ticket values.

Pure (no Django): the admin checks a template with the same renderer the sender uses, so a
template that saves is one that renders.
"""

import json
import re
from typing import Any

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
FIELDS = ("reference", "subject", "description", "status", "priority", "service", "requester",
          "created_at")
# Values with every character a placeholder may bring in: quotes, backslashes, braces, newlines.
SAMPLE = {name: 'x"\\{}\n' for name in FIELDS}


def render(template: str, values: dict[str, Any]) -> Any:
    """The payload; each value is JSON-escaped so it cannot break out. ValueError if not JSON."""
    escaped = {k: json.dumps(str(v))[1:-1] for k, v in values.items()}
    return json.loads(PLACEHOLDER.sub(lambda m: escaped.get(m[1], m[0]), template))


def template_problem(template: str) -> str:
    """Why the template cannot be used (in English, for the admin form), or empty."""
    unknown = sorted(set(PLACEHOLDER.findall(template)) - set(FIELDS))
    if unknown:
        return f"Unknown placeholders: {', '.join(unknown)}. Known: {', '.join(FIELDS)}."
    try:
        render(template, SAMPLE)
    except ValueError as exc:
        return f"Not valid JSON once filled in: {exc}"
    return ""
