"""Each kind of config mistake is reported with its place, and all are reported at once."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from bot.config.routing import ConfigInvalid, check_file, check_text, load_file, load_text
from bot.routing.admin.roster import seat_weights

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

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
        ("timezone: America/Argentina\n", 'timezone: "America/Argentina" is not a timezone name'),
        (f"timezone: {'A' * 300}\n", "is not a timezone name like Europe/London"),
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


def remarks(text: str) -> list[str]:
    """What a check says about a valid config: its warnings and notes, rendered."""
    checked = check_text(text, "routing.yaml")
    return [remark.render("routing.yaml") for remark in checked.remarks]


ONE_QUEUE = GOOD_MEMBERS + "queues:\n  - {name: general, members: [{slack_id: U01ALICE}]}\n"


def test_a_config_without_rules_is_valid_with_a_warning_that_names_the_fix() -> None:
    no_rules_key = "routing.yaml: warning: no rules: every lead will wait unassigned; add a catch-all " \
                   "rule `- {name: everyone, queue: general}`"
    assert remarks(ONE_QUEUE) == [no_rules_key]
    assert remarks(ONE_QUEUE + "rules: []\n") == [no_rules_key.replace("routing.yaml:", "routing.yaml:7:")]


def test_rules_without_a_catch_all_warn_that_unmatched_leads_wait() -> None:
    found = remarks(ONE_QUEUE + "rules:\n  - {name: DE, when: {field: country, op: equals, value: DE}, "
                    "queue: general}\n")
    assert found == ["routing.yaml:8: warning: no catch-all rule (one with no `when`): a lead that no rule "
                     "matches will wait unassigned; add one as the last rule, like "
                     "`- {name: everyone else, queue: general}`"]
    assert remarks(ONE_QUEUE + "rules:\n  - {name: all, queue: general}\n") == []


def test_the_example_config_draws_no_remark() -> None:
    assert check_file(EXAMPLES / "routing.yaml").remarks == []


THREE = """
members:
  - {slack_id: U01A, name: A}
  - {slack_id: U01B, name: B}
  - {slack_id: U01C, name: C}
queues:
  - name: q
    members: [{slack_id: U01A, share: SA}, {slack_id: U01B, share: SB}, {slack_id: U01C, share: SC}]
rules:
  - {name: all, queue: q}
"""


def three(a: str, b: str, c: str) -> str:
    return THREE.replace("SA", a).replace("SB", b).replace("SC", c)


def test_thirds_written_rounded_are_read_as_exact_thirds_with_a_note() -> None:
    text = three('"33.3%"', '"33.3%"', '"33.3%"')
    assert remarks(text) == ["routing.yaml:8: note: queues[0].members: shares add up to 99.9%, within "
                             "rounding of 100%: read as 1/3 each (33.3333%)"]
    weights = seat_weights(check_text(text).config.queues[0].members)
    assert weights == [(Fraction(100, 3), "33.3333%")] * 3


def test_uneven_shares_within_rounding_are_read_in_proportion_and_sum_to_100() -> None:
    text = three("50%", "30%", "19.8%")
    assert remarks(text) == ["routing.yaml:8: note: queues[0].members: shares add up to 99.8%, within "
                             "rounding of 100%: read in proportion, as U01A 50.1002%, U01B 30.0601%, "
                             "U01C 19.8397%"]
    weights = [weight for weight, _ in seat_weights(check_text(text).config.queues[0].members)]
    assert sum(weights) == 100 and weights[0] / weights[1] == Fraction(5, 3)


def test_shares_that_add_up_exactly_are_kept_as_written_without_a_note() -> None:
    text = three("50%", "30%", "20%")
    assert remarks(text) == []
    assert seat_weights(check_text(text).config.queues[0].members) == [
        (Fraction(50), "50%"), (Fraction(30), "30%"), (Fraction(20), "20%")]


@pytest.mark.parametrize(("shares", "expected"), [
    (("33%", "33%", "33%"), "routing.yaml:8: queues[0].members: shares add up to 99%, not 100%: make them "
                            "add up to 100%, or use weights instead, which need not: weight: 1 for each"),
    (("60%", "30%", "5%"), "routing.yaml:8: queues[0].members: shares add up to 95%, not 100%: make them add "
                           "up to 100%, or use weights instead, which need not: weight: 12 for U01A, "
                           "weight: 6 for U01B, weight: 1 for U01C"),
    (("0.5", "0.25", "0.25"), 'routing.yaml:8: queues[0].members: shares add up to 1%, not 100% (share: 0.5 '
                              'is read as 0.5%; write "50%" for half): make them add up to 100%, or use '
                              "weights instead, which need not: weight: 2 for U01A, weight: 1 for U01B, "
                              "weight: 1 for U01C"),
])
def test_shares_further_off_are_refused_suggesting_weights(shares: tuple[str, ...], expected: str) -> None:
    assert problems(three(*shares)) == [expected]


def test_a_bare_number_share_that_is_not_a_half_is_named_too() -> None:
    found = problems(three("0.3", "0.3", "0.4"))
    assert len(found) == 1 and 'share: 0.3 is read as 0.3%; write "30%" for 0.3 of the queue' in found[0]


def test_a_lone_share_within_rounding_keeps_its_words_so_export_can_be_applied_again() -> None:
    alone = THREE.replace(", {slack_id: U01B, share: SB}, {slack_id: U01C, share: SC}", "")
    text = alone.replace("SA", "99.8%")
    assert remarks(text) == ["routing.yaml:8: note: queues[0].members: shares add up to 99.8%, within "
                             "rounding of 100%: its only member gets every lead"]
    assert seat_weights(check_text(text).config.queues[0].members) == [(Fraction(998, 10), "99.8%")]
