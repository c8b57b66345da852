"""Languages: a person's language as one we write in, and per-language text stored on a row as
``<field>_fi``, ``<field>_en``, ``<field>_sv``."""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language

LANGUAGE_CODES = ("fi", "en", "sv")


def language_of(language: str | None) -> str:
    """One of ``LANGUAGE_CODES`` for a stored language ("fi-FI" → "fi"): the site's language
    when none is given, English when it is one we do not write in."""
    code = (language or settings.LANGUAGE_CODE)[:2].lower()
    return code if code in LANGUAGE_CODES else "en"


def pick(obj: object, field: str, language: str | None = None) -> str:
    """Text of ``field`` in ``language`` (the active one by default), falling back to fi, en, sv."""
    lang = (language or get_language() or "fi")[:2]
    order = [lang] + [code for code in LANGUAGE_CODES if code != lang]
    for code in order:
        value = getattr(obj, f"{field}_{code}", "")
        if value:
            return str(value)
    return ""


class TranslatedNameMixin(models.Model):
    name_fi = models.CharField("nimi (fi)", max_length=200)
    name_en = models.CharField("name (en)", max_length=200, blank=True)
    name_sv = models.CharField("namn (sv)", max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick(self, "name")
