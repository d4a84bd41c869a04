"""A corpus of malformed inputs, each run through the real command (`python -m nnengine`):
exit status 1 (bad input) or 2 (bad usage), one short line on stderr, never a traceback.

The commands run concurrently once per session (subprocess start-up dominates); each case
is still its own test.
"""
from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).parents[2]
EXAMPLE = REPO / "resources" / "examples" / "mlp_iris.json"


def graph(nodes=None, edges=None, **top):
    """Graph-file text: by default Input [4] -> Dense 3 -> softmax (fits iris)."""
    data = {"format": "nnengine.graph", "version": 1, "name": "t",
            "nodes": nodes if nodes is not None else [
                {"id": "input", "type": "Input", "params": {"shape": [4]}},
                {"id": "dense", "type": "Dense", "params": {"units": 3}},
                {"id": "out", "type": "Activation", "params": {"function": "softmax"}}],
            "edges": edges if edges is not None else [
                {"source": "input", "target": "dense"}, {"source": "dense", "target": "out"}]}
    data.update(top)
    return json.dumps(data)


def node(node_id, type_name, **params):
    return {"id": node_id, "type": type_name, "params": params}


def chain(*ids):
    return [{"source": a, "target": b} for a, b in itertools.pairwise(ids)]


OK = graph(training={"dataset": "iris", "epochs": 1})
STANDARDIZED = graph(training={"dataset": "iris", "epochs": 1, "standardize": True})


def weights_for_ok(**changes):
    w = {"dense/W": np.zeros((4, 3), np.float32), "dense/b": np.zeros(3, np.float32)}
    w.update(changes)
    return {k: v for k, v in w.items() if v is not None}


def _gzip(path, data):
    Path(path).write_bytes(gzip.compress(data))


def _idx(a):
    """An IDX file's bytes for the array `a` (its dtype picks the IDX type)."""
    kinds = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}
    return (bytes([0, 0, kinds[a.dtype], a.ndim]) + np.array(a.shape, ">u4").tobytes()
            + a.tobytes())


def _npy_header(shape):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def _lying_npy(path, shape):
    """A .npy whose header declares `shape` but which holds 16 bytes of data."""
    Path(path).write_bytes(_npy_header(shape) + bytes(16))


def _lying_npz(path, key, shape):
    with zipfile.ZipFile(path, "w") as z:
        for name, value in weights_for_ok(**{key: None}).items():
            buf = io.BytesIO()
            np.save(buf, value)
            z.writestr(f"{name}.npy", buf.getvalue())
        z.writestr(f"{key}.npy", _npy_header(shape) + bytes(4096))


def _bundle(path, metrics):
    """A model bundle of the OK graph whose metrics.json holds `metrics` (deflated)."""
    buf = io.BytesIO()
    np.savez(buf, **weights_for_ok())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("graph.json", OK)
        z.writestr("weights.npz", buf.getvalue())
        z.writestr("metrics.json", metrics)


def _png(path, width, height):
    from PIL import Image

    Image.new("L", (width, height), 128).save(path)


