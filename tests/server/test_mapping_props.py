"""Property tests of the pure mapping engine, dedupe policy and body reader."""

from __future__ import annotations

import json
from typing import Any

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.inbound.bodies import (
    BodyError,
    _KeyLines,
    braced_key_lines,
    parse_body,
    parse_key_lines,
)
from server.inbound.dedupe import classify
from server.inbound.mapping import (
    FLIC_DEFAULT_MAPPING,
    MappingError,
    Template,
    compile_mapping,
    decide,
    lookup,
    parse_path,
)
from server.inbound.mapping_spec import TEMPLATES as _ENV
from server.inbound.ratelimit import take

FLIC = compile_mapping(FLIC_DEFAULT_MAPPING)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.text(alphabet=st.characters(blacklist_characters="^"), min_size=1, max_size=10)
names = st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != "")


@given(path=st.lists(keys | st.integers(0, 3), min_size=1, max_size=5), value=json_values)
def test_a_value_is_found_at_its_caret_path(path: list[Any], value: Any) -> None:
    node: Any = value
    for part in reversed(path):
        node = [None] * part + [node] if isinstance(part, int) else {part: node}
    assert lookup(node, parse_path("^".join(str(p) for p in path))) == value


@given(name=names, state=st.text(max_size=20), info=st.text(max_size=50))
def test_the_flic_mapping_opens_on_on_closes_on_off_ignores_the_rest(
    name: str, state: str, info: str
) -> None:
    decision = decide({"flic_nameId": name, "flic_state": state, "info": info}, FLIC)
    expected = "open" if "On" in state else "close" if "Off" in state else "ignore"
    assert decision.verdict == expected
    assert decision.source_name == name
    if expected == "open":
        assert decision.title
        assert len(decision.title) <= 500


@given(payload=json_values)
def test_any_payload_gives_a_decision_never_an_exception(payload: Any) -> None:
    decision = decide(payload, FLIC)
    assert decision.verdict in {"open", "close", "ignore", "failed"}
    assert decision.reason


conditions = st.sampled_from(["contains", "equals", "regex"]).flatmap(
    lambda op: st.fixed_dictionaries({op: st.text(alphabet="abcOnf .*", min_size=1, max_size=6)})
)


@settings(max_examples=150)
@given(
    cond=conditions,
    close=conditions,
    status=st.text(alphabet="abcOnf .*", max_size=8),
    drop=st.text(alphabet="abc", min_size=1, max_size=3),
    tag=st.text(alphabet="abc", max_size=4),
)
def test_generated_mappings_follow_their_rules(
    cond: dict[str, str], close: dict[str, str], status: str, drop: str, tag: str
) -> None:
    spec = {
        "source_name": {"value": "static"},
        "status": {"field": "s^0"},
        "open_when": cond,
        "close_when": close,
        "filters": [{"field": "tag", "regex": drop, "keep": False}],
    }
    try:
        mapping = compile_mapping(spec)
    except MappingError:
        assert "regex" in cond or "regex" in close
        return
    decision = decide({"s": [status], "tag": tag}, mapping)
    if mapping.filters[0].pattern.search(tag):
        assert decision.verdict == "filtered"
    elif mapping.open_when.matches(status):
        assert decision.verdict == "open"
        assert decision.source_name == "static"
    elif mapping.close_when is not None and mapping.close_when.matches(status):
        assert decision.verdict == "close"
    else:
        assert decision.verdict == "ignore"


@given(live=st.none() | st.integers(1, 10), suppressed=st.booleans(), payload=json_values)
def test_dedupe_policy_never_opens_a_second_alert(
    live: int | None, suppressed: bool, payload: Any
) -> None:
    outcome = classify(decide(payload, FLIC), live, suppressed=suppressed)
    if live is not None:
        assert outcome.change != "open"
    if outcome.change == "close":
        assert live is not None
    assert outcome.status in {
        "mapped",
        "mapped_appended",
        "mapped_ignored",
        "mapping_failed",
        "filtered",
        "suppressed",
    }


guide_dicts = st.dictionaries(
    st.text(min_size=1, max_size=12),
    st.text(max_size=20) | st.integers() | st.booleans(),
    min_size=1,
    max_size=5,
)


@given(fields=guide_dicts, braces=st.booleans(), trailing=st.booleans(), newlines=st.booleans())
def test_the_guide_key_lines_read_back_whatever_the_layout(
    fields: dict[str, Any], braces: bool, trailing: bool, newlines: bool
) -> None:
    sep = ",\n" if newlines else ", "
    text = sep.join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in fields.items())
    if trailing:
        text += ","
    if braces:
        text = "{\n" + text + "\n}"
    assert parse_key_lines(text) == fields
    assert parse_body(text.encode(), "text/plain").payload == fields


@settings(max_examples=300)
@given(
    raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    ctype=st.sampled_from(
        [
            "",
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ]
    ),
)
def test_any_bytes_parse_or_raise_a_body_error(raw: bytes, ctype: str) -> None:
    try:
        parsed = parse_body(raw, ctype)
    except BodyError as exc:
        problem = str(exc)
    else:
        problem = ""
        assert isinstance(parsed.payload, dict | list)
    assert problem or parsed


