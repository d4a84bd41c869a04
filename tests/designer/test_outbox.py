"""The training process's report pipe (`child.Outbox`): the training thread writes its own
messages and never waits for a window that reads slowly; what it could not write yet goes
first (written by the heartbeat thread as the window reads), in order; the mailbox stays bounded meanwhile; the end of the
run writes everything left."""
from __future__ import annotations

import os
import threading
import time

import numpy as np

from designer.training.child import BEAT_AFTER, Outbox
from designer.training.mailbox import BatchRecord, Mailbox, SentWeights
from designer.training.protocol import FrameReader, Report


def record(step: int) -> BatchRecord:
    return BatchRecord(step, 1, step, step / 10, 1.0, 0.5, 8, float(step))


def read_all(reader: FrameReader) -> list:
    messages = []
    for _ in range(200):
        got = reader.read()
        messages += got
        if not got:
            break
    return messages


def test_a_full_pipe_never_holds_up_training_and_nothing_is_lost_or_reordered():
    read_fd, write_fd = os.pipe()
    reader = FrameReader(read_fd)
    box = Outbox(Mailbox(max_batches=100), write_fd)
    box.mailbox.put_weights(SentWeights({"w": np.ones(1_000_000, np.float32)}, 1, 1))
    box.mailbox.put_batch(record(1))
    start = time.monotonic()
    box.send()                                   # 4 MB into a 64 KB pipe: written in part
    for step in range(2, 400):                   # training goes on meanwhile
        box.mailbox.put_batch(record(step))
        box.send()
    assert time.monotonic() - start < 1.0        # never waited for the reader
    assert box.unsent.is_set()                   # the heartbeat thread's to write
    assert len(box.mailbox._batches) <= 100      # the mailbox stayed bounded meanwhile
    messages = read_all(reader)
    for _ in range(200):                         # the window reads; the rest goes out
        if box.unsent.is_set():
            box.write_unsent(0.01)                   # as the heartbeat thread does
        box.send()
        messages += read_all(reader)
        if messages and messages[-1][1].batches and messages[-1][1].batches[-1].step == 399:
            break
    updates = [payload for kind, payload in messages if kind == Report.UPDATE]
    assert np.array_equal(updates[0].weights.weights["w"], np.ones(1_000_000, np.float32))
    steps = [b.step for u in updates for b in u.batches]
    dropped = sum(u.dropped for u in updates)
    assert steps == sorted(steps) and steps[0] == 1 and steps[-1] == 399
    assert len(steps) + dropped == 399           # bounded mailbox: dropped ones counted
    box.close()
    reader.close()


def test_heartbeats_only_after_a_quiet_spell_and_close_writes_what_is_left():
    read_fd, write_fd = os.pipe()
    reader = FrameReader(read_fd)
    box = Outbox(Mailbox(), write_fd)
    box.send(beat=True)                          # nothing sent yet: a heartbeat at once
    box.send(beat=True)                          # just sent: no second one
    assert [k for k, _ in read_all(reader)] == [Report.BEAT]
    box.last = time.monotonic() - BEAT_AFTER - 0.01
    box.send(beat=True)
    assert [k for k, _ in read_all(reader)] == [Report.BEAT]
    box.mailbox.put_weights(SentWeights({"w": np.arange(2_000_000, dtype=np.float32)}, 5, 2))
    got: list = []

    def window_reads() -> None:
        while not reader.eof:
            got.extend(reader.read())
            time.sleep(0.005)

    drain = threading.Thread(target=window_reads)
    drain.start()
    box.close()                                  # waits for the pipe: all of it arrives
    drain.join()
    assert got[-1][0] == Report.UPDATE and got[-1][1].weights.step == 5