# name: (files to write {name: str | bytes | dict of arrays (npz) | callable(path)},
#        command arguments, expected exit status, a phrase the message must contain,
#        optionally the environment's reading budgets, e.g. {"NNENGINE_MAX_CLASSES": "10"})
CASES = {
    # --- graph files ---
    "empty file": ({"g.json": ""}, ["validate", "g.json"], 1, "is empty"),
    "only whitespace": ({"g.json": " \n\t"}, ["validate", "g.json"], 1, "is empty"),
    "not JSON": ({"g.json": "hello world"}, ["validate", "g.json"], 1, "not valid JSON"),
    "truncated JSON": ({"g.json": OK[:40]}, ["validate", "g.json"], 1, "not valid JSON"),
    "JSON list": ({"g.json": "[1, 2]"}, ["validate", "g.json"], 1, "holds a list"),
    "deep nesting": ({"g.json": "[" * 200000 + "]" * 200000}, ["validate", "g.json"], 1,
                     "levels deep"),
    "deep nesting in params": ({"g.json": graph(nodes=[{"id": "a", "type": "Input", "params": {
        "shape": json.loads("[" * 500 + "]" * 500)}}])}, ["validate", "g.json"], 1,
        "levels deep"),
    "not UTF-8": ({"g.json": b'{"name": "caf\xe9"}'}, ["validate", "g.json"], 1, "not UTF-8"),
    "binary garbage": ({"g.json": bytes(range(256)) * 4}, ["validate", "g.json"], 1,
                       "not UTF-8"),
    "huge file": ({"g.json": lambda p: _sparse_file(p, 200 * 2**20)},
                  ["validate", "g.json"], 1, "too big"),
    "number with 10000 digits": ({"g.json": '{"version": ' + "9" * 10000 + "}"},
                                 ["validate", "g.json"], 1, "thousands of digits"),
    "NaN": ({"g.json": OK.replace('"units": 3', '"units": NaN')}, ["validate", "g.json"], 1,
            "NaN"),
    "duplicate key": ({"g.json": OK.replace('"units": 3', '"units": 3, "units": 4')},
                      ["validate", "g.json"], 1, "appears twice"),
    "no format": ({"g.json": '{"nodes": []}'}, ["validate", "g.json"], 1, "no \"format\""),
    "other format": ({"g.json": graph(format="keras")}, ["validate", "g.json"], 1,
                     "not an nnengine graph"),
    "newer version": ({"g.json": graph(version=2)}, ["validate", "g.json"], 1, "newer"),
    "version is text": ({"g.json": graph(version="1")}, ["validate", "g.json"], 1,
                        "whole number"),
    "unknown top-level key": ({"g.json": graph(nodez=[])}, ["validate", "g.json"], 1,
                              "unknown key 'nodez'"),
    "unknown node key": ({"g.json": graph(nodes=[{"id": "a", "type": "Input", "parms": {}}])},
                         ["validate", "g.json"], 1, "node 'a': unknown key 'parms'"),
    "unknown edge key": ({"g.json": graph(edges=[{"source": "input", "target": "dense",
                                                  "weight": 1}])},
                         ["validate", "g.json"], 1, "unknown key 'weight'"),
    "unknown parameter": ({"g.json": graph(nodes=[node("input", "Input", shape=[4]),
                                                  node("dense", "Dense", units=3, unit=2)],
                                           edges=chain("input", "dense"))},
                          ["validate", "g.json"], 1, "node 'dense': unknown parameter 'unit'"),
    "nodes is an object": ({"g.json": graph(nodes={})}, ["validate", "g.json"], 1,
                           "must be a list"),
    "node is a string": ({"g.json": graph(nodes=["dense"])}, ["validate", "g.json"], 1,
                         "must be an object"),
    "bad id": ({"g.json": graph(nodes=[node("1st", "Input", shape=[2])], edges=[])},
               ["validate", "g.json"], 1, "invalid id"),
    "duplicate ids": ({"g.json": graph(nodes=[node("a", "Input", shape=[2]),
                                              node("a", "Dense", units=2)], edges=[])},
                      ["validate", "g.json"], 1, "duplicate node id 'a'"),
    "edge to missing node": ({"g.json": graph(edges=chain("input", "ghost"))},
                             ["validate", "g.json"], 1, "unknown node 'ghost'"),
    "cycle": ({"g.json": graph(nodes=[node("input", "Input", shape=[2]), node("add", "Add"),
                                      node("a", "Dense", units=2), node("b", "Dense", units=2),
                                      node("out", "Activation", function="relu")],
                               edges=[{"source": "input", "target": "add", "target_port": 0},
                                      {"source": "b", "target": "add", "target_port": 1}]
                               + chain("add", "a", "b", "out"))},
              ["validate", "g.json"], 1, "part of a cycle"),
    "unknown layer type": ({"g.json": graph(nodes=[node("input", "Input", shape=[2]),
                                                   node("d", "Dense2D", units=2)],
                                            edges=chain("input", "d"))},
                           ["validate", "g.json"], 1, "node 'd': unknown layer type 'Dense2D'"),
    "missing required parameter": ({"g.json": graph(nodes=[node("input", "Input", shape=[2]),
                                                           node("d", "Dense")],
                                                    edges=chain("input", "d"))},
                                   ["validate", "g.json"], 1, "'units' is required"),
    "parameter of the wrong type": ({"g.json": graph(nodes=[
        node("input", "Input", shape=[2]), node("d", "Dense", units="ten")],
        edges=chain("input", "d"))}, ["validate", "g.json"], 1, "must be an integer"),
    "negative units": ({"g.json": graph(nodes=[node("input", "Input", shape=[2]),
                                               node("d", "Dense", units=-3)],
                                        edges=chain("input", "d"))},
                       ["validate", "g.json"], 1, "node 'd'"),
    "bad shape for Dense": ({"g.json": graph(nodes=[node("input", "Input", shape=[1, 8, 8]),
                                                    node("d", "Dense", units=3)],
                                             edges=chain("input", "d"))},
                            ["validate", "g.json"], 1, "Flatten"),
    "two outputs": ({"g.json": graph(nodes=[node("input", "Input", shape=[2]),
                                            node("a", "Dense", units=2),
                                            node("b", "Dense", units=2)],
                                     edges=chain("input", "a") + chain("input", "b"))},
                    ["validate", "g.json"], 1, "no outgoing edge"),
    "no Input node": ({"g.json": graph(nodes=[node("d", "Dense", units=2)], edges=[])},
                      ["validate", "g.json"], 1, "no Input"),
    "position not two numbers": ({"g.json": graph(nodes=[
        {"id": "input", "type": "Input", "params": {"shape": [2]}, "position": "left"}],
        edges=[])}, ["validate", "g.json"], 1, "position"),
    "training unknown key": ({"g.json": graph(training={"epoch": 3})}, ["validate", "g.json"],
                             1, "training: unknown key 'epoch'"),
    "training bad value": ({"g.json": graph(training={"batch_size": 0})},
                           ["validate", "g.json"], 1, "batch_size"),
    "training unknown optimizer": ({"g.json": graph(training={"optimizer": {"type": "adamw"}})},
                                   ["validate", "g.json"], 1, "adamw"),
    "training optimizer type is a list": ({"g.json": graph(training={"optimizer": {
        "type": ["adam"]}})}, ["validate", "g.json"], 1, "training"),
    "training is a list": ({"g.json": graph(training=[1])}, ["validate", "g.json"], 1,
                           "\"training\" must be an object"),
    "training dataset that does not exist": ({"g.json": graph(training={"dataset": "nope"})},
                                             ["validate", "g.json"], 1, "dataset 'nope'"),
    "weights too big for memory": ({"g.json": graph(nodes=[
        node("input", "Input", shape=[1000000]), node("d", "Dense", units=10**9)],
        edges=chain("input", "d"))}, ["validate", "g.json"], 1, "B of memory, but this"),
    "missing graph file": ({}, ["validate", "missing.json"], 1, "no such file"),
    "folder instead of file": ({"dir/x": "x"}, ["validate", "dir"], 1, "is a folder"),
    # --- weight files ---
    "weights of the wrong shape": ({"g.json": OK, "w.npz": weights_for_ok(
        **{"dense/W": np.zeros((3, 4), np.float32)})},
        ["evaluate", "g.json", "--weights", "w.npz"], 1, "'dense/W' has shape [3, 4]"),
    "weights missing a key": ({"g.json": OK, "w.npz": weights_for_ok(**{"dense/b": None})},
                              ["evaluate", "g.json", "--weights", "w.npz"], 1,
                              "missing 'dense/b'"),
    "weights with an extra key": ({"g.json": OK, "w.npz": weights_for_ok(
        **{"dense2/W": np.zeros(2)})}, ["evaluate", "g.json", "--weights", "w.npz"], 1,
        "unexpected 'dense2/W'"),
    "weight file is text": ({"g.json": OK, "w.npz": "not a zip"},
                            ["evaluate", "g.json", "--weights", "w.npz"], 1,
                            "not a weight file"),
    "weight file cut short": ({"g.json": OK, "w.npz": lambda p: _truncated_npz(p)},
                              ["evaluate", "g.json", "--weights", "w.npz"], 1, "w.npz"),
    "weight file with Python objects": ({"g.json": OK, "w.npz": lambda p: np.savez(
        p, **{"dense/W": np.array([None, {}], dtype=object)})},
        ["evaluate", "g.json", "--weights", "w.npz"], 1, "Python objects"),
    "weights with NaN": ({"g.json": OK, "w.npz": weights_for_ok(
        **{"dense/b": np.array([0, np.nan, 0], np.float32)})},
        ["evaluate", "g.json", "--weights", "w.npz"], 1, "NaN"),
    "weights file missing": ({"g.json": OK}, ["evaluate", "g.json", "--weights", "none.npz"],
                             1, "none.npz: no such file"),
    "init weights of the wrong shape": ({"g.json": OK, "w.npz": weights_for_ok(
        **{"dense/W": np.zeros((4, 4), np.float32)})},
        ["train", "g.json", "--weights", "w.npz", "--out", "out"], 1, "w.npz"),
    # --- data ---
    "CSV with text in it": ({"g.json": OK, "d.csv": "1,2,3,4,0\n1,2,x3,4,1\n"},
                            ["train", "g.json", "--dataset", "d.csv", "--out", "o"], 1,
                            "line 2, column 3"),
    "CSV with ragged rows": ({"g.json": OK, "d.csv": "1,2,3,4,0\n1,2,3,1\n"},
                             ["train", "g.json", "--dataset", "d.csv", "--out", "o"], 1,
                             "line 2 has 4 columns"),
    "CSV that does not fit the input": ({"g.json": OK, "d.csv": "1,2,0\n3,4,1\n" * 5},
                                        ["train", "g.json", "--dataset", "d.csv", "--out", "o"],
                                        1, "shape [4], received samples of shape [2]"),
    "labels beyond the outputs": ({"g.json": OK, "d.csv": "1,2,3,4,7\n1,2,3,4,1\n" * 5},
                                  ["train", "g.json", "--dataset", "d.csv", "--out", "o"], 1,
                                  "3 units"),
    "npz without labels": ({"g.json": OK, "d.npz": {"x": np.zeros((4, 4))}},
                           ["train", "g.json", "--dataset", "d.npz", "--out", "o"], 1,
                           "no array 'y'"),
    "IDX file cut short": ({"g.json": OK, "train-images-idx3-ubyte": b"\0\0\x08\x03\0\0\0\x09",
                            "train-labels-idx1-ubyte": b"\0\0\x08\x01\0\0\0\x09"},
                           ["train", "g.json", "--dataset", "train-images-idx3-ubyte",
                            "--out", "o"], 1, "cut short"),
    "image folder for a flat input": ({"g.json": OK, "imgs/readme.txt": "hi"},
                                      ["train", "g.json", "--dataset", "imgs", "--out", "o"], 1,
                                      "the Input 'input' has shape [4]"),
    "image folder without class folders": ({"g.json": graph(nodes=[
        node("input", "Input", shape=[1, 4, 4]), node("f", "Flatten")],
        edges=chain("input", "f")), "imgs/readme.txt": "hi"},
        ["train", "g.json", "--dataset", "imgs", "--out", "o"], 1, "no class sub-folders"),
    "unknown data set": ({"g.json": OK}, ["train", "g.json", "--dataset", "mnist", "--out",
                                          "o"], 1, "unknown data set 'mnist'"),
    "data file missing": ({"g.json": OK, "w.npz": weights_for_ok()},
                          ["evaluate", "g.json", "--dataset", "x/d.csv", "--weights", "w.npz"],
                          1, "x/d.csv: no such file"),
    "--out is a file": ({"g.json": OK, "out": "x"}, ["train", "g.json", "--out", "out"], 1,
                        "out: is a file"),
    # --- predict inputs ---
    "predict input of the wrong shape": ({"g.json": OK, "w.npz": weights_for_ok(),
                                          "x.npy": lambda p: np.save(p, np.zeros((2, 5)))},
                                         ["predict", "g.json", "--weights", "w.npz", "--input",
                                          "x.npy", "--output", "y.npy"], 1,
                                         "shape [4], received samples of shape [5]"),
    "predict input is text": ({"g.json": OK, "w.npz": weights_for_ok(), "x.npy": "1,2,3,4"},
                              ["predict", "g.json", "--weights", "w.npz", "--input", "x.npy",
                               "--output", "y.npy"], 1, "not a .npy or .npz"),
    "predict npz without the input id": ({"g.json": OK, "w.npz": weights_for_ok(),
                                          "x.npz": {"a": np.zeros((1, 4)),
                                                    "b": np.zeros((1, 4))}},
                                         ["predict", "g.json", "--weights", "w.npz", "--input",
                                          "x.npz", "--output", "y.npy"], 1, "input"),
    "predict output into a missing folder": ({"g.json": OK, "w.npz": weights_for_ok(),
                                              "x.npy": lambda p: np.save(p, np.zeros((2, 4)))},
                                             ["predict", "g.json", "--weights", "w.npz",
                                              "--input", "x.npy", "--output", "no/dir/y.npy"],
                                             1, "no/dir/y.npy"),
    # --- hostile files: each costs no more than its size (budgets made small by the case) ---
    "graph file that is /dev/zero": ({}, ["validate", "/dev/zero"], 1, "too big",
                                     {"NNENGINE_MAX_GRAPH_BYTES": "4096"}),
    "data file over the byte budget": ({"g.json": OK, "d.csv": "1,2,3,4,0\n" * 400},
                                       ["train", "g.json", "--dataset", "d.csv", "--out", "o"],
                                       1, "too big for a data file",
                                       {"NNENGINE_MAX_FILE_BYTES": "1000"}),
    "gzip bomb": ({"g.json": OK, "d.csv.gz": lambda p: _gzip(p, b"0" * 10**6)},
                  ["train", "g.json", "--dataset", "d.csv.gz", "--out", "o"], 1,
                  "inflates to more than 9.8 KiB", {"NNENGINE_MAX_INFLATED_BYTES": "10000"}),
    "label of 50,000,000 in a CSV": ({"g.json": OK, "d.csv": "1,2,3,4,0\n1,2,3,4,50000000\n"
                                      "1,2,3,4,1\n"},
                                     ["train", "g.json", "--dataset", "d.csv", "--out", "o"], 1,
                                     "50,000,001 classes, too big"),
    "label of 2,000,000,000 in a CSV": ({"g.json": OK, "d.csv": "1,2,3,4,2000000000\n"},
                                        ["train", "g.json", "--dataset", "d.csv", "--out", "o"],
                                        1, "limit is 100,000 classes"),
    "classes over a small budget": ({"g.json": OK, "d.csv": "1,2,3,4,0\n1,2,3,4,12\n"},
                                    ["train", "g.json", "--dataset", "d.csv", "--out", "o"], 1,
                                    "13 classes", {"NNENGINE_MAX_CLASSES": "10"}),
    "huge label in an npz": ({"g.json": OK, "d.npz": {"x": np.zeros((3, 4)),
                                                      "y": np.array([0, 1, 2**40])}},
                             ["train", "g.json", "--dataset", "d.npz", "--out", "o"], 1,
                             "classes, too big"),
    "huge label in an npz test split": ({"g.json": OK, "d.npz": {
        "x": np.zeros((3, 4)), "y": np.array([0, 1, 2]), "x_test": np.zeros((1, 4)),
        "y_test": np.array([10**9])}}, ["train", "g.json", "--dataset", "d.npz", "--out", "o"],
        1, "classes, too big"),
    "huge label in IDX": ({"g.json": graph(nodes=[node("input", "Input", shape=[2, 2]),
                                                  node("f", "Flatten")],
                                           edges=chain("input", "f")),
                           "train-images-idx3-ubyte": _idx(np.zeros((2, 2, 2), np.uint8)),
                           "train-labels-idx1-ubyte": _idx(np.array([0, 2**30], ">i4"))},
                          ["train", "g.json", "--dataset", "train-images-idx3-ubyte", "--out",
                           "o"], 1, "classes, too big"),
    "IDX header declaring a huge array": ({"g.json": OK, "train-images-idx3-ubyte":
                                           b"\0\0\x08\x03" + np.array([60000, 50000, 50000],
                                                                       ">u4").tobytes(),
                                           "train-labels-idx1-ubyte": b"\0\0\x08\x01\0\0\0\0"},
                                          ["train", "g.json", "--dataset",
                                           "train-images-idx3-ubyte", "--out", "o"], 1,
                                          "elements, too big"),
    "npz member inflating past the budget": ({"g.json": OK, "d.npz": lambda p: np.savez_compressed(
        p, x=np.zeros((5000, 4)), y=np.zeros(5000))},
        ["train", "g.json", "--dataset", "d.npz", "--out", "o"], 1, "d.npz/x.npy: inflates to",
        {"NNENGINE_MAX_INFLATED_BYTES": "50000"}),
    "npz array over the element budget": ({"g.json": OK, "d.npz": {"x": np.zeros((300, 4)),
                                                                    "y": np.zeros(300)}},
                                          ["train", "g.json", "--dataset", "d.npz", "--out",
                                           "o"], 1, "d.npz/x: its header declares shape [300, 4]",
                                          {"NNENGINE_MAX_ARRAY_ELEMENTS": "1000"}),
    "npy header declaring 10**12 elements": ({"g.json": OK, "w.npz": weights_for_ok(),
                                              "x.npy": lambda p: _lying_npy(p, (10**12,))},
                                             ["predict", "g.json", "--weights", "w.npz",
                                              "--input", "x.npy", "--output", "y.npy"], 1,
                                             "1,000,000,000,000 elements"),
    "npy header larger than its data": ({"g.json": OK, "w.npz": weights_for_ok(),
                                         "x.npy": lambda p: _lying_npy(p, (1000, 4))},
                                        ["predict", "g.json", "--weights", "w.npz", "--input",
                                         "x.npy", "--output", "y.npy"], 1, "cut short"),
    "weight array declared 4 GiB in 4 KB": ({"g.json": OK, "w.npz": lambda p: _lying_npz(
        p, "dense/W", (2**30,))}, ["evaluate", "g.json", "--weights", "w.npz"], 1,
        "w.npz/dense/W: its header declares shape [1073741824] (1,073,741,824 elements)"),
    "weight member inflating past the budget": ({"g.json": OK, "w.npz": lambda p:
                                                 np.savez_compressed(p, **weights_for_ok(**{
                                                     "dense/W": np.zeros((4, 3000), "f4")}))},
                                                ["evaluate", "g.json", "--weights", "w.npz"],
                                                1, "w.npz/dense/W.npy: inflates to",
                                                {"NNENGINE_MAX_INFLATED_BYTES": "20000"}),
    "bundle whose metrics.json inflates past the budget": ({"m.zip": lambda p: _bundle(
        p, metrics=b" " * 200_000)}, ["evaluate", "m.zip", "--dataset", "iris"], 1,
        "m.zip/metrics.json: inflates to 195.3 KiB", {"NNENGINE_MAX_GRAPH_BYTES": "100000"}),
    "bundle members inflating past the budget together": ({"m.zip": lambda p: _bundle(
        p, metrics=b" " * 30_000)}, ["evaluate", "m.zip", "--dataset", "iris"], 1,
        "m.zip: its members inflate to", {"NNENGINE_MAX_INFLATED_BYTES": "30500"}),
    "image over the pixel budget": ({"g.json": graph(nodes=[
        node("input", "Input", shape=[1, 4, 4]), node("f", "Flatten")],
        edges=chain("input", "f")), "imgs/a/big.png": lambda p: _png(p, 64, 64),
        "imgs/b/small.png": lambda p: _png(p, 4, 4)},
        ["train", "g.json", "--dataset", "imgs", "--out", "o"], 1,
        "big.png: is 64 x 64 pixels, too big for an image (the limit is 1,000 pixels",
        {"NNENGINE_MAX_IMAGE_PIXELS": "1000"}),
    "images resized past the element budget": ({"g.json": graph(nodes=[
        node("input", "Input", shape=[3, 64, 64]), node("f", "Flatten")],
        edges=chain("input", "f")), "imgs/a/x.png": lambda p: _png(p, 4, 4),
        "imgs/b/y.png": lambda p: _png(p, 4, 4)},
        ["train", "g.json", "--dataset", "imgs", "--out", "o"], 1, "would hold 24,576 elements",
        {"NNENGINE_MAX_ARRAY_ELEMENTS": "10000"}),
    "CSV value beyond float32": ({"g.json": OK, "d.csv": "1,2,3,4,0\n1,2,1e39,4,1\n"},
                                 ["train", "g.json", "--dataset", "d.csv", "--out", "o"], 1,
                                 "line 2, column 3: 1e+39 is beyond the range of float32"),
    "npz values beyond float32": ({"g.json": OK, "d.npz": {"x": np.full((3, 4), 1e300),
                                                           "y": np.zeros(3)}},
                                  ["train", "g.json", "--dataset", "d.npz", "--out", "o"], 1,
                                  "'x' holds values beyond the range of float32"),
    "float labels with cross_entropy": ({"g.json": OK, "d.csv": "1,2,3,4,0.5\n1,2,3,4,1.25\n"
                                         * 5}, ["train", "g.json", "--dataset", "d.csv", "--out",
                                                "o"], 1, "numbers such as"),
    # --- weights against the graph: standardisation statistics ---
    "standardize graph, weights without statistics": ({"g.json": STANDARDIZED,
                                                       "w.npz": weights_for_ok()},
                                                      ["evaluate", "g.json", "--weights",
                                                       "w.npz"], 1, "no 'input/mean'"),
    "standardize graph, weights without std": ({"g.json": STANDARDIZED, "w.npz": weights_for_ok(
        **{"input/mean": np.zeros(4, np.float32)})},
        ["predict", "g.json", "--weights", "w.npz", "--input", "x.npy", "--output", "y.npy"], 1,
        "no 'input/std'"),
    "std of zero": ({"g.json": STANDARDIZED, "w.npz": weights_for_ok(**{
        "input/mean": np.zeros(4, np.float32), "input/std": np.zeros(4, np.float32)})},
        ["evaluate", "g.json", "--weights", "w.npz"], 1, "'input/std' holds values of 0 or less"),
    "negative std": ({"g.json": OK, "w.npz": weights_for_ok(**{
        "input/mean": np.zeros(4, np.float32), "input/std": -np.ones(4, np.float32)})},
        ["evaluate", "g.json", "--weights", "w.npz"], 1, "'input/std' holds values of 0 or less"),
    "infinite mean": ({"g.json": STANDARDIZED, "w.npz": weights_for_ok(**{
        "input/mean": np.full(4, np.inf, np.float32), "input/std": np.ones(4, np.float32)})},
        ["evaluate", "g.json", "--weights", "w.npz"], 1, "'input/mean' contains NaN"),
    # --- outputs ---
    "predict output over its input": ({"g.json": OK, "w.npz": weights_for_ok(),
                                       "x.npy": lambda p: np.save(p, np.zeros((2, 4)))},
                                      ["predict", "g.json", "--weights", "w.npz", "--input",
                                       "x.npy", "--output", "./x.npy"], 2, "is also the input"),
    "predict output over the weights": ({"g.json": OK, "w.npz": weights_for_ok(),
                                         "x.npy": lambda p: np.save(p, np.zeros((2, 4)))},
                                        ["predict", "g.json", "--weights", "w.npz", "--input",
                                         "x.npy", "--output", "w.npz"], 2, "is also the weights"),
    "--out under a file": ({"g.json": OK}, ["train", "g.json", "--out", "g.json/run"], 1,
                           "g.json/run: cannot be written"),
    "--out holding a user's file": ({"g.json": OK, "o/notes.txt": "mine"},
                                    ["train", "g.json", "--out", "o"], 1,
                                    "holds 'notes.txt', which is not a run's file"),
    "--out is the current folder": ({"g.json": OK}, ["train", "g.json", "--out", "."], 1,
                                    "is the current folder"),
    # --- usage ---
    "no command": ({}, [], 2, "required"),
    "unknown command": ({}, ["fly"], 2, "invalid choice"),
    "train without --out": ({"g.json": OK}, ["train", "g.json"], 2, "--out"),
    "epochs not a number": ({"g.json": OK}, ["train", "g.json", "--epochs", "ten", "--out",
                                             "o"], 2, "whole number"),
    "negative learning rate": ({"g.json": OK}, ["train", "g.json", "--lr", "-1", "--out", "o"],
                               2, "greater than 0"),
    "unknown optimizer option": ({"g.json": OK}, ["train", "g.json", "--optimizer", "lbfgs",
                                                  "--out", "o"], 2, "invalid choice"),
    "unknown export format": ({"g.json": OK}, ["export", "g.json", "--weights", "w.npz",
                                               "--format", "tflite", "--output", "m"], 2,
                              "invalid choice"),
    "no data set anywhere": ({"g.json": graph()}, ["train", "g.json", "--out", "o"], 2,
                             "no data set"),
    "evaluate without weights": ({"g.json": OK}, ["evaluate", "g.json"], 2, "--weights"),
}


