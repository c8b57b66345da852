"""`vuoro serve` on a shared host: web processes yield the CPU to the task worker.

In a burst the pager and the senders must not queue behind intake for the CPU, so gunicorn's
worker processes run at ``VUORO_WEB_NICE`` (default 10) while the worker keeps the default.
"""

import os

import pytest

from tests.web_process import web_process


@pytest.mark.django_db(transaction=True)
def test_web_processes_run_at_a_lower_priority_than_the_worker(tmp_path):
    with web_process(tmp_path) as web:
        pids = web.gunicorn_pids()
        master, workers = pids[0], pids[1:]
        assert workers, pids
        base = os.getpriority(os.PRIO_PROCESS, master)
        assert base == os.getpriority(os.PRIO_PROCESS, 0)  # the master (and the worker) as started
        assert all(os.getpriority(os.PRIO_PROCESS, pid) == min(base + 10, 19) for pid in workers)


@pytest.mark.django_db(transaction=True)
def test_the_web_priority_is_a_setting(tmp_path):
    with web_process(tmp_path, VUORO_WEB_NICE="0") as web:
        workers = web.gunicorn_pids()[1:]
        assert workers and all(os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0)
                               for pid in workers)
