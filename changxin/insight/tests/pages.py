"""Parse the insight pages' HTML the way a reader would: by the table cells, not by internals."""

from __future__ import annotations

from html.parser import HTMLParser


class _Table(HTMLParser):
    def __init__(self, row_attr: str):
        super().__init__()
        self.row_attr = row_attr
        self.rows: dict[str, dict[str, str]] = {}
        self.row: str | None = None
        self.col: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and self.row_attr in attrs:
            self.row = attrs[self.row_attr]
            self.rows[self.row] = {}
        elif tag == "td" and self.row is not None and "data-col" in attrs:
            self.col, self.text = attrs["data-col"], []

    def handle_data(self, data):
        if self.col is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self.col is not None:
            self.rows[self.row][self.col] = "".join(self.text).strip()
            self.col = None
        elif tag == "tr":
            self.row = None


def ranking_table(html: str) -> dict[str, dict[str, str]]:
    """{unit code: {column: text}} from the ranking table."""
    parser = _Table("data-unit")
    parser.feed(html)
    return parser.rows


def trend_table(html: str) -> dict[str, dict[str, str]]:
    parser = _Table("data-month")
    parser.feed(html)
    return parser.rows


def drill_pks(html: str) -> set[int]:
    parser = _Table("data-pk")
    parser.feed(html)
    return {int(pk) for pk in parser.rows}
