"""Phone numbers in one shape (E.164), so a person or a caller is found however the number was typed.

Pure: no Django. Finnish numbers are the default for national forms ("040 123 4567").
"""

import re

DEFAULT_COUNTRY_CODE = "358"
_SEPARATORS = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def normalise(raw: str, *, country_code: str = DEFAULT_COUNTRY_CODE) -> str | None:
    """``raw`` as E.164 ("+358401234567"), or ``None`` when it cannot be a phone number.

    Accepts separators, an international "00" prefix and a national leading "0" (taken as
    ``country_code``). The result always matches ``\\+[1-9]\\d{6,14}``.
    """
    text = _SEPARATORS.sub("", raw or "")
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = "+" + country_code + text[1:]
    return text if _E164.fullmatch(text) else None
