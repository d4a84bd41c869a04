"""The watcher process takes the snapshots: the same ones the training process would take,
in order, each epoch record paired with its own; a watcher that dies leaves the snapshots to
the training process and the run goes on."""
from __future__ import annotations

import fcntl
import os
import signal
import time

import numpy as np

import nnengine as nn
from designer.training import process as process_module
from designer.training.controller import TrainingController
from designer.training.mailbox import AwaitedSnapshots, EpochRecord
from designer.training.probe import Probe
from designer.training.protocol import FrameReader, Job, Report
from designer.training.run_setup import build_run
from designer.training.states import TrainingState
from designer.training.summary import Snapshot
from designer.training.watcher import (
    ACK,
    READY,
    SnapshotOutbox,
    SnapshotRequest,
    Watcher,
    WatcherLink,
)

from .test_training import template
from .test_training_process import gone, until


def job_of(graph: nn.Graph, **fields) -> Job:
    return Job(graph, nn.TrainingConfig.from_dict(graph.training), **fields)


def test_the_watchers_snapshot_is_the_one_the_training_process_takes():
    """Built from the same job, the watcher's probe has the same rows and test split: given
    the training process's weights it gives the same layers, output, alarms and test
    predictions."""
    graph = template("digits_cnn", epochs=2)
    job = job_of(graph)
    model, dataset, config = build_run(job)
    trainer = nn.Trainer(model, dataset, config)
    here = Probe(trainer)
    rng = np.random.default_rng(11)                   # weights unlike the seed's
    trained = {k: v if k.endswith(("/mean", "/std")) else
               (v + rng.normal(0, 0.1, v.shape)).astype(v.dtype)
               for k, v in model.get_weights().items()}
    model.set_weights(trained)
    logs = [{"epoch": 1, "loss": 0.9, "accuracy": 0.7}]
    expected = here.snapshot(("test", 5), 40, 2, 3, 1.2, logs, test=100)

    watcher = Watcher(job)
    snap, snap_seconds, test_seconds = watcher.take(SnapshotRequest(
        7, trained, ("test", 5), 40, 2, 3, 1.2, logs, test=100, test_budgeted=True))
    assert snap.number == 7 and (snap.step, snap.epoch, snap.batch) == (40, 2, 3)
    assert snap_seconds > 0 and test_seconds > 0
    assert list(snap.layers) == list(expected.layers)
    for node_id, layer in expected.layers.items():
        got = snap.layers[node_id]
        assert got.grad_norm == layer.grad_norm, node_id
        np.testing.assert_array_equal(got.act_hist.counts, layer.act_hist.counts, node_id)
    np.testing.assert_array_equal(snap.output, expected.output)
    np.testing.assert_array_equal(snap.test_predictions, expected.test_predictions)
    assert [str(a) for a in snap.alarms] == [str(a) for a in expected.alarms]
    whole, _, unbudgeted = watcher.take(SnapshotRequest(   # asked for: no budget pays
        8, trained, ("test", 5), 40, 2, 3, 1.2, test=1 << 62))
    assert len(whole.test_predictions) == len(dataset.y_test) and unbudgeted == 0.0
    # and the watcher's model really holds the weights it was sent, not the seed's
    assert not np.array_equal(snap.output, Probe(nn.Trainer(*build_run(job))).snapshot(
        ("test", 5)).output)


def snapshot(number: int) -> Snapshot:
    return Snapshot(number, 1, 0, 0.0, ("test", 0), {}, number=number)


def test_epoch_records_get_the_watchers_snapshots_whichever_comes_first():
    awaited = AwaitedSnapshots(keep=4)
    early = snapshot(3)
    awaited.arrived(early)
    first = EpochRecord(1, {}, shows=3)              # its snapshot came before it
    awaited.pair(first)
    assert first.snapshot is early
    second = EpochRecord(2, {}, shows=5)             # its snapshot comes after it
    awaited.pair(second)
    assert second.snapshot is None
    awaited.arrived(snapshot(4))
    assert second.snapshot is None
    awaited.arrived(snapshot(5))
    assert second.snapshot is not None and second.snapshot.number == 5
    lost = EpochRecord(3, {}, shows=6)               # a watcher that died never sends it
    awaited.pair(lost)
    awaited.arrived(snapshot(9))
    assert lost.snapshot is None and not awaited.waiting
    carried = EpochRecord(4, {}, snapshot(2), shows=2)   # taken by the training process
    awaited.pair(carried)
    assert carried.snapshot.number == 2 and not awaited.waiting


def watched_messages(monkeypatch) -> list[list[Snapshot]]:
    """Every list of snapshots the window receives from a watcher, from now on."""
    seen: list[list[Snapshot]] = []
    receive = process_module.TrainingProcess.receive

    def counting(self):
        messages = receive(self)
        seen.extend(payload for kind, payload in messages if kind == Report.WATCHED)
        return messages

    monkeypatch.setattr(process_module.TrainingProcess, "receive", counting)
    return seen


