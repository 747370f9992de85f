"""The HTML class report's structure, read from the page the renderer writes for a made-up
class (no sandbox): tables a screen reader can read (a caption, header rows, `scope`),
worksheet references as text rather than tooltips, every number labelled; a phone's viewport,
charts that shrink to the screen, wide tables that scroll in their own box; charts that say
their numbers in words. How a browser lays it out at 1280 and 390 pixels is tested in
test_integrations."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from conftest import BACKPROP
from grader.reports.html import to_html
from grader.results import CaseResult, QuestionResult, Status, SubmissionResult

_VOID = {"meta", "br", "wbr", "col", "img", "input", "link", "hr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                found += [child] * (child.tag == tag) + child.all(tag)
        return found

    def kids(self, tag: str | None = None) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node) and tag in (None, c.tag)]


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.at = Node("#document", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.at)
        self.at.children.append(node)
        if tag not in _VOID:
            self.at = node

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        assert self.at.tag == tag, f"</{tag}> closes <{self.at.tag}>"
        self.at = self.at.parent

    def handle_data(self, data):
        self.at.children.append(data)


def parse(page: str) -> Node:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    assert tree.at is tree.root, "an element is left open"
    return tree.root


def _answered(question, passed: int, of: int = 2) -> QuestionResult:
    cases = tuple(CaseResult(f"c{i}", f"case {i}", Status.PASSED if i < passed else Status.WRONG)
                  for i in range(of))
    return QuestionResult(question, cases, "correct" if passed == of else "wrong on a case")


def _class() -> list[SubmissionResult]:
    """ann: full marks; ben: cost wrong, half of sigmoid_prime's cases (18 of 20); cy: not graded."""
    ben = {"cost": 0, "sigmoid_prime": 1}
    return [
        SubmissionResult("ann", "ann.py", questions=tuple(_answered(q, 2) for q in BACKPROP.questions)),
        SubmissionResult("ben", "ben.py", questions=tuple(_answered(q, ben.get(q.id, 2)) for q in BACKPROP.questions)),
        SubmissionResult("cy", "cy.py", error="SyntaxError: '(' was never closed (line 3)"),
    ]


@pytest.fixture(scope="module")
def page() -> str:
    return to_html(_class(), BACKPROP)


@pytest.fixture(scope="module")
def tree(page) -> Node:
    return parse(page)


def _table(tree: Node, caption_starts: str) -> Node:
    [table] = [t for t in tree.all("table") if t.kids("caption")[0].text().startswith(caption_starts)]
    return table


def _cells(row: Node) -> list[str]:
    return [" ".join(cell.text().split()) for cell in row.kids() if cell.tag in ("th", "td")]


def test_the_renderer_is_pure_and_names_each_id_once(page, tree):
    assert to_html(_class(), BACKPROP) == page  # a function of the results and nothing else
    ids = [node.attrs["id"] for tag in ("caption", "section", "h2", "title", "desc") for node in tree.all(tag)
           if "id" in node.attrs]
    assert len(ids) == len(set(ids)), "an id is used twice"


def test_every_table_has_a_caption_and_header_rows_with_scope(tree):
    tables = tree.all("table")
    # per question, what to re-teach (its heat map and its table), the item analysis (questions,
    # cases), the gradebook, and ann's and ben's feedback
    assert len(tables) == 6 + 2
    for table in tables:
        caption = table.kids()[0]
        assert caption.tag == "caption" and caption.text().strip(), caption
        assert [c.tag for c in table.kids() if c.tag != "colgroup"] == ["caption", "thead", "tbody"]
        [head], [body] = table.kids("thead"), table.kids("tbody")
        assert all(th.attrs.get("scope") in ("col", "colgroup") for th in head.all("th"))
        for row in body.kids("tr"):  # each row is named by its first cell: a question, a student
            first = row.kids()[0]
            assert first.tag == "th" and first.attrs["scope"] == "row", _cells(row)
            assert all(cell.tag == "td" for cell in row.kids()[1:])
    assert not [node for node in tree.all("tr") if node.parent.tag == "table"]


