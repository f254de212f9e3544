"""Prompt templates: one `{name}` syntax, checked against what the stage fills when params are validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from engine.prompt_template import TemplateError, TemplatePath, check_placeholders, fill, read_template


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: TemplatePath(required=["question"], optional=["context"])


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "t.txt"
    path.write_text(text)
    return str(path)


def test_a_template_fills_its_placeholders_and_keeps_braces_in_values_and_doubled_braces_literal(tmp_path):
    template = read_template(write(tmp_path, 'Q: {question}\nReply as {{"answer": ...}}'))
    assert template.render(question="is {x} a set?") == 'Q: is {x} a set?\nReply as {"answer": ...}'


def test_an_unknown_placeholder_fails_validation_naming_the_file_and_the_placeholder(tmp_path):
    path = write(tmp_path, "{question} {contxt}")
    with pytest.raises(ValidationError) as err:
        Params(prompt=path)
    assert path in str(err.value) and "unknown placeholder {contxt}" in str(err.value)
    assert "{context}, {question}" in str(err.value)


def test_a_required_placeholder_the_file_lacks_fails_validation(tmp_path):
    path = write(tmp_path, "Answer this: {context}")
    with pytest.raises(ValidationError, match=r"placeholder \{question\} is missing"):
        Params(prompt=path)


def test_a_valid_template_keeps_its_path_as_the_param_value(tmp_path):
    path = write(tmp_path, "{question}")
    assert Params(prompt=path).prompt == path


def test_a_missing_template_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ValidationError, match="cannot read prompt template .*nope.txt"):
        Params(prompt=str(tmp_path / "nope.txt"))


@pytest.mark.parametrize("text", ["{question.__class__}", "{question[0]}", "{question!r}", "{question:>10}"])
def test_only_plain_names_are_placeholders(text):
    with pytest.raises(TemplateError, match="is not a plain"):
        check_placeholders(text, "t.txt", required=["question"])


def test_a_lone_brace_says_how_to_write_a_literal_one():
    with pytest.raises(TemplateError, match=r"t.txt: .*literal brace"):
        check_placeholders("a { b", "t.txt")


def test_filling_without_a_value_names_the_placeholder():
    with pytest.raises(TemplateError, match=r"t.txt: no value for placeholder \{b\}"):
        fill("{a} {b}", "t.txt", a=1)


def test_every_shipped_template_parses():
    from engine.config import PROJECT_ROOT
    from engine.prompt_template import placeholders

    paths = sorted((PROJECT_ROOT / "stages").glob("*/prompts/*.txt"))
    assert {p.parent.parent.name for p in paths} >= {"autoif", "codegen_alignment", "principle_examples", "prompt_opt"}
    for path in paths:
        assert "$" not in path.read_text(), path  # one syntax: {name}, not $name
        placeholders(path.read_text(), str(path))


def test_a_placeholder_may_share_a_name_with_the_fillers_own_arguments():
    assert fill("{text} {source}", "t.txt", text="a", source="b") == "a b"
