"""The Analyze table: multiply-adds by hand for each kind of layer, totals, text and CSV."""
from __future__ import annotations

import csv
import io

import pytest

import nnengine as nn
from nnengine.catalogue import layer_spec
from nnengine.layer_table import layer_table, table_csv, table_text
from tests.engine.builders import sequential
from tests.engine.layer_cases import all_cases


def macs(type_name: str, params: dict, input_shapes: list) -> int:
    spec = layer_spec(type_name)
    config, problems = spec.resolve(params)
    assert not problems
    return spec.layer_class(config).multiply_adds([tuple(s) for s in input_shapes])


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_every_layer_counts_its_multiply_adds(case):
    n = macs(case.type, case.params, case.input_shapes)
    assert isinstance(n, int) and n >= 0


def test_multiply_adds_by_hand():
    assert macs("Dense", {"units": 10}, [[64]]) == 640
    # 3x3 windows over 2 channels, stride 2, "same" on 9x9: 5x5 outputs, 4 filters
    assert macs("Conv2D", {"filters": 4, "kernel_size": 3, "stride": 2, "padding": 1},
                [[2, 9, 9]]) == 4 * 5 * 5 * (2 * 3 * 3)
    assert macs("SimpleRNN", {"units": 8}, [[20, 3]]) == 20 * (3 * 8 + 8 * 8)
    assert macs("LSTM", {"units": 8, "return_sequences": True}, [[20, 3]]) \
        == 20 * (3 * 32 + 8 * 32)
    assert macs("RBF", {"units": 5}, [[2]]) == 10
    assert macs("Dot", {}, [[16], [16]]) == 16
    assert macs("Embedding", {"vocab_size": 100, "dim": 8}, [[1]]) == 0
    assert macs("Activation", {"function": "relu"}, [[64]]) == 0


def test_table_rows_totals_text_and_csv():
    g = sequential([1, 8, 8], [("conv", "Conv2D", {"filters": 4, "kernel_size": 3}),
                               ("flat", "Flatten", {}),
                               ("dense", "Dense", {"units": 3})])
    table = layer_table(g)
    assert [r.node for r in table.rows] == g.node_ids()
    conv = table.rows[1]
    assert conv.shape == (4, 6, 6) and conv.params == 4 * 9 + 4
    assert conv.multiply_adds == 4 * 36 * 9
    assert conv.activation_bytes == 4 * 36 * 4   # float32
    assert table.total("params") == nn.analyze(g).total_params
    assert table.total("multiply_adds") == 4 * 36 * 9 + 144 * 3
    assert layer_table(g, dtype="float64").rows[1].activation_bytes == 4 * 36 * 8
    text = table_text(table).splitlines()
    assert text[0].split()[:3] == ["node", "type", "output"]
    assert text[-1].split()[0] == "total" and "1,728" in text[-1]
    rows = list(csv.reader(io.StringIO(table_csv(table))))
    assert rows[2][:6] == ["conv", "Conv2D", "4x6x6", "40", "1296", "576"]
    assert rows[-1][0] == "total" and int(rows[-1][4]) == table.total("multiply_adds")


def test_unknown_numbers_of_a_broken_graph_are_marked():
    g = sequential([1, 8, 8], [("dense", "Dense", {"units": 3})])   # needs a Flatten
    table = layer_table(g)
    assert not table.complete
    dense = table.rows[-1]
    assert dense.shape is None and dense.multiply_adds is None
    assert "?" in table_text(table).splitlines()[-3]
