"""Validation of answers to a category's standard request form (the fields are data)."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from vuoro.catalog.models import Category, FieldKind, FormField

TRUE_WORDS = {"true", "1", "yes", "on", "kyllä", "ja"}
FALSE_WORDS = {"false", "0", "no", "off", "ei", "nej", ""}


def _clean_value(field: FormField, raw: Any) -> Any:
    if field.kind == FieldKind.YES_NO:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError(_("Answer yes or no."))
    text = "" if raw is None else str(raw).strip()
    if field.kind in (FieldKind.TEXT, FieldKind.LONG_TEXT):
        limit = field.max_length if field.kind == FieldKind.TEXT else max(field.max_length, 5000)
        if len(text) > limit:
            raise ValidationError(_("At most %(limit)d characters.") % {"limit": limit})
        return text
    if field.kind == FieldKind.CHOICE:
        allowed = {value for value, _label in field.choice_options()}
        if text not in allowed:
            raise ValidationError(_("Choose one of the offered options."))
        return text
    if field.kind == FieldKind.NUMBER:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationError(_("Enter a number.")) from None
        if not number.is_finite():
            raise ValidationError(_("Enter a number."))
        if field.min_value is not None and number < field.min_value:
            raise ValidationError(_("The smallest allowed value is %(v)s.") % {"v": field.min_value})
        if field.max_value is not None and number > field.max_value:
            raise ValidationError(_("The largest allowed value is %(v)s.") % {"v": field.max_value})
        return str(number)
    if field.kind == FieldKind.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from None
    raise ValidationError(_("Unknown field type."))


def _is_empty(field: FormField, raw: Any) -> bool:
    if field.kind == FieldKind.YES_NO:
        return raw is None
    return raw is None or str(raw).strip() == ""


def validate_answers(category: Category, answers: dict[str, Any]) -> dict[str, Any]:
    """Cleaned answers keyed by field key; raises ValidationError with one message per field.

    Unknown keys are refused so that a typo in an API call is not silently dropped.
    """
    if not isinstance(answers, dict):
        raise ValidationError({"form_answers": [_("Form answers must be an object.")]})
    fields = list(category.fields.all())
    known = {f.key for f in fields}
    errors: dict[str, list[str]] = {}
    for key in answers:
        if key not in known:
            errors[str(key)] = [_("This category's form has no such field.")]
    cleaned: dict[str, Any] = {}
    for field in fields:
        raw = answers.get(field.key)
        if _is_empty(field, raw):
            if field.required:
                errors[field.key] = [_("This field is required.")]
            continue
        try:
            cleaned[field.key] = _clean_value(field, raw)
        except ValidationError as exc:
            errors[field.key] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    return cleaned


def answers_for_display(category: Category | None, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, shown value) pairs in form order, in the active language."""
    if category is None:
        return [(k, str(v)) for k, v in answers.items()]
    rows = []
    for field in category.fields.all():
        if field.key not in answers:
            continue
        value = answers[field.key]
        if field.kind == FieldKind.YES_NO:
            shown = _("Yes") if value else _("No")
        elif field.kind == FieldKind.CHOICE:
            shown = dict(field.choice_options()).get(str(value), str(value))
        else:
            shown = str(value)
        rows.append((field.label, shown))
    return rows
