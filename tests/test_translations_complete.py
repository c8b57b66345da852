"""Every text the code marks for translation is in the Finnish and Swedish catalogues, translated.

Reads the single-literal calls of the gettext functions and their aliases (``_``, ``_lazy``,
``gettext``, ``gettext_lazy``, ``gettext_noop``) in ``src/vuoro``: a text under an alias
xgettext does not know, or one added without running makemessages, fails here by name.
"""

import ast
from pathlib import Path

import polib
import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "vuoro"
FUNCTIONS = {"_", "_lazy", "gettext", "gettext_lazy", "gettext_noop"}


def marked_texts() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
                    and len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{path.relative_to(SRC)}:{node.lineno}")
    return found


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_marked_text_is_translated(language):
    catalogue = polib.pofile(str(SRC / "locale" / language / "LC_MESSAGES" / "django.po"))
    translated = {entry.msgid for entry in catalogue.translated_entries()}
    texts = marked_texts()
    assert len(texts) > 500
    missing = sorted(f"{where}: {text!r}" for text, where in texts.items() if text not in translated)
    assert not missing, f"{len(missing)} texts not translated in {language}:\n" + "\n".join(missing[:40])
