"""The frames the server builds itself are the ones wsproto would build (RFC 6455 5.2)."""

import pytest
from wsproto.frame_protocol import FrameProtocol

from cardgame.net.transport import text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_a_text_frame_is_wsprotos_to_the_byte(size):
    text = "é" * (size // 2) + "x" * (size % 2)  # two bytes a character, then one
    assert text_frame(text) == FrameProtocol(client=False, extensions=[]).send_data(text, True)
