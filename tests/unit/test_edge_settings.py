"""EdgeSettings.from_env (ALLOWED_ORIGINS): every bad entry is named in one start-up error,
so a list with several mistakes is fixed in one deploy, not one per entry."""

from __future__ import annotations

import pytest

from smsverify.edge.handler import read_configuration
from smsverify.edge.settings import EdgeSettings
from smsverify.errors import ConfigError

BAD = {
    "https://bad.example/": "has more than scheme://host[:port]",
    "*": "is not an origin",
    "https://Upper.example": "must be lower case",
    "https://a.example:99999": "invalid port",
}


def test_every_bad_origin_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        EdgeSettings.from_env({"ALLOWED_ORIGINS": "https://ok.example, " + ", ".join(BAD)})
    error = info.value
    assert error.problems == [("ALLOWED_ORIGINS", error.problem)]  # one variable, one entry in a start-up's list
    reported = error.problem.split("; ")
    assert len(reported) == len(BAD)
    for (entry, words), line in zip(BAD.items(), reported):  # in the order written
        assert line.startswith(repr(entry)) and words in line
    assert "ok.example" not in error.problem


def test_every_bad_origin_reaches_the_start_up_error():
    with pytest.raises(ConfigError) as info:
        read_configuration({"ALLOWED_ORIGINS": "https://bad.example/,http://x.example/path"})
    (origins,) = [problem for variable, problem in info.value.problems if variable == "ALLOWED_ORIGINS"]
    assert "'https://bad.example/'" in origins and "'http://x.example/path'" in origins


def test_a_good_origin_list_is_read_as_written():
    assert EdgeSettings.from_env({"ALLOWED_ORIGINS": "https://a.example,http://localhost:5173"}).allowed_origins == {
        "https://a.example", "http://localhost:5173"}
