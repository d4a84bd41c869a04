"""The training process's report pipe (`child.Outbox`): the training thread writes its own
messages and never waits for a window that reads slowly; what it could not write yet goes
first (written by the heartbeat thread as the window reads), in order; the mailbox stays bounded meanwhile; the end of the
run writes everything left."""
from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from designer.training.child import BEAT_AFTER, Outbox
from designer.training.mailbox import Mailbox, SentWeights
from designer.training.protocol import FrameReader, Report


def record(step: int) -> tuple[float, ...]:
    """One batch's row (step, epoch, batch, x, loss, accuracy, size, seconds)."""
    return (step, 1, step, step / 10, 1.0, 0.5, 8, float(step))


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
        if messages and len(messages[-1][1].batches) and messages[-1][1].batches.step[-1] == 399:
            break
    updates = [payload for kind, payload in messages if kind == Report.UPDATE]
    assert np.array_equal(updates[0].weights.weights["w"], np.ones(1_000_000, np.float32))
    steps = [int(s) for u in updates for s in u.batches.step]
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


def test_each_batch_row_carries_every_layers_gradient_norm_to_the_curves():
    """The reporter's rows (the training process's side) feed the window's MetricsStore:
    loss, accuracy and each layer's gradient norm on the batch, from the trainer's squares."""
    import nnengine as nn
    from designer.training.metrics import MetricsStore
    from designer.training.pacer import Pacer
    from designer.training.reporter import SnapshotBudget, TrainingReporter
    from designer.training.run_setup import prepare_run

    g = nn.Graph("xor", {"dataset": "xor", "loss": "cross_entropy", "batch_size": 16,
                         "epochs": 2, "seed": 3, "optimizer": {"type": "adam"}})
    for node_id, type_name, params in [("in", "Input", {"shape": [2]}),
                                       ("h", "Dense", {"units": 4}),
                                       ("a", "Activation", {"function": "tanh"}),
                                       ("out", "Dense", {"units": 2}),
                                       ("s", "Activation", {"function": "softmax"})]:
        g.add_node(node_id, type_name, params)
    for a, b in [("in", "h"), ("h", "a"), ("a", "out"), ("out", "s")]:
        g.add_edge(a, b)
    model, dataset, config = prepare_run(g, g.training)
    box = Mailbox()
    reporter = TrainingReporter(box, nn.TrainingControl(), None, SnapshotBudget(0.001, 0.0),
                                pacer=Pacer(None))
    trainer = nn.Trainer(model, dataset, config, [reporter])
    history = trainer.fit()
    table = box.drain().batches
    per_epoch = trainer.batches_per_epoch
    assert len(table) == 2 * per_epoch and table.step.tolist() == list(range(1, len(table) + 1))
    assert table.epoch.tolist() == [1] * per_epoch + [2] * per_epoch
    last = trainer.grad_squares
    want = [np.sqrt(sum(v for k, v in last.items() if k.split("/")[0] == node))
            for node in reporter.norms.nodes]
    assert reporter.norms.nodes == ["h", "out"]
    assert np.allclose(table.grad_norms[-1], want) and np.all(table.grad_norms > 0)
    store = MetricsStore()
    store.set_grad_nodes(reporter.norms.nodes)
    store.add_batches(table)
    x, norms = store.grad_norms("out")
    assert np.array_equal(norms, table.grad_norms[:, 1]) and x[-1] == 2.0
    assert np.isclose(store.batch_loss[-per_epoch:].mean(), history.epochs[-1]["loss"],
                      rtol=1e-4)


def test_batch_tables_join_in_order_and_a_row_of_another_width_is_refused():
    from designer.training.mailbox import BatchLog, BatchTable

    log = BatchLog(max_rows=10)
    for step in range(1, 26):
        log.append(record(step) + (0.1 * step,))     # one layer's gradient norm
    table, dropped = log.take()
    # full at 10 rows: the oldest tenth (1 row) goes each time, and is counted
    assert table.step.tolist() == list(range(16, 26)) and dropped == 15
    assert np.allclose(table.grad_norms[:, 0], 0.1 * table.step)
    assert len(log.take()[0]) == 0 and log.take()[1] == 0
    joined = BatchTable().then(table).then(BatchTable.of([9.5], [0.25], None, [[0.3]],
                                                         step=[26]))
    assert joined.step.tolist() == list(range(16, 27)) and np.isnan(joined.accuracy[-1])
    with pytest.raises(ValueError, match="9 values after rows of 8"):
        log.append(record(1))
        log.append(record(2) + (0.5,))