def test_templates_are_sandboxed() -> None:
    spec = dict(FLIC_DEFAULT_MAPPING, title="{{ ''.__class__.__mro__[1].__subclasses__() }}")
    decision = decide({"flic_nameId": "desk", "flic_state": "On"}, compile_mapping(spec))
    assert decision.verdict == "open"
    assert decision.title == "desk alert"
    assert "title template failed" in decision.reason


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (
            {"source_name": {}, "status": {"field": "s"}, "open_when": {"contains": "x"}},
            "exactly one",
        ),
        ({"source_name": {"field": "a"}, "status": {"field": "s"}, "open_when": {}}, "exactly one"),
        (
            {
                "source_name": {"field": "a"},
                "status": {"field": "s"},
                "open_when": {"equals": "x"},
                "title": "{{ broken",
            },
            "template syntax error",
        ),
    ],
)
def test_bad_mappings_name_the_problem(spec: dict[str, Any], problem: str) -> None:
    with pytest.raises(MappingError, match=problem):
        compile_mapping(spec)


@given(
    rate=st.floats(0.1, 50),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 5), min_size=1, max_size=60),
)
def test_the_rate_limiter_never_allows_more_than_burst_plus_refill(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket, now_s, allowed = None, 0.0, 0
    for gap in gaps:
        now_s += gap
        bucket, wait_s = take(bucket, now_s, rate, burst)
        if wait_s == 0:
            allowed += 1
        else:
            assert wait_s > 0
            assert bucket.tokens < 1.0
    assert allowed <= burst + rate * now_s + 1e-6
    if all(gap == 0 for gap in gaps):
        assert allowed == min(burst, len(gaps))


# The shortcuts on the hot path must answer exactly what the general code answers.

key_line_texts = st.lists(
    st.tuples(st.text(max_size=6), json_values), min_size=1, max_size=5
).flatmap(
    lambda pairs: st.tuples(
        st.just(pairs),
        st.lists(st.sampled_from([", ", ",", ",\n", " ,\r\n", "\n", " "]), min_size=len(pairs)),
        st.sampled_from(["", ",", ",,", " , ", "\n"]),
        st.sampled_from([": ", ":", " : ", ":\n", "\n:", "="]),
    )
)


@settings(max_examples=300)
@given(parts=key_line_texts)
def test_key_lines_read_by_json_are_what_the_tolerant_reader_reads(
    parts: tuple[list[tuple[str, Any]], list[str], str, str],
) -> None:
    pairs, seps, tail, colon = parts
    text = (
        "".join(
            json.dumps(k) + colon + json.dumps(v) + sep
            for (k, v), sep in zip(pairs, seps, strict=False)
        ).rstrip(",\n ")
        + tail
    )
    fast = braced_key_lines(text)
    try:
        tolerant: Any = _KeyLines(text).parse()
    except BodyError:
        tolerant = None
    if fast is not None and tolerant is not None:
        assert fast == tolerant
    if fast is not None:  # what the server uses: the shortcut, whatever the content type
        for ctype in ("application/json", "text/plain", ""):
            assert parse_body(text.encode(), ctype).payload == fast


def test_the_guide_body_takes_the_json_shortcut_and_odd_ones_the_reader() -> None:
    guide = '"flic_nameId": "desk", "flic_state": "On", "info": "Desk",'
    assert braced_key_lines(guide) == {"flic_nameId": "desk", "flic_state": "On", "info": "Desk"}
    for odd in ('"a": NaN,', '"a": 1\n"b": 2', '"a" = "x"', '"a": On'):
        assert braced_key_lines(odd) is None
    assert parse_body(b'"a": NaN,', "application/json").payload == {"a": "NaN"}
    assert parse_body(b'"a": 1\n"b": 2', "").payload == {"a": 1, "b": 2}


template_sources = st.lists(
    st.sampled_from(
        ["{{ name }}", "{{x}}", "{{ true }}", "{{ none }}", "{{ loop }}", "{{ range }}"]
    )
    | st.sampled_from(["{{ name|upper }}", "{% if x %}X{% endif %}", "{# c #}", "{{- x -}}"])
    | st.text(alphabet="ab {}%#-\n", max_size=6),
    max_size=5,
).map("".join)
template_values = (
    st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2)
)


@settings(max_examples=400)
@given(
    source=template_sources,
    context=st.dictionaries(
        st.sampled_from(["name", "x", "true", "none", "loop", "range"]), template_values
    ),
)
def test_a_template_renders_as_jinja_renders_it(source: str, context: dict[str, Any]) -> None:
    try:
        expected = _ENV.from_string(source).render(context)
    except jinja2.TemplateError:
        return  # not a template the mapping validator would accept
    assert Template.compile(source).render(context) == expected


def test_the_flic_templates_take_the_shortcut() -> None:
    title = Template.compile(FLIC_DEFAULT_MAPPING["title"])
    assert title.pieces == ("", "flic_nameId", " pressed")
    assert title.render({"flic_nameId": "desk"}) == "desk pressed"
    assert title.render({"flic_nameId": 7}) == "7 pressed"  # not text: Jinja2 renders it
    assert Template.compile("{% if a %}x{% endif %}").pieces is None
