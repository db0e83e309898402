"""The mapping rules on their own: layers, names ignoring case, paths that find nothing or a list."""

from __future__ import annotations

import pytest

from bot.sources.mapping import Unmappable, lead_fields


def test_top_level_scalars_then_defaults_then_paths() -> None:
    payload = {"id": "top", "Email": "a@x.com", "nested": {"uid": "N-1", "tags": ["a", "b"]}, "list": [1]}
    fields = lead_fields(payload, {"name": "Default"}, {"ID": "nested.uid", "tags": "nested.tags"})
    assert fields == {"Email": "a@x.com", "name": "Default", "ID": "N-1", "tags": "a, b"}


def test_a_path_that_finds_nothing_takes_the_field_out() -> None:
    fields = lead_fields({"id": "L-1", "email": "a@x.com"}, {}, {"email": "contact.email"})
    assert fields == {"id": "L-1"}


def test_filters_and_pipes_as_the_contract_shows() -> None:
    payload = {"data": {"fields": [{"key": "company", "value": "Acme"}, {"key": "x", "value": 1}]}}
    assert lead_fields(payload, {}, {"company": "data.fields[?key=='company'].value | [0]"}) == {
        "company": "Acme"}


def test_a_path_to_an_object_or_a_failing_function_is_unmappable() -> None:
    with pytest.raises(Unmappable, match="the path for `company` finds an object"):
        lead_fields({"org": {"name": "Acme"}}, {}, {"company": "org"})
    with pytest.raises(Unmappable, match="cannot be applied"):
        lead_fields({"n": 5}, {}, {"n": "length(n)"})
