"""Each kind of config mistake is reported with its place, and all are reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.routing import ConfigInvalid, load_file, load_text

GOOD_MEMBERS = """
members:
  - {slack_id: U01ALICE, name: Alice}
  - {slack_id: U02BOB, name: Bob}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        load_text(text, "routing.yaml")
    return [p.render("routing.yaml") for p in caught.value.problems]


def test_weight_must_be_positive_with_its_line_and_path() -> None:
    found = problems(
        GOOD_MEMBERS
        + """
queues:
  - name: emea
    members:
      - {slack_id: U01ALICE}
  - name: us
    members:
      - {slack_id: U01ALICE, weight: 0}
"""
    )
    assert found == ["routing.yaml:12: queues[1].members[0].weight: must be > 0"]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("timezone: Mars/Base\n", 'timezone: "Mars/Base" is not a timezone name'),
        ("period: daily\n", "period: must be one of 'monthly', 'weekly', 'quarterly' or 'never'"),
        ("managers: [bob]\n", 'managers: "bob" is not a Slack user id'),
        ("time_off: {long_leave_days: -1}\n", "time_off.long_leave_days: must be ≥ 0"),
        ("colour: blue\n", "colour: is not a known key"),
    ],
)
def test_team_settings_errors(snippet: str, expected: str) -> None:
    assert any(expected in p for p in problems(snippet))


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("{slack_id: bob, name: Bob}", "members[0].slack_id: 'bob' is not a Slack user id"),
        ("{slack_id: U01X}", "members[0].name: is required"),
        ("{slack_id: U01X, name: X, capacity: 0}", "members[0].capacity: must be > 0"),
        ("{slack_id: U01X, name: X, working_hours: 9-5}", "members[0].working_hours: cannot read"),
        ("{slack_id: U01X, name: X, timezone: Nowhere}", "members[0].timezone:"),
    ],
)
def test_member_errors(member: str, expected: str) -> None:
    found = problems(f"members:\n  - {member}\n")
    assert any(expected in p and p.startswith("routing.yaml:2:") for p in found), found


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("{name: q, strategy: random, members: []}", "queues[0].strategy: must be one of"),
        ("{name: q, members: [{slack_id: U01ALICE, weight: 1, priority: 2}]}", "give one of weight"),
        ("{name: q, members: [{slack_id: U01ALICE, share: 150%}]}", "less than 100%"),
        ("{name: q, members: [{slack_id: U01ALICE, priority: 0}]}", "must be 1 or more"),
        ("{name: q, channel: general, members: []}", "not a Slack channel id"),
    ],
)
def test_queue_shape_errors(queue: str, expected: str) -> None:
    found = problems(GOOD_MEMBERS + f"queues:\n  - {queue}\n")
    assert any(expected in p for p in found), found


def test_references_are_checked() -> None:
    found = problems(
        GOOD_MEMBERS
        + """
queues:
  - name: emea
    fallback: nowhere
    members: [{slack_id: U01ALICE, share: 60%}, {slack_id: U09NOBODY, share: 30%}]
  - name: us
    fallback: us
    members: [{slack_id: U01ALICE}, {slack_id: U01ALICE}]
rules:
  - {name: all, queue: us}
  - {name: late, queue: missing}
"""
    )
    text = "\n".join(found)
    assert "queues[0].fallback: there is no queue named 'nowhere'" in text
    assert "queues[0].members[1].slack_id: U09NOBODY is not in the members list" in text
    assert "queues[0].members: shares add up to 90%, not 100%" in text
    assert "queues[1].fallback: fallbacks go round in a circle" in text
    assert "queues[1].members[1].slack_id: U01ALICE is in this queue twice" in text
    assert "rules[1].queue: there is no queue named 'missing'" in text
    assert "rules[0]: this catch-all (no `when`) comes before 'late'" in text


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{field: x, op: likes, value: 1}", "rules[0].when.op: 'likes' is not an operator"),
        ("{field: x, op: gte, value: lots}", "rules[0].when.value: gte compares numbers"),
        ("{field: x, op: in, value: GB}", "rules[0].when.value: in needs a non-empty list"),
        ("{field: x, op: matches, value: '(unclosed'}", "not a valid regular expression"),
        ("{field: x, op: matches, value: '(?=a)b'}", "rules[0].when.value: lookahead `(?=…)` is not"),
        ("{field: x, op: matches, value: '(a)\\1'}", "rules[0].when.value: a backreference `\\1` is not"),
        ("{field: x, op: exists, value: 1}", "rules[0].when.value: exists takes no value"),
        ("{field: x, op: equals}", "rules[0].when.value: is required for equals"),
        ("{all: []}", "rules[0].when.all: must be a non-empty list"),
        ("{any: [{field: x, op: nope, value: 1}]}", "rules[0].when.any[0].op"),
        ("{op: equals, value: 1}", "rules[0].when.field: is required"),
    ],
)
def test_condition_errors(when: str, expected: str) -> None:
    text = (
        GOOD_MEMBERS
        + f"queues: [{{name: q, members: []}}]\nrules:\n  - name: r\n    when: {when}\n    queue: q\n"
    )
    found = problems(text)
    assert any(expected in p and ":8:" in p for p in found), found


def test_yaml_syntax_error_has_a_line() -> None:
    assert problems("members: [\n  - oops: {\n")[0].startswith("routing.yaml:")


def test_shape_and_reference_mistakes_are_reported_together_in_line_order() -> None:
    found = problems(GOOD_MEMBERS + """
queues:
  - name: emea
    fallback: nowhere
    members: [{slack_id: U01ALICE, weight: 0}, {slack_id: U09NOBODY}]
""")
    assert found == [
        "routing.yaml:8: queues[0].fallback: there is no queue named 'nowhere'",
        "routing.yaml:9: queues[0].members[0].weight: must be > 0",
        "routing.yaml:9: queues[0].members[1].slack_id: U09NOBODY is not in the members list",
    ]


def test_a_key_given_twice_is_an_error_at_its_second_line() -> None:
    found = problems(GOOD_MEMBERS + """period: monthly
queues:
  - {name: q, members: [{slack_id: U01ALICE}], name: r}
period: weekly
""")
    assert found == [
        "routing.yaml:7: queues[0].name: is given twice (first at line 7); keep one, YAML would "
        "silently use the last",
        "routing.yaml:8: period: is given twice (first at line 5); keep one, YAML would silently "
        "use the last",
    ]


def test_keys_a_merge_brings_in_may_be_overridden() -> None:
    config = load_text(GOOD_MEMBERS + """queues:
  - &base {name: q, strategy: fair, members: [{slack_id: U01ALICE}]}
  - {<<: *base, name: r}
""")
    assert [q.name for q in config.queues] == ["q", "r"]


def test_a_file_that_is_not_utf8_is_one_located_problem(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes(b"members: []\ntimezone: \xff\n")
    with pytest.raises(ConfigInvalid) as caught:
        load_file(config)
    assert [p.render(caught.value.source) for p in caught.value.problems] == [
        f"{config}:2: not UTF-8 text (byte 0xff at line 2); save the file as UTF-8"
    ]
