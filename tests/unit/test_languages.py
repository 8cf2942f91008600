"""The language registry is discovered from codeexec/languages/<id>/ folders."""

from pathlib import Path

import pytest

from codeexec.config import Settings
from codeexec.sandbox.languages import LanguageError, discover_languages

DEFINITION = """
id = "{id}"
name = "Test {id}"
source_file = "main.x"
run = ["./main"]
compile = ["cc", "main.x"]

[self_test]
source = "x"
input = ""
expected = "ok"
"""


def add_language(root: Path, lang_id: str) -> Path:
    folder = root / lang_id
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM scratch\n")
    (folder / "language.toml").write_text(DEFINITION.format(id=lang_id))
    return folder


def test_the_repository_ships_python() -> None:
    languages = discover_languages(Settings().sandbox.languages_dir)
    python = languages["python"]
    assert python.run == ("python3", "-B", "main.py")
    assert python.source_file == "main.py"
    assert python.self_test is not None


def test_a_new_folder_is_a_new_language(tmp_path: Path) -> None:
    for lang_id in ("alpha", "beta"):
        add_language(tmp_path, lang_id)
    (tmp_path / "notes").mkdir()  # a folder without a definition is ignored
    languages = discover_languages(tmp_path)
    assert sorted(languages) == ["alpha", "beta"]
    assert languages["beta"].compile == ("cc", "main.x")
    assert languages["beta"].image_tag("p") == "p/beta:latest"


def test_the_image_digest_follows_the_folder(tmp_path: Path) -> None:
    folder = add_language(tmp_path, "alpha")
    before = discover_languages(tmp_path)["alpha"].context_digest()
    (folder / "Dockerfile").write_text("FROM scratch\nLABEL x=1\n")
    assert discover_languages(tmp_path)["alpha"].context_digest() != before


def test_editing_the_definition_rebuilds_no_image(tmp_path: Path) -> None:
    folder = add_language(tmp_path, "alpha")
    before = discover_languages(tmp_path)["alpha"].context_digest()
    definition = folder / "language.toml"
    definition.write_text(definition.read_text() + '\n[screening]\ndisallowed = ["x"]\n')
    assert discover_languages(tmp_path)["alpha"].context_digest() == before


def test_no_image_is_built_from_its_definition() -> None:
    # What the digest leaves out must not reach an image.
    for dockerfile in Path("codeexec/languages").glob("*/Dockerfile"):
        assert "language.toml" not in dockerfile.read_text(), dockerfile


def test_only_enabled_languages_are_offered(tmp_path: Path) -> None:
    for lang_id in ("alpha", "beta"):
        add_language(tmp_path, lang_id)
    assert list(discover_languages(tmp_path, ("beta",))) == ["beta"]
    with pytest.raises(LanguageError, match="gamma"):
        discover_languages(tmp_path, ("gamma",))


SHIPPED_IDS = [
    "ada",
    "awk",
    "bash",
    "c",
    "cpp",
    "csharp",
    "fortran",
    "go",
    "haskell",
    "java",
    "javascript",
    "kotlin",
    "lua",
    "ocaml",
    "pascal",
    "perl",
    "php",
    "prolog",
    "python",
    "r",
    "ruby",
    "rust",
    "scala",
    "typescript",
]


def test_the_repository_ships_the_languages_contests_use() -> None:
    languages = discover_languages(Settings().sandbox.languages_dir)
    assert sorted(languages) == SHIPPED_IDS


def test_a_malformed_definition_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM scratch\n")
    (folder / "language.toml").write_text('id = "broken"\nname = "x"\n')
    with pytest.raises(LanguageError, match="source_file"):
        discover_languages(tmp_path)
