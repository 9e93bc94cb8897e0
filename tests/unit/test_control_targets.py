"""Targets of the test controls: client matching (name, address, host prefix), counts that run
out, seeded probabilities that replay; and the confirm rewrite of the AMQP confirm faults."""

from __future__ import annotations

import pytest

from yizhan.amqp import codec
from yizhan.testing.control.amqp_faults import _as_nack, _is_confirm
from yizhan.testing.control.redis_faults import error_text
from yizhan.testing.control.targets import Target


def test_client_matching():
    assert Target().matches_client(None, "127.0.0.1:5000")
    by_name = Target(client="worker")
    assert by_name.matches_client("worker", "127.0.0.1:5000")
    assert not by_name.matches_client("other", "127.0.0.1:5000")
    assert Target(client="127.0.0.1:5000").matches_client(None, "127.0.0.1:5000")
    assert Target(client="127.0.0.1:").matches_client(None, "127.0.0.1:6000")
    assert not Target(client="127.0.0.1").matches_client(None, "127.0.0.1:6000")  # exact unless ":"


def test_count_runs_out_and_none_never_does():
    target = Target(count=2)
    assert [target.take() for _ in range(4)] == [True, True, False, False] and target.spent
    forever = Target(count=None)
    assert all(forever.take() for _ in range(100)) and not forever.spent


def test_seeded_probability_replays():
    def draws():
        target = Target(count=None, probability=0.3, seed=11)
        return [target.take() for _ in range(50)]
    first = draws()
    assert first == draws() and 0 < sum(first) < 50


def test_bad_targets_are_refused():
    for bad in ({"protocol": "http"}, {"probability": 1.5}, {"count": -1}):
        with pytest.raises(ValueError):
            Target(**bad)


def test_error_texts():
    assert error_text("LOADING") == "LOADING Redis is loading the dataset in memory"
    assert error_text("readonly") == "READONLY You can't write against a read only replica."
    assert error_text("ERR my own") == "ERR my own"


def test_confirm_rewritten_as_nack():
    ack = codec.ack_frame(3, 41, True)
    assert _is_confirm(ack) and not _is_confirm(codec.ack_frame(3, 41, True, nack=True))
    assert _as_nack(ack) == codec.ack_frame(3, 41, True, nack=True)
