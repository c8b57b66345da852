"""The worker's page senders share the work: only the lead polls while nothing is due, every
sender drains a burst, and a lead held up in a slow send lets the others go on."""

import threading
import time

from vuoro.ops.management.commands.worker import PageSenders


class Step:
    """A send step that reports the work it is given, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.work = 0
        self.hold = threading.Event()
        self.holding = False

    def __call__(self) -> int:
        self.calls += 1
        if self.holding:
            self.hold.wait(5)
        done, self.work = self.work, 0
        return done


def test_followers_do_not_poll_while_the_lead_finds_nothing():
    step = Step()
    senders = PageSenders(step, interval=0.05)
    assert senders.lead() == 0
    assert [senders.follow() for _ in range(5)] == [0] * 5
    assert step.calls == 1


def test_followers_send_while_the_lead_finds_work_and_stop_when_it_is_done():
    step = Step()
    senders = PageSenders(step, interval=0.05)
    step.work = 3
    assert senders.lead() == 3
    step.work = 2
    assert senders.follow() == 2
    assert senders.follow() == 0  # still polling: the lead has not reported idle yet
    assert senders.lead() == 0
    calls = step.calls
    assert senders.follow() == 0
    assert step.calls == calls


def test_a_lead_held_up_in_a_slow_send_lets_the_followers_poll():
    step = Step()
    senders = PageSenders(step, interval=0.05)
    step.holding = True
    lead = threading.Thread(target=senders.lead)
    lead.start()
    try:
        time.sleep(0.01)
        calls = step.calls
        assert senders.follow() == 0 and step.calls == calls  # not held up long enough yet
        time.sleep(0.06)
        step.holding = False  # the follower's own send is quick
        step.work = 1
        assert senders.follow() == 1
        assert step.calls == calls + 1
    finally:
        step.hold.set()
        lead.join(5)