def test_a_run_snapshots_in_the_watcher_and_every_epoch_shows_its_own(qtbot, monkeypatch):
    seen = watched_messages(monkeypatch)
    c = TrainingController(graph=template("digits_cnn", epochs=6))
    try:
        assert c.start(paused=True)
        until(qtbot, lambda: c.state == TrainingState.PAUSED)

        def watcher_answers() -> bool:   # its model built (until then the child snapshots)
            c.set_sample(0)
            qtbot.wait(50)
            return bool(seen)

        until(qtbot, watcher_answers)
        c.resume()
        assert c.wait(120_000) and c.state == TrainingState.FINISHED, c.last_message
    finally:
        c.shutdown()
    numbers = [s.number for message in seen for s in message]
    assert len(numbers) >= 6 and numbers == sorted(numbers)    # in order, one per epoch at least
    records = c.epoch_history.records
    assert [r.epoch for r in records] == [1, 2, 3, 4, 5, 6]
    shown = [r.snapshot for r in records]
    assert all(s is not None for s in shown)                   # a short run: each epoch's end
    assert [s.epoch for s in shown] == [1, 2, 3, 4, 5, 6]
    assert [s.batch for s in shown] == [c.run.batches_per_epoch] * 6
    final = c.snapshot
    assert final.number == numbers[-1] and final.epoch == 6
    assert len(final.test_predictions) == c.run.split_sizes["test"]   # the whole split


def test_a_killed_watcher_leaves_the_snapshots_to_the_training_process(qtbot, monkeypatch):
    seen = watched_messages(monkeypatch)
    c = TrainingController(graph=template("digits_cnn", epochs=100_000))
    try:
        assert c.start()
        until(qtbot, lambda: c.state == TrainingState.RUNNING and len(seen) >= 2)
        watcher = c._process.watcher.pid
        os.kill(watcher, signal.SIGKILL)
        until(qtbot, lambda: gone(watcher) or c._process.watcher.poll() is not None)
        number = c.snapshot.number
        until(qtbot, lambda: c.snapshot.number >= number + 3)     # taken by the child now
        assert c.state == TrainingState.RUNNING
        used = time.process_time()          # the watcher's pipe, at its end, is not polled
        qtbot.wait(1000)                    # at every turn of the event loop
        assert time.process_time() - used < 0.6
        c.stop()
        assert c.wait(60_000) and c.state == TrainingState.STOPPED, c.last_message
        assert c.snapshot.test_predictions is not None
    finally:
        c.shutdown()


def test_the_training_thread_waits_for_a_silent_watcher_only_so_long():
    """A watcher that takes a request and never answers is given up after the timeout (the
    training process then snapshots itself); acknowledgements split across reads count."""
    request_read, request_write = os.pipe()
    ack_read, ack_write = os.pipe()
    link = WatcherLink(request_write, ack_read)
    try:
        assert not link.usable                         # not ready: its model is being built
        os.write(ack_write, ACK.pack(*READY))
        assert link.idle
        assert link.send(SnapshotRequest(1, {}, ("test", 0), 1, 1, 1, 0.0))
        assert link.usable and not link.idle
        answer = ACK.pack(0.003, 0.001)
        os.write(ack_write, answer[:5])                 # half an acknowledgement ...
        assert not link.idle
        os.write(ack_write, answer[5:])                 # ... and the rest
        assert link.idle and link.take_spent() == (0.003, 0.001)
        assert link.send(SnapshotRequest(2, {}, ("test", 0), 2, 1, 2, 0.0))
        began = time.monotonic()
        assert not link.wait_idle(timeout=0.3)          # silent: given up
        assert 0.3 <= time.monotonic() - began < 5 and not link.usable
    finally:
        for fd in (request_read, request_write, ack_read, ack_write):
            try:
                os.close(fd)
            except OSError:
                pass


def test_snapshots_waiting_behind_a_full_pipe_go_as_soon_as_it_empties():
    """The watcher never waits for the window: snapshots taken while a message is still
    being written wait, and go as one message as soon as the pipe has room."""
    read_fd, write_fd = os.pipe()
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 4096)
    box, reader = SnapshotOutbox(write_fd), FrameReader(read_fd)
    try:
        big = snapshot(1)
        big.extras = {"image": np.zeros(50_000, np.float32)}     # more than the pipe holds
        box.put(big)
        box.put(snapshot(2))
        box.put(snapshot(3))
        assert box.pending and len(box.waiting) == 2
        got = []
        while box.pending:
            got += reader.read()        # the window reads; the watcher writes what fits,
            box.write()                 # and once the big one is out, what waited
        assert not box.unwritten
        got += reader.read()
        assert [kind for kind, _ in got] == [Report.WATCHED] * 2
        assert [[s.number for s in payload] for _, payload in got] == [[1], [2, 3]]
    finally:
        os.close(read_fd)
        os.close(write_fd)
