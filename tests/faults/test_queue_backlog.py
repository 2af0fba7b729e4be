"""A burst of requests larger than the thread pool is summarised, not logged per request (issue 20, "also
questionable": 7,677 "Task queue depth" warnings in 30 s of load drowned every other line of the journal).
A real `kiosk serve` with 2 threads, 40 requests at once."""

from __future__ import annotations

import threading
import urllib.request

from tests.ops.kiosk_process import KioskProcess

BURST = 40


def test_a_burst_beyond_the_threads_is_one_backlog_line_not_one_per_request(data_dir):
    kiosk = KioskProcess(data_dir, KIOSK_THREADS="2").start()
    kiosk.wait_until_serving()
    statuses: list[int] = []
    try:
        barrier = threading.Barrier(BURST)

        def get():
            barrier.wait()
            with urllib.request.urlopen(kiosk.url + "/", timeout=60) as response:
                response.read()
                statuses.append(response.status)

        threads = [threading.Thread(target=get) for _ in range(BURST)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        kiosk.stop()

    assert statuses == [200] * BURST
    log = kiosk.log()
    assert "Task queue depth" not in log
    assert log.count("server.queue_backlog") == 1, "one summary line for the burst"
