"""The realtime serializers read and write Phoenix frames as hosted Realtime does, and ignore
frames they cannot trust."""

from __future__ import annotations

import json

import pytest

from directorstudio.stack.realtime.serializer import (
    Frame,
    UserBroadcast,
    V1Serializer,
    V2Serializer,
    for_version,
)
from tests.support.realtime import decode_user_broadcast, user_broadcast_push


def test_the_serializer_is_chosen_by_the_major_version_and_defaults_to_1_0_0() -> None:
    assert isinstance(for_version(None), V1Serializer)
    assert isinstance(for_version("1.0.0"), V1Serializer)
    assert isinstance(for_version("2.0.0"), V2Serializer)
    assert for_version("3.0.0") is None


def test_a_2_0_0_array_frame_is_read_and_written_in_phoenix_order() -> None:
    codec = V2Serializer()
    frame = codec.decode('["1", "2", "realtime:a", "phx_join", {"config": {}}]')
    assert frame == Frame("realtime:a", "phx_join", {"config": {}}, "2", "1")
    assert json.loads(str(codec.encode(frame))) == [
        "1",
        "2",
        "realtime:a",
        "phx_join",
        {"config": {}},
    ]


def test_a_binary_broadcast_push_is_read_with_its_refs_event_and_payload() -> None:
    data = user_broadcast_push(
        "realtime:a", "ev", b'{"n": 1}', json_encoded=True, ref="5", join_ref="4"
    )
    frame = V2Serializer().decode(data)
    assert frame is not None
    assert (frame.topic, frame.event, frame.ref, frame.join_ref) == (
        "realtime:a",
        "broadcast",
        "5",
        "4",
    )
    assert frame.payload == UserBroadcast("ev", b'{"n": 1}', binary=False)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes([0, 0, 0, 0, 0]),  # a plain Phoenix push: not a user broadcast
        bytes([3, 9, 0, 0, 0, 0, 1]),  # sizes beyond the frame
        user_broadcast_push("realtime:a", "ev", b"{not json", json_encoded=True),
        bytes([3, 0, 0, 2, 0, 0, 0]) + b"\xff\xfe",  # a topic that is not UTF-8
    ],
)
def test_a_binary_frame_that_cannot_be_trusted_is_ignored(data: bytes) -> None:
    assert V2Serializer().decode(data) is None


def test_a_user_broadcast_is_binary_for_2_0_0_and_a_json_broadcast_for_1_0_0() -> None:
    message = UserBroadcast.of_json("ev", {"n": 1}, {"id": "m1"})
    frame = Frame("realtime:a", "broadcast", message)
    binary = V2Serializer().encode(frame)
    assert isinstance(binary, bytes)
    decoded = decode_user_broadcast(binary)
    assert (decoded.topic, decoded.event, decoded.metadata) == ("realtime:a", "ev", {"id": "m1"})
    assert json.loads(decoded.payload) == {"n": 1}
    text = json.loads(str(V1Serializer().encode(frame)))
    assert text["payload"] == {
        "event": "ev",
        "payload": {"n": 1},
        "type": "broadcast",
        "meta": {"id": "m1"},
    }


def test_a_binary_payload_cannot_reach_a_1_0_0_socket() -> None:
    frame = Frame("realtime:a", "broadcast", UserBroadcast("ev", b"\x00", binary=True))
    assert V1Serializer().encode(frame) is None


def test_a_topic_longer_than_a_binary_frame_can_carry_is_not_encoded() -> None:
    frame = Frame("realtime:" + "t" * 300, "broadcast", UserBroadcast.of_json("ev", {}))
    assert V2Serializer().encode(frame) is None
