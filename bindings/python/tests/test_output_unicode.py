"""The output filter's Unicode classes from Python (issue 20): Policy.output(unicode=...),
SandboxResult.unicode and .unicode_tag_text, policy files, bad input."""

import json

import pytest

import agentsbx

# "ig" in tag characters, a right-to-left override, a zero-width space, an invalid byte
SCRIPT = r"printf 'a\363\240\201\251\363\240\201\247b\342\200\256c\342\200\213d\377'"
RAW = b"a\xf3\xa0\x81\xa9\xf3\xa0\x81\xa7b\xe2\x80\xaec\xe2\x80\x8bd\xff"
COUNTS = {"tags": 2, "bidi": 1, "invisible": 1, "invalid_utf8": 1}


def test_output_unicode__kept_and_counted_by_default():
    with agentsbx.Policy() as p:
        r = p.run(["sh", "-c", SCRIPT], capture_output=True)
    assert r.stdout == RAW  # the control: today's bytes
    assert r.unicode == COUNTS
    assert r.unicode_tag_text == "ig"
    assert r.json["unicode"] == dict(COUNTS, tag_text="ig")


def test_output_unicode__actions():
    with agentsbx.Policy() as p:
        p.output(unicode={"tags": "escape", "bidi": "strip", "invisible": "strip",
                          "invalid_utf8": "replace"})
        r = p.run(["sh", "-c", SCRIPT + " >&2"], capture_output=True)
    assert r.stderr == b"a\\u{E0069}\\u{E0067}bcd\xef\xbf\xbd"
    assert r.stdout == b""
    assert r.unicode == COUNTS and r.unicode_tag_text == "ig"


def test_output_unicode__no_capture_counts_nothing():
    with agentsbx.Policy() as p:
        r = p.run(["true"])
    assert r.unicode == {"tags": 0, "bidi": 0, "invisible": 0, "invalid_utf8": 0}
    assert r.unicode_tag_text == ""


def test_output_unicode__policy_file_round_trip():
    with agentsbx.Policy() as p:
        p.output(unicode={"tags": "escape", "invalid_utf8": "replace"})
        doc = json.loads(p.to_json())
        assert doc["output"]["unicode"] == {"tags": "escape", "invalid_utf8": "replace"}
    with agentsbx.Policy() as q:
        q.load_json(json.dumps({"version": 1, "output": {"unicode": {"bidi": "strip"}}}))
        assert json.loads(q.to_json())["output"]["unicode"] == {"bidi": "strip"}


@pytest.mark.parametrize("arg, exc, text", [
    ({"emoji": "strip"}, ValueError, "unknown Unicode class 'emoji'"),
    ({"tags": "drop"}, ValueError, "unicode['tags'] must be one of: keep, strip, escape, replace"),
    ({"tags": 1}, ValueError, "not 1"),
    (["tags"], TypeError, "unicode must be a mapping, not list"),
])
def test_output_unicode__bad_input(arg, exc, text):
    with agentsbx.Policy() as p:
        with pytest.raises(exc) as e:
            p.output(unicode=arg)
        assert text in str(e.value)
        # nothing was half applied
        p.output(unicode={"bidi": "escape"})
        with pytest.raises(ValueError):
            p.output(unicode={"tags": "escape", "bidi": "nope"})
        assert json.loads(p.to_json())["output"]["unicode"] == {"bidi": "escape"}
