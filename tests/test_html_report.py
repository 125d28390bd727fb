"""report.html: the report Markdown rendered with every figure embedded, openable offline."""

from __future__ import annotations

import re
import socket
from html.parser import HTMLParser

import pytest

from paracrine.html_report import markdown_to_html, provenance_lines, write_html_report

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class _Sources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.src: list[str] = []
        self.href: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name == "src":
                self.src.append(value)
            if name == "href":
                self.href.append(value)


def _parse(text: str) -> _Sources:
    parser = _Sources()
    parser.feed(text)
    return parser


def test_the_markdown_subset_renders_and_images_are_embedded(tmp_path):
    (tmp_path / "fit.png").write_bytes(PNG_1x1)
    md = "\n".join(
        [
            "# Title",
            "",
            "> a **synthetic** banner",
            "",
            "- one `code` item",
            "  continued",
            "- two [web](https://example.org) and [a file](fit.json)",
            "",
            "| a | b |",
            "|---|---|",
            "| 1 | 2 < 3 |",
            "",
            "![fit](fit.png) ![gone](missing.png)",
            "",
            "```",
            "x <- 1",
            "```",
        ]
    )
    page = markdown_to_html(md, folder=tmp_path)
    parsed = _parse(page)
    assert {"h1", "blockquote", "ul", "li", "table", "th", "td", "img", "pre", "code"} <= set(
        parsed.tags
    )
    assert parsed.src == [parsed.src[0]] and parsed.src[0].startswith("data:image/png;base64,")
    assert parsed.href == ["https://example.org"]  # files are named, not linked
    assert "figure missing.png not found" in page
    assert "2 &lt; 3" in page and "x &lt;- 1" in page
    assert "one <code>code</code> item continued" in page


def test_provenance_names_version_date_hash_and_seed(tmp_path):
    data = tmp_path / "blots.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    lines = provenance_lines(command_line="paracrine fit --seed 3", data_path=data, seed=3)
    text = "\n".join(lines)
    assert "`paracrine fit --seed 3`" in text and "seed 3" in text
    assert re.search(r"paracrine \d+\.\d+\.\d+, \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    import hashlib

    assert hashlib.sha256(data.read_bytes()).hexdigest() in text


@pytest.mark.slow
def test_the_fit_report_html_embeds_every_figure_and_opens_offline(demo_fit, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from paracrine.reports import write_fit_outputs

    files = write_fit_outputs(demo_fit, tmp_path, command_line="paracrine demo")
    html_path = tmp_path / "report.html"
    assert html_path in files
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    referenced = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(referenced) >= 5

    def no_network(*args, **kwargs):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    parsed = _parse(html_path.read_text(encoding="utf-8"))
    assert len(parsed.src) == len(referenced)
    assert all(src.startswith("data:image/png;base64,") for src in parsed.src)
    assert not [h for h in parsed.href if not h.startswith("https://")]
    page = html_path.read_text(encoding="utf-8")
    assert "SYNTHETIC" in page and "SHA-256" in page and "not found" not in page


def test_write_html_report_writes_beside_the_markdown(tmp_path):
    md = tmp_path / "report.md"
    md.write_text("# x\n\ntext\n", encoding="utf-8")
    out = write_html_report(md)
    assert out == tmp_path / "report.html" and "<p>text</p>" in out.read_text(encoding="utf-8")


def test_a_combination_verdict_is_not_applicable_when_the_data_lack_an_arm():
    """Only control and IL-6 in the data: the report judges neither the data nor the fit on
    simulated VEGF and IL-6+VEGF arms."""
    from paracrine.data import BlotData, load_blots
    from paracrine.fitting import fit_blots
    from paracrine.reports import combination_section

    frame = load_blots("reference_blots_synthetic", cell_lines=["T47D"]).frame
    data = BlotData.from_frame(frame[frame.condition.isin(["control", "IL-6"])], source="subset")
    fit = fit_blots(
        "independent", data, n_starts=1, workers=1, progress=False, free=["k_stat3_jak"]
    )
    text = "\n".join(combination_section(fit))
    rows = [line for line in text.splitlines() if line.startswith("| T47D")]
    assert len(rows) == 3
    assert all(row.count("not applicable") == 2 and row.endswith("| n/a |") for row in rows)
    assert "Claim 4 cannot be judged on these data" in text
