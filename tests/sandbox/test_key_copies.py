"""Finding every copy of the answer key the grader can know of (hiding them is test_sealed's
and test_hostile's business: every copy found is hidden and blocked)."""

import shutil
import sys
from pathlib import Path

import pytest

from grader.sandbox import key_copies as copies

ROOT = Path(__file__).resolve().parents[2]


def _plant(site: Path, with_record: bool) -> list[Path]:
    """A pip-installed copy of the package in `site` (its solutions inside it), and its RECORD."""
    shutil.copytree(ROOT / "grader", site / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions", site / "grader" / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    planted = [(site / "grader").resolve()]
    if with_record:
        info = site / "backprop_grader-0.1.0.dist-info"
        info.mkdir()
        (info / "RECORD").write_text("grader/__init__.py,,\ngrader/solutions/backprop/backprop.py,,\n")
    return planted


@pytest.fixture
def fresh_search(monkeypatch):
    copies.package_copies.cache_clear()
    copies.answer_key_copies.cache_clear()
    yield monkeypatch
    copies.package_copies.cache_clear()
    copies.answer_key_copies.cache_clear()


@pytest.mark.parametrize("version", [f"python{sys.version_info.major}.{sys.version_info.minor}", "python3.9"])
def test_a_copy_installed_for_the_python_a_venv_was_made_from_is_found(tmp_path, fresh_search, version):
    # A venv's import path leaves out its base Python's site-packages, yet a student walking the
    # standard library's folder reaches it; another Python version's install is as readable.
    base = tmp_path / "base"
    site = base / "lib" / version / "site-packages"
    site.mkdir(parents=True)
    planted = _plant(site, with_record=version.endswith(f"{sys.version_info.minor}"))
    fresh_search.setattr(sys, "base_prefix", str(base))
    fresh_search.setattr(sys, "base_exec_prefix", str(base))
    found = copies.package_copies()
    assert all(str(copy) in found for copy in planted), found


def test_a_copy_in_the_users_site_packages_is_found(tmp_path, fresh_search):
    site = tmp_path / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    planted = _plant(site, with_record=False)
    fresh_search.setenv("PYTHONUSERBASE", str(tmp_path))
    found = copies.package_copies()
    assert all(str(copy) in found for copy in planted), found


def test_a_folder_of_the_same_name_that_is_not_ours_is_left_alone(tmp_path, fresh_search):
    site = tmp_path / "lib" / "python3.12" / "site-packages"
    (site / "assignments" / "backprop" / "solution").mkdir(parents=True)
    (site / "assignments" / "backprop" / "solution" / "backprop.py").write_text("# someone else's\n")
    fresh_search.setenv("PYTHONUSERBASE", str(tmp_path))
    assert str((site / "assignments").resolve()) not in copies.package_copies()