def test_worksheet_references_are_text_not_tooltips(tree):
    gradebook = _table(tree, "Each student's total")
    questions, references = gradebook.kids("thead")[0].kids("tr")
    assert _cells(questions) == ["student", "total", *(q.id for q in BACKPROP.questions)]
    assert _cells(references) == ["worksheet", *(q.worksheet for q in BACKPROP.questions)]
    assert not [node for tag in ("th", "td", "span", "a") for node in tree.all(tag) if "title" in node.attrs]
    # A student's table: each question's id, with its worksheet reference beside it (under it on a phone).
    [ben] = [t for t in tree.all("table") if t.kids("caption")[0].text().startswith("ben")]
    first = ben.kids("tbody")[0].kids("tr")[0]
    assert _cells(first)[0] == f"{BACKPROP.questions[0].id} {BACKPROP.questions[0].worksheet}"
    assert first.kids("th")[0].kids("span")[0].attrs["class"] == "ref"


def test_the_mean_score_and_the_share_at_full_marks_are_each_labelled(tree):
    table = _table(tree, "Each question's mean score")
    top, below = table.kids("thead")[0].kids("tr")
    assert _cells(top)[:5] == ["question", "worksheet", "mean score", "share at full marks",
                               "students who lost points"]
    assert _cells(below) == ["all", "diagnosed", "same wrong answer", "not answered", "other"]
    rows = {_cells(row)[0].replace(" ", ""): _cells(row) for row in table.kids("tbody")[0].kids("tr")}
    # sigmoid_prime: 2 and 1 of 2, a mean of 75% of its points; 1 of the 2 graded at full marks.
    assert rows["sigmoid_prime"][2:5] == ["1.5 of 2 (75%)", "50% (1 of 2)", "1"]
    assert rows["cost"][2:5] == ["0.5 of 1 (50%)", "50% (1 of 2)", "1"]
    assert rows["forward"][2:5] == ["1 of 1 (100%)", "100% (2 of 2)", "0"]


def test_the_page_is_as_wide_as_a_phone_and_what_is_wider_scrolls_in_its_own_box(page, tree):
    [viewport] = [m for m in tree.all("meta") if m.attrs.get("name") == "viewport"]
    assert viewport.attrs["content"] == "width=device-width, initial-scale=1"
    for svg in tree.all("svg"):  # a chart shrinks to the width it has: its drawing is a viewBox
        width, height = svg.attrs["width"], svg.attrs["height"]
        assert svg.attrs["viewbox"] == f"0 0 {width} {height}"  # html.parser lowers attribute names
    assert "figure svg { display: block; max-width: 100%; height: auto; }" in page
    # A table too wide for the screen scrolls sideways inside its box, named by the caption.
    assert ".scroll { overflow-x: auto;" in page
    for table in tree.all("table"):
        box = table.parent
        assert box.tag == "div" and box.attrs["class"] == "scroll" and box.attrs["role"] == "region"
        assert box.attrs["aria-labelledby"] == table.kids("caption")[0].attrs["id"]
    wide = [t.parent for t in tree.all("table") if t.attrs.get("class") in ("gradebook", "questions")]
    assert len(wide) == 2 and all(box.attrs["tabindex"] == "0" for box in wide)  # a keyboard scrolls them


def test_the_charts_say_their_numbers_in_words(tree):
    histogram, means = tree.all("svg")
    for svg in (histogram, means):  # one image to a screen reader, named by its title and numbers
        assert svg.attrs["role"] == "img"
        title_id, desc_id = svg.attrs["aria-labelledby"].split()
        title, desc = svg.kids()[:2]
        assert (title.tag, title.attrs["id"], desc.tag, desc.attrs["id"]) == ("title", title_id, "desc", desc_id)
    assert histogram.kids()[0].text() == "Histogram of the totals of 2 students graded, out of 20"
    assert histogram.kids()[1].text() == "2 students from 18 to 20; none in the other ranges."
    assert means.kids()[0].text() == "Mean score per question, as a share of its points"
    words = means.kids()[1].text()
    assert "forward 100%; cost 50%;" in words and "sigmoid_prime 75%;" in words
    assert words.count("%") == len(BACKPROP.questions)


def test_a_class_nobody_could_be_graded_in_still_has_its_charts_in_words():
    tree = parse(to_html([SubmissionResult("cy", "cy.py", error="SyntaxError")], BACKPROP))
    histogram = tree.all("svg")[0]
    assert histogram.kids()[0].text() == "Histogram of the totals of 0 students graded, out of 20"
    assert histogram.kids()[1].text() == "No student was graded."
