"""The length bound of CODE_SECRET and CODE_SECRET_PREVIOUS (16 characters), at its
edge: 15 refused, 16 accepted, read by Settings and by the handler a start-up builds."""

from __future__ import annotations

import pytest

from smsverify.settings.config import Settings
from smsverify.edge.handler import create_handler
from smsverify.errors import ConfigError

SIXTEEN = "k3y-0f-16-chars!"  # pragma: allowlist secret
FIFTEEN = SIXTEEN[:15]
LOCAL = {"SMS_PROVIDER": "console"}


@pytest.mark.parametrize("variable", ["CODE_SECRET", "CODE_SECRET_PREVIOUS"])
def test_fifteen_characters_are_refused_and_sixteen_accepted(variable):
    env = {**LOCAL, "CODE_SECRET": SIXTEEN}
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**env, variable: FIFTEEN})
    assert refused.value.variable == variable
    settings = Settings.from_env({**env, variable: SIXTEEN})
    assert settings.code_secret == SIXTEEN.encode()


def test_a_handler_does_not_start_with_a_fifteen_character_secret():
    with pytest.raises(ConfigError) as refused:
        create_handler({**LOCAL, "CODE_SECRET": FIFTEEN})
    assert refused.value.variable == "CODE_SECRET"
    assert callable(create_handler({**LOCAL, "CODE_SECRET": SIXTEEN}))
