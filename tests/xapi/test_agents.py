"""Agent keys, and agents replaced inside a statement (a learner's erasure)."""

import pytest

from lrs.xapi.agents import agent_key, with_agents_replaced

ADA = {"mbox": "mailto:ada@example.org", "name": "Ada"}


@pytest.mark.parametrize(
    ("agent", "key"),
    [
        (ADA, "mbox:mailto:ada@example.org"),
        ({"mbox_sha1sum": "ABC"}, "mbox_sha1sum:abc"),
        ({"openid": "http://ada.example.org"}, "openid:http://ada.example.org"),
        ({"account": {"homePage": "https://lms", "name": "ada"}}, "account:https://lms|ada"),
        # Not agents as xAPI identifies them (JSON inside extensions may hold such).
        ({"mbox": 3}, None),
        ({"mbox_sha1sum": None}, None),
        ({"account": "ada"}, None),
        ({"account": {"homePage": "https://lms"}}, None),
        ({"account": {"homePage": "https://lms", "name": 7}}, None),
        ({"name": "Ada"}, None),
        ("mailto:ada@example.org", None),
    ],
)
def test_an_agent_key_is_its_identifier_or_none(agent, key):
    assert agent_key(agent) == key


def test_agents_are_replaced_wherever_they_are_and_nothing_else_changes():
    pseudonym = {"account": {"homePage": "https://lms", "name": "retired-1"}}
    statement = {
        "actor": {"objectType": "Agent", **ADA},
        "object": {"objectType": "Group", "member": [ADA, {"mbox": "mailto:bob@example.org"}]},
        "result": {"extensions": {"http://x.org/who": [ADA, {"mbox": 3, "name": "Ada"}]}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/met"},
    }
    found = with_agents_replaced(statement, frozenset({agent_key(ADA)}), pseudonym)
    assert found["actor"] == {"objectType": "Agent", **pseudonym}
    assert found["object"]["member"] == [pseudonym, {"mbox": "mailto:bob@example.org"}]
    assert found["result"]["extensions"]["http://x.org/who"] == [
        pseudonym,
        {"mbox": 3, "name": "Ada"},
    ]
    assert found["verb"] == statement["verb"]
    assert statement["actor"]["name"] == "Ada"  # a copy: the statement given is unchanged
