"""One object per process: made once, even when threads ask at the same moment."""
import threading
import time

from dashboard.server.process_wide import process_wide


def test_factory_runs_once_across_threads():
    calls = []

    @process_wide
    def shared():
        calls.append(1)
        time.sleep(0.05)  # widen the window in which a second thread could slip in
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(shared())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert all(result is results[0] for result in results) and len(results) == 8
