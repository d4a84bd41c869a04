"""The trainer the GUI drives: callbacks, pause/resume/stop/step from another thread,
NaN detection naming the node, clipping, l2, standardization, autoencoder targets."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import nnengine as nn
from tests.engine.builders import mlp, sequential


class Recorder(nn.Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.events.append(("begin",))

    def on_batch_end(self, trainer, epoch, batch, logs):
        self.events.append(("batch", epoch, batch, logs["loss"]))

    def on_epoch_end(self, trainer, epoch, logs):
        self.events.append(("epoch", epoch, dict(logs)))

    def on_train_end(self, trainer, logs):
        self.events.append(("end", logs["stopped"]))


def make_trainer(callbacks=(), control=None, **config):
    model = nn.compile_model(mlp(2, [8], 2, act="relu"), seed=0)
    cfg = nn.TrainingConfig(**{"epochs": 2, "batch_size": 50, **config})
    return nn.Trainer(model, nn.load_dataset("moons"), cfg, callbacks, control)


def test_callbacks_receive_batch_and_epoch_metrics():
    rec = Recorder()
    trainer = make_trainer([rec])
    trainer.fit()
    batches = [e for e in rec.events if e[0] == "batch"]
    epochs = [e for e in rec.events if e[0] == "epoch"]
    assert rec.events[0] == ("begin",) and rec.events[-1] == ("end", False)
    assert len(batches) == 2 * trainer.batches_per_epoch
    assert [e[1] for e in epochs] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[0][2])


def test_snapshot_on_request_has_every_node():
    class Snap(nn.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            self.snap = trainer.snapshot(index=3)

    snap = Snap()
    trainer = make_trainer([snap])
    trainer.fit()
    assert set(snap.snap) == {"input", "n0", "n1", "n2", "n3"}
    assert snap.snap["n0"]["weight_grads"]["W"].shape == (2, 8)
    chosen = trainer.snapshot(index=3, nodes=["n1"])
    assert set(chosen) == {"n1"}
    np.testing.assert_array_equal(chosen["n1"]["activation"], snap.snap["n1"]["activation"])
    with pytest.raises(nn.ConfigError, match="no node 'nope'"):
        trainer.snapshot(nodes=["nope"])


def test_pause_step_resume_and_stop_from_another_thread():
    control = nn.TrainingControl()
    rec = Recorder()
    trainer = make_trainer([rec], control, epochs=1000)
    control.pause()
    thread = threading.Thread(target=trainer.fit)
    thread.start()
    thread.join(0.2)
    assert not [e for e in rec.events if e[0] == "batch"]  # paused before the first batch
    control.step()
    for _ in range(100):
        if [e for e in rec.events if e[0] == "batch"]:
            break
        thread.join(0.02)
    thread.join(0.2)
    assert len([e for e in rec.events if e[0] == "batch"]) == 1  # exactly one batch
    control.resume()
    thread.join(0.3)
    control.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert rec.events[-1] == ("end", True)
    assert trainer.history.stopped_early


def test_a_huge_learning_rate_stops_with_the_node_named_and_weights_kept_finite():
    model = nn.compile_model(sequential([1], [("hidden", "Dense", {"units": 16}),
                                              ("act", "Activation", {"function": "relu"}),
                                              ("out", "Dense", {"units": 1})]), seed=0)
    cfg = nn.TrainingConfig(loss="mse", epochs=50, optimizer={"type": "sgd",
                                                              "learning_rate": 1e6})
    with pytest.raises(nn.TrainingDiverged) as e:
        nn.Trainer(model, nn.load_dataset("sine"), cfg).fit()
    assert e.value.node_id in {"hidden", "act", "out"}
    assert f"'{e.value.node_id}'" in str(e.value) and "lower learning rate" in str(e.value)
    assert all(np.all(np.isfinite(w)) for w in model.weights.values())


def test_clip_norm_bounds_the_step():
    model = nn.compile_model(sequential([1], [("d", "Dense", {"units": 1})]), seed=0)
    before = model.get_weights()
    cfg = nn.TrainingConfig(loss="mse", epochs=1, batch_size=1000, shuffle=False,
                            validation_split=0, clip_norm=0.001,
                            optimizer={"type": "sgd", "learning_rate": 1.0})
    nn.Trainer(model, nn.load_dataset("sine"), cfg).fit()
    step = np.sqrt(sum(np.sum((model.weights[k] - before[k]) ** 2) for k in before))
    assert step == pytest.approx(0.001, rel=1e-3)


def test_l2_adds_the_penalty_to_the_loss():
    base = make_trainer(epochs=0)
    loss0 = base.evaluate(base.x_val, base.y_val, prepared=True)["loss"]
    reg = make_trainer(epochs=0, l2=0.1)
    w = reg.model.weights
    penalty = 0.1 * sum(float(np.sum(w[k] ** 2)) for k in ("n0/W", "n2/W"))
    assert reg.model.regularized_keys == ["n0/W", "n2/W"]
    loss1 = reg.evaluate(reg.x_val, reg.y_val, prepared=True)["loss"]
    assert loss1 == pytest.approx(loss0 + penalty, rel=1e-5)


def test_standardize_stores_statistics_on_the_input():
    trainer = make_trainer(epochs=1, standardize=True)
    w = trainer.model.weights
    x = np.asarray(trainer.x_train[0])  # the split's rows, gathered
    np.testing.assert_allclose(w["input/mean"], x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(w["input/std"], x.std(axis=0), rtol=1e-5)
    out = trainer.model.inspect(trainer.x_train)["input"]["activation"]
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)


def test_autoencoder_learns_to_reproduce_its_input():
    model = nn.compile_model(sequential([2], [("Dense", {"units": 8}),
                                              ("Activation", {"function": "tanh"}),
                                              ("Dense", {"units": 2})]), seed=0)
    cfg = nn.TrainingConfig(loss="mse", target="inputs", epochs=40,
                            optimizer={"type": "adam", "learning_rate": 0.01})
    trainer = nn.Trainer(model, nn.load_dataset("blobs"), cfg)
    history = trainer.fit()
    assert history.last("loss") < 0.05 < history.epochs[0]["loss"]


def test_labels_outside_the_output_are_a_clear_error():
    model = nn.compile_model(mlp(2, [4], 2), seed=0)
    with pytest.raises(nn.DatasetError) as e:
        nn.Trainer(model, nn.load_dataset("blobs"), nn.TrainingConfig())
    assert "2 units" in str(e.value) and "0 to 2" in str(e.value)


@pytest.mark.parametrize("data, words", [
    ({"epoch": 3}, ["unknown key 'epoch'"]),
    ({"batch_size": 0}, ["batch_size"]),
    ({"loss": "log"}, ["loss", "cross_entropy"]),
    ({"validation_split": 1.0}, ["validation_split"]),
    ({"optimizer": {"type": "sgd", "lr": 0.1}}, ["lr"]),
])
def test_training_block_errors(data, words):
    with pytest.raises(nn.ConfigError) as e:
        nn.TrainingConfig.from_dict(data)
    for word in words:
        assert word in str(e.value)


def test_posted_tasks_run_on_the_training_thread_even_while_paused():
    control = nn.TrainingControl()
    trainer = make_trainer(control=control, epochs=1000)
    control.pause()
    thread = threading.Thread(target=trainer.fit)
    thread.start()
    ran_on = []
    done = threading.Event()
    control.post(lambda: (ran_on.append(threading.current_thread()), done.set()))
    assert done.wait(5)
    assert ran_on == [thread] and trainer.history.epochs == []  # ran while paused
    control.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_evaluate_reports_the_test_split():
    trainer = make_trainer(epochs=2)
    trainer.fit()
    assert nn.evaluate(trainer.model, trainer.dataset, trainer.config) == \
        trainer.evaluate_test()
