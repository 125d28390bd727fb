"""Self-contained HTML reports: ``report.md`` rendered as ``report.html`` with every figure it
references embedded (base64 PNG), so that the file opens anywhere without network or the
folder beside it.

The Markdown the reports write uses a small subset — headings, paragraphs, ``-`` lists,
pipe tables, fenced code, inline code, bold, links and images — and that subset is what
:func:`markdown_to_html` renders (no dependency on a Markdown package). An image whose file
is missing is reported in the page as missing, never linked.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["markdown_to_html", "provenance_lines", "sha256_of", "write_html_report"]

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; line-height: 1.45; color: #222; }
h1, h2, h3 { line-height: 1.2; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .55em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code { background: #f5f5f5; padding: 0 .2em; border-radius: 3px; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: .85em; }
img { max-width: 100%; height: auto; margin: .4em 0; }
blockquote { border-left: 4px solid #D55E00; margin: 1em 0; padding: .4em 1em;
             background: #fff4ec; }
.missing { color: #b00; font-style: italic; }
"""

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance_lines(
    *,
    command_line: str | None,
    data_path: str | Path | None,
    seed: int | None,
) -> list[str]:
    """Markdown lines saying how a result was made: command, paracrine version, date (UTC),
    the data file's SHA-256 and the seed."""
    from paracrine import __version__

    lines = [
        f"- command: `{command_line}`" if command_line else "- command: (called from Python)",
        f"- paracrine {__version__}, {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    if data_path is not None and Path(data_path).is_file():
        lines.append(f"- data `{Path(data_path).name}`: SHA-256 `{sha256_of(data_path)}`")
    if seed is not None:
        lines.append(f"- seed {seed}")
    return lines


def _inline(text: str, folder: Path | None) -> str:
    """Inline Markdown → HTML; images become embedded PNGs (or a 'missing' note)."""
    parts: list[str] = []
    pos = 0
    for match in _IMAGE.finditer(text):
        parts.append(_inline_text(text[pos : match.start()]))
        parts.append(_image(match.group(1), match.group(2), folder))
        pos = match.end()
    parts.append(_inline_text(text[pos:]))
    return "".join(parts)


def _inline_text(text: str) -> str:
    out = html.escape(text, quote=False)
    out = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", out)
    out = _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", out)
    # links to files in the folder are kept as text (the report must stand alone); web links
    # stay links
    return _LINK.sub(
        lambda m: (
            f'<a href="{m.group(2)}">{m.group(1)}</a>'
            if m.group(2).startswith(("http://", "https://"))
            else f"{m.group(1)} (<code>{m.group(2)}</code>)"
        ),
        out,
    )


def _image(alt: str, src: str, folder: Path | None) -> str:
    path = (folder / src) if folder is not None else Path(src)
    if src.startswith(("http://", "https://", "data:")) or not path.is_file():
        return f'<span class="missing">[figure {html.escape(src)} not found]</span>'
    payload = base64.b64encode(path.read_bytes()).decode("ascii")
    mime = "image/png" if path.suffix.lower() == ".png" else "image/svg+xml"
    return f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{payload}">'


def markdown_to_html(text: str, *, folder: str | Path | None = None, title: str = "") -> str:
    """A complete HTML page from the report Markdown subset; images are read from *folder*
    and embedded."""
    root = Path(folder) if folder is not None else None
    body: list[str] = []
    lines = text.splitlines()
    i = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            body.append(f"<p>{_inline(' '.join(paragraph), root)}</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            body.append(f"<pre>{html.escape(chr(10).join(block))}</pre>")
        elif not stripped:
            flush()
        elif re.match(r"^#{1,6} ", stripped):
            flush()
            level = len(stripped) - len(stripped.lstrip("#"))
            body.append(f"<h{level}>{_inline(stripped[level:].strip(), root)}</h{level}>")
        elif stripped.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i].strip().strip("|").split("|"))
                i += 1
            i -= 1
            header, *rest = rows
            rest = [r for r in rest if not all(set(c.strip()) <= set("-: ") for c in r)]
            cells = "".join(f"<th>{_inline(c.strip(), root)}</th>" for c in header)
            out = [f"<table><thead><tr>{cells}</tr></thead><tbody>"]
            for row in rest:
                out.append(
                    "<tr>" + "".join(f"<td>{_inline(c.strip(), root)}</td>" for c in row) + "</tr>"
                )
            body.append("".join(out) + "</tbody></table>")
        elif stripped.startswith(("- ", "* ")):
            flush()
            items = []
            while i < len(lines) and lines[i].strip().startswith(("- ", "* ")):
                item = lines[i].strip()[2:]
                # continuation lines of an item (indented)
                while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                    i += 1
                    item += " " + lines[i].strip()
                items.append(f"<li>{_inline(item, root)}</li>")
                i += 1
            i -= 1
            body.append("<ul>" + "".join(items) + "</ul>")
        elif stripped.startswith(">"):
            flush()
            quote = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quote.append(lines[i].strip().lstrip(">").strip())
                i += 1
            i -= 1
            body.append(f"<blockquote>{_inline(' '.join(quote), root)}</blockquote>")
        else:
            paragraph.append(stripped)
        i += 1
    flush()
    heading = title or next(
        (re.sub(r"^#+\s*", "", ln) for ln in lines if ln.startswith("#")), "paracrine report"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(heading)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write_html_report(markdown_path: str | Path) -> Path:
    """Render *markdown_path* (a ``report.md``) as ``report.html`` beside it, figures
    embedded."""
    source = Path(markdown_path)
    target = source.with_suffix(".html")
    target.write_text(
        markdown_to_html(source.read_text(encoding="utf-8"), folder=source.parent),
        encoding="utf-8",
    )
    return target
