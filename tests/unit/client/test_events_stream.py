"""The client's Server-Sent Events decoder, on the gateway's own framing."""

from __future__ import annotations

from ecg_client.calls import SseDecoder, StreamEvent


def decode(text: str) -> list[StreamEvent]:
    decoder = SseDecoder()
    return [event for line in text.split("\n") if (event := decoder.feed(line)) is not None]


def test_status_events_resync_and_keep_alives() -> None:
    stream = (
        "retry: 2000\n: connected\n\n"
        'event: status\nid: e1\ndata: {"id": "a", "status": "done", '
        '"links": {"ecg": "/ecg/a", "insights": "/ecg/a/insights"}}\n\n'
        ": keep-alive\n\n"
        "event: resync\ndata: {}\n\n"
        "event: other\ndata: ignored\n\n"
        'event: status\r\ndata: {"id": "b", "status": "failed",\r\n'
        'data: "links": {"ecg": "/ecg/b", "insights": "/ecg/b/insights"}}\r\n\r\n'
    )
    events = decode(stream)
    assert [(event.kind, event.notice and event.notice.id) for event in events] == [
        ("status", "a"),
        ("resync", None),
        ("status", "b"),
    ]
    first, last = events[0].notice, events[2].notice
    assert first is not None
    assert first.links.insights == "/ecg/a/insights"
    assert last is not None
    assert last.status == "failed"
