"""HTML from requesters and agents is cleaned with nh3 before it is stored."""

import nh3

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "details", "em", "h3", "h4", "i", "li", "ol", "p", "pre",
    "strong", "summary", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan"}, "th": {"colspan"}}


def clean_html(text: str) -> str:
    """Sanitised HTML: scripts, event handlers, styles and unsafe URLs removed."""
    return nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def text_to_html(text: str) -> str:
    """Plain text as safe HTML paragraphs (line breaks kept)."""
    import html

    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(
        "<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs
    )


def body_to_html(text: str) -> str:
    """Input that looks like HTML is sanitised; anything else is escaped as text."""
    stripped = text.strip()
    if stripped.startswith("<") and ">" in stripped:
        return clean_html(stripped)
    return text_to_html(stripped)
