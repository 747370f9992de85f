"""Graded results kept on disk, so that an interrupted batch resumes and loses nothing.

A result is stored under a key made of the submission's bytes, every option that changes a
grade, and a fingerprint of the grader and the model answer: a file that has not changed since
it was graded, by this same grader, is not graded again. Results are the grader's own JSON,
written atomically one file per result the moment each submission is graded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import os
import tempfile
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.assignment import Assignment
from grader.results import SubmissionResult, submission_from_dict, submission_to_dict

if TYPE_CHECKING:
    from grader.grading import Options

_FORMAT = 1


def default_directory() -> Path:
    """$BACKPROP_GRADER_CACHE, else the user's cache folder."""
    if os.environ.get("BACKPROP_GRADER_CACHE"):
        return Path(os.environ["BACKPROP_GRADER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "backprop-grader"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Changes whenever the grader's code changes (the assignment's own files are in the key:
    see `options_identity`)."""
    digest = hashlib.sha256(str(_FORMAT).encode())
    package = Path(__file__).resolve().parent
    sources = sorted(package.rglob("*.py"))
    for source in sources:
        digest.update(str(source.relative_to(package)).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


# The fields of `Options` that are not in a result's key, each with why. Every other field is,
# as `_plain` writes it: an option added later is in the key unless it is named here.
NOT_IN_KEY = {
    "private_paths": "where this run's own files are (the class folders, the reports, the store), hidden "
                     "from every submission: where a run writes, not how a file is graded",
}


def options_identity(options: Options) -> str:
    """Every field of `options` that can change a grade, as one text: the assignment as its name
    and the fingerprint of its files, the catalogues as their contents, every other value (the
    sandbox's limits field by field) as it is."""
    fields = {field.name: _keyed(field.name, getattr(options, field.name))
              for field in dataclasses.fields(options) if field.name not in NOT_IN_KEY}
    return json.dumps(fields, sort_keys=True)


def _keyed(name: str, value: Any) -> Any:
    if name == "catalogues":  # what the files say, wherever they are
        return [hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in value]
    return _plain(value)


def _plain(value: Any) -> Any:
    """A value of the options as plain JSON data; TypeError for a kind that has no such form."""
    if isinstance(value, Assignment):
        return f"{value.name}:{value.fingerprint}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"an option of type {type(value).__name__} has no form in the result store's key")


class ResultStore:
    def __init__(self, directory: Path):
        self.directory = directory
        self.failed = 0  # results that could not be kept (a full disk, say)

    def key(self, content: bytes, identity: str) -> str:
        """The key of a file's content graded as `identity` (its path and the options)."""
        digest = hashlib.sha256(fingerprint().encode())
        digest.update(identity.encode() + b"\0" + content)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, student: str, path: str, assignment: Assignment) -> SubmissionResult | None:
        """The stored result, relabelled for this student and path; None if absent or unreadable.
        `assignment` is the one it was graded for (the key includes it)."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            return replace(submission_from_dict(data, assignment), student=student, path=path)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def usable(self) -> str | None:
        """None if results can be kept here, else why not."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=self.directory).close()
        except OSError as exc:
            return exc.strerror or str(exc)
        return None

    def put(self, key: str, result: SubmissionResult) -> bool:
        """Write atomically: a crash mid-write never leaves a half result behind. False if the
        result could not be kept (a full disk, say): grading goes on without it."""
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(submission_to_dict(result), out)
            os.replace(temporary, target)
        except OSError:
            self.failed += 1
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(temporary)
            return False
        return True