def _sparse_file(path, size):
    """A file of `size` bytes that takes no disk space and no time to write."""
    with open(path, "wb") as f:
        f.truncate(size)


def _truncated_npz(path):
    np.savez(path, **weights_for_ok())
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[:len(data) // 2])


def _write(folder: Path, files: dict) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(str(path))
        elif isinstance(content, dict):
            with open(path, "wb") as f:
                np.savez(f, **content)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Run every case once, concurrently; name -> CompletedProcess."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("NNENGINE_DEBUG", None)

    def run(item):
        name, (files, argv, _, _, *budgets) = item
        folder = tmp_path_factory.mktemp("case")
        _write(folder, files)
        if "x.npy" in argv and "x.npy" not in files:
            np.save(folder / "x.npy", np.zeros((2, 4), np.float32))
        return name, subprocess.run([sys.executable, "-m", "nnengine", *argv], cwd=folder,
                                    env={**env, **(budgets[0] if budgets else {})},
                                    capture_output=True, text=True, timeout=120, check=False)

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) + 2) as pool:
        return dict(pool.map(run, CASES.items()))


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_input_gives_one_line_and_exit_status(results, name):
    _, _, status, phrase, *_ = CASES[name]
    done = results[name]
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
    assert done.returncode == status, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("nnengine"), lines[0]
    assert phrase in lines[0], lines[0]
    assert len(lines[0]) < 400, lines[0]
