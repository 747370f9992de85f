"""Issue 25, the third red-team round: what the reports show of what a student controls, and
what feedback gives away. One test per threat, named by the issue's item."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata

from conftest import SOLUTION, run_cli, with_solution

# A wrong answer no catalogue entry explains, the same for two students: the class summary
# lists them by name.
SAME_WRONG = SOLUTION + "\n\ndef dJdW1(X, delta2):\n    return (X.T @ delta2) * 3\n"


def _class(tmp_path, students: dict[str, str]):
    folder = tmp_path / "class"
    folder.mkdir()
    for name, source in students.items():
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
    return folder


# 8. Bidirectional and zero-width characters in student names
RIGHT_TO_LEFT = "mallory\u202egnp.exe"  # shown as "mallory" + "exe.png", reversed
ZERO_WIDTH = "ali\u200bce"  # looks like "alice"
HIDDEN = ("\u202e", "\u200b")


def _no_hidden(text: str) -> bool:
    return not any(c in text for c in HIDDEN) and not any(
        unicodedata.category(c) == "Cf" for c in text)


def test_08_invisible_characters_in_names_are_shown_escaped_everywhere(tmp_path):
    folder = _class(tmp_path, {RIGHT_TO_LEFT: SAME_WRONG, ZERO_WIDTH: SAME_WRONG, "alice": SOLUTION})
    feedback, page = tmp_path / "feedback", tmp_path / "class.html"
    table = run_cli(str(folder), "-q", "--feedback-dir", str(feedback), "--html", str(page))
    assert table.returncode == 0, table.stderr
    shown = run_cli(str(folder), "-q", "--format", "csv").stdout
    document = json.loads(run_cli(str(folder), "-q", "--format", "json").stdout)
    markdown = "\n".join(p.read_text(encoding="utf-8") for p in feedback.iterdir())
    for text in (table.stdout, shown, markdown, page.read_text(encoding="utf-8")):
        assert _no_hidden(text)
        if text is markdown:  # where a backslash is itself escaped
            text = text.replace("\\\\", "\\")
        assert "mallory\\u202egnp.exe" in text and "ali\\u200bce" in text
    assert {row["student"] for row in csv.DictReader(io.StringIO(shown))} == {
        "alice", "mallory\\u202egnp.exe", "ali\\u200bce"}
    assert "2 students gave the same wrong answer" in table.stdout
    # JSON: the name to show, and the name as found beside it when they differ.
    entries = {entry["student"]: entry for entry in document["submissions"]}
    assert entries["mallory\\u202egnp.exe"]["student_raw"] == RIGHT_TO_LEFT
    assert entries["ali\\u200bce"]["student_raw"] == ZERO_WIDTH
    assert "student_raw" not in entries["alice"]
    groups = [g for q in document["summary"]["questions"] for g in q["uncatalogued_groups"]]
    assert groups == [{"students": ["ali\\u200bce", "mallory\\u202egnp.exe"], "count": 2}]


# 8. Markdown feedback: what a student wrote is text, never markup
PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
            "![](http://evil.example/pixel.png)", "<http://evil.example>", "www.evil.example",
            "me@evil.example", "data:text/html,<b>", "**bold** `code` | cell", "# heading"]
MARKUP = with_solution("".join(
    f"\n\ndef {name}(*args):\n    raise RuntimeError({text!r})\n" for name, text in [
        ("dJdW2", " ".join(PAYLOADS[:5])), ("delta2", " ".join(PAYLOADS[5:])),
        ("dJdW1", "- a list\n---\n> quote")]) + "\nraise ValueError('<b>top</b> [y](https://evil.example)')\n")


def _unescaped(text: str, char: str) -> int:
    """How many times `char` is markup in `text`: not escaped by an odd run of backslashes."""
    return sum(1 for m in re.finditer(re.escape(char), text)
               if (m.start() - len(text[:m.start()].rstrip("\\"))) % 2 == 0)


def test_08_markdown_feedback_shows_html_links_and_markup_as_text(tmp_path):
    folder = _class(tmp_path, {"bob<img src=x onerror=alert(1)>": MARKUP})
    feedback = tmp_path / "feedback"
    done = run_cli(str(folder), "-q", "--no-cache", "--feedback-dir", str(feedback))
    assert done.returncode == 0, done.stderr
    [file] = feedback.iterdir()
    text = file.read_text(encoding="utf-8")
    assert "alert" in text and "evil" in text  # the messages are there, as text
    # Take away the grader's own markup (question ids as code, the score in bold, the table's
    # pipes): what is left has no markup character that is not escaped.
    own = re.sub(r"`\w+`|\*\*Score: [\d./ ]+\*\*|^\| | \|$", "", text, flags=re.MULTILINE)
    rows = [line for line in own.splitlines() if " | " in line]
    assert rows and all(_unescaped(row, "|") == 3 for row in rows)
    for char in "<>[]&`*_~$":
        assert _unescaped(own, char) == 0, char
    for link in ("http://", "https://", "www.", "javascript:", "data:", "@evil"):
        assert link not in text, link
    assert "http\\[:\\]//evil.example" in text and "me\\[@\\]evil.example" in text
    # Nothing a student wrote starts a line: a list, a rule, a quote or a heading.
    assert not re.search(r"^(-{3}|> |# heading)", text, re.MULTILINE)


# 8. Feedback file names: a function of the student's name, whatever order the class finished in
NAMES = {"Alice": "import time\ntime.sleep(1.5)\n" + SOLUTION, "alice": SOLUTION,
         "bob smith": SOLUTION, "bob_smith": SAME_WRONG}


def test_08_feedback_file_names_do_not_depend_on_who_finished_first(tmp_path):
    folder = _class(tmp_path, NAMES)
    seen = []
    # One at a time in name order, then two at once with Alice, who sleeps, finishing last.
    for jobs in ("1", "2"):
        feedback = tmp_path / f"feedback-{jobs}"
        done = run_cli(str(folder), "-q", "--no-cache", "--jobs", jobs, "--feedback-dir", str(feedback))
        assert done.returncode == 0, done.stderr
        seen.append({p.name: p.read_text(encoding="utf-8") for p in feedback.iterdir()})
    assert seen[0] == seen[1]
    from grader.batch import feedback_file_name

    for name, text in seen[0].items():  # each file is its own student's
        student = re.search(r"feedback for (.*)\n", text).group(1).replace("\\_", "_")
        assert feedback_file_name(student) == name
    names = sorted(seen[0])
    assert len({name.lower() for name in names}) == 4  # four files, even where case is one
    assert "alice.md" in names and "bob_smith.md" in names  # a plain name is its file's name
    assert names[0].startswith("Alice+") and any(n.startswith("bob_smith+") for n in names)
