"""The scrubber's records in a project file: round trip without pickle, within a budget."""
from __future__ import annotations

import io

import numpy as np
import pytest

from designer.runs import codec
from designer.training.mailbox import EpochRecord
from designer.training.summary import Boundary, Hist, LayerSummary, Snapshot
from nnengine.diagnostics import Alarm


def snapshot(epoch: int, rng: np.random.Generator) -> Snapshot:
    layer = LayerSummary("dense1", "Dense", None, (8,), unit_values=rng.random(8, np.float32),
                         act_hist=Hist(rng.random(40).astype(np.float32), -1.0, 1.0),
                         grad_norm=float("nan"), weight_hists={"W": Hist(np.ones(40), 0, 2)})
    return Snapshot(epoch * 10, epoch, 0, float(epoch), ("test", 3), {"dense1": layer},
                    output=rng.random(2), alarms=[Alarm("warning", "dense1", "dead", "dead")],
                    boundary=Boundary(np.zeros((4, 4), np.int16), np.ones((4, 4), np.float32),
                                      (0.0, 1.0, -1.0, 1.0)),
                    order=["dense1"])


def test_records_round_trip():
    rng = np.random.default_rng(0)
    records = [EpochRecord(e, {"epoch": e, "loss": 1.0 / e}, snapshot(e, rng))
               for e in range(1, 4)]
    final = snapshot(3, rng)
    back, last = codec.decode(codec.encode(records, final))
    assert [r.epoch for r in back] == [1, 2, 3] and back[1].logs == records[1].logs
    a, b = records[2].snapshot, back[2].snapshot
    assert b.sample == ("test", 3) and b.order == ["dense1"] and b.alarms == a.alarms
    np.testing.assert_array_equal(b.layers["dense1"].act_hist.counts,
                                  a.layers["dense1"].act_hist.counts)
    assert np.isnan(b.layers["dense1"].grad_norm)
    np.testing.assert_array_equal(last.boundary.classes, final.boundary.classes)
    assert last.boundary.extent == final.boundary.extent


@pytest.mark.parametrize("epochs", [9, 40])
def test_over_the_budget_every_other_epoch_goes_keeping_first_and_last(epochs):
    rng = np.random.default_rng(1)
    records = [EpochRecord(e, {"epoch": e}, snapshot(e, rng)) for e in range(1, epochs + 1)]
    whole = len(codec.encode(records, None))
    back, _ = codec.decode(codec.encode(records, None, budget=whole // 3))
    kept = [r.epoch for r in back]
    assert kept[0] == 1 and kept[-1] == epochs and len(kept) < epochs / 2
    steps = np.diff(kept[:-1])
    assert len(set(steps.tolist())) <= 1            # evenly spread
    assert len(codec.encode(back, None)) <= whole // 3


def test_a_file_naming_another_type_is_refused():
    data = codec.encode([EpochRecord(1, {}, snapshot(1, np.random.default_rng(2)))], None)
    with np.load(io.BytesIO(data)) as z:
        arrays = {k: z[k] for k in z.files}
    skeleton = bytes(arrays[codec.SKELETON]).replace(b'"Snapshot"', b'"Popen"')
    arrays[codec.SKELETON] = np.frombuffer(skeleton, np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(codec.CodecError, match="unknown record type 'Popen'"):
        codec.decode(buf.getvalue())
