"""Where a posting's time goes (issue 20, item 4): waiting for the ledger's lock, or the statements.

    DATABASE_URL=postgresql://.../scratch .venv/bin/python -m bench.posting_time [--threads 8] [--each 50]

Migrates and loads the demo into DATABASE_URL (it must be a scratch database: it gets points),
then lets each thread, on its own connection, post `--each` awards to its own member, one
transaction per award, as the write pages do. Each posting is timed in three parts: from the
transaction's start until the ledger's head row is locked (the lock wait; on SQLite the
database-wide lock is taken when the transaction begins, so it shows in the same part), from
then until the last statement (the statements), and the commit (on SQLite with
`synchronous=FULL`, the fsync). Prints the medians and the 99th percentiles in milliseconds.
"""

import argparse
import statistics
import threading
import time
from pathlib import Path
from tempfile import mkdtemp


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--each", type=int, default=50)
    args = parser.parse_args(argv)

    import os

    from marketplace import create_app
    from marketplace.cli import upgrade
    from marketplace.db import db, is_sqlite
    from marketplace.demo import load_demo
    from marketplace.ledger import services as ledger
    from marketplace.users.models import User

    folder = mkdtemp(prefix="posting-time-")
    app = create_app({"DATABASE_URL": os.environ["DATABASE_URL"], "INSTANCE_PATH": folder, "SECRET_KEY": "posting-time",
                      "UPLOAD_FOLDER": Path(folder) / "uploads", "REQUEST_LOG": False, "TASK_QUEUE_IMMEDIATE": True})
    with app.app_context():
        upgrade()
        load_demo()
        members = [User.create(phone=f"1370009{i:04d}", display_name=f"m{i}", password_hash="-").id
                   for i in range(args.threads)]
        db.close()

    timings, lock = [], threading.Lock()
    original_lock_head = ledger.lock_head
    marks = threading.local()

    def timed_lock_head(*a, **k):
        head = original_lock_head(*a, **k)
        marks.locked = time.perf_counter()
        return head

    ledger.lock_head = timed_lock_head
    run = f"{time.time():.0f}"

    def worker(n: int) -> None:
        with app.app_context():
            member = User.get_by_id(members[n])
            for i in range(args.each):
                started = time.perf_counter()
                with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
                    ledger.award(None, member, 1, "earn_event", "posting-time", f"posting-time:{run}:{n}:{i}")
                    written = time.perf_counter()
                committed = time.perf_counter()
                with lock:
                    timings.append((marks.locked - started, written - marks.locked, committed - written))
            db.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    print(f"{len(timings)} postings by {args.threads} threads in {elapsed:.1f} s: {len(timings) / elapsed:.0f} a second")
    for index, part in enumerate(("lock wait", "statements", "commit")):
        values = sorted(t[index] * 1000 for t in timings)
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"{part:>10}: median {statistics.median(values):6.2f} ms, p99 {p99:6.2f} ms")


if __name__ == "__main__":
    main()
