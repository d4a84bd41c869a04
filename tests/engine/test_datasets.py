"""Data sets: every built-in set, the shipped digits and iris, and each file loader on real
files written here (.csv, .npz, IDX, image folders), with their errors."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

import nnengine as nn
from nnengine.datasets import BUILTIN, load_dataset
from tests.engine.builders import sequential


@pytest.mark.parametrize("name", list(BUILTIN))
def test_every_builtin_set_loads_with_a_fixed_split(name):
    d = load_dataset(name)
    again = load_dataset(name)
    xs = d.x_train if isinstance(d.x_train, list) else [d.x_train]
    assert all(len(x) == len(d.y_train) > 0 for x in xs)
    assert len(d.y_test) > 0
    np.testing.assert_array_equal(d.y_test, again.y_test)
    if d.is_classification:
        assert d.y_train.dtype == np.int64
        assert set(np.unique(d.y_train)) <= set(range(d.num_classes))
        assert len(d.class_names) == d.num_classes


def test_shipped_digits():
    d = load_dataset("digits")
    assert len(d.y_train) + len(d.y_test) == 1797
    assert d.x_train.shape[1:] == (64,) and d.x_train.dtype == np.float32
    assert 0.0 <= d.x_train.min() and d.x_train.max() == 1.0  # pixels 0..16 scaled
    assert d.num_classes == 10 and d.class_names == [str(i) for i in range(10)]
    assert set(d.y_test) == set(range(10))
    model = nn.compile_model(sequential([1, 8, 8], [("Flatten", {})]))
    assert model.as_inputs(d.x_test[:2])[0].shape == (2, 1, 8, 8)  # fits [64] and [1, 8, 8]


def test_shifted_digits_are_the_digits_moved_within_a_larger_frame():
    plain, moved = load_dataset("digits"), load_dataset("digits(shift=2)")
    assert moved.x_train.shape == (len(plain.y_train), 144)
    np.testing.assert_array_equal(moved.y_test, plain.y_test)
    frames, digits = moved.x_test.reshape(-1, 12, 12), plain.x_test.reshape(-1, 8, 8)
    found = set()
    for frame, digit in zip(frames[:60], digits[:60]):
        spots = [(r, c) for r in range(5) for c in range(5)
                 if np.array_equal(frame[r:r + 8, c:c + 8], digit)
                 and frame.sum() == digit.sum()]   # the digit, and nothing else
        assert spots
        found.update(spots)
    assert len(found) > 10   # at many different places
    np.testing.assert_array_equal(load_dataset("digits(shift=2)").x_train, moved.x_train)
    with pytest.raises(nn.DatasetError, match="shift must be a whole number of pixels"):
        load_dataset("digits(shift=1.5)")


def test_noise_settings_of_moons_and_recall():
    assert np.array_equal(load_dataset("moons(noise=0.1)").x_test, load_dataset("moons").x_test)
    clean, noisy = load_dataset("moons(noise=0.0)"), load_dataset("moons(noise=0.35)")
    np.testing.assert_array_equal(clean.y_train, noisy.y_train)
    assert 0.2 < np.std(noisy.x_train - clean.x_train) < 0.5
    recall = load_dataset("recall(noise=1.0)").x_train
    assert recall[:, 0, 1].tolist() == [1.0] * len(recall) and not recall[:, 1:, 1].any()
    assert 0.9 < recall[:, 1:, 0].std() < 1.1
    assert 3.8 < load_dataset("recall").x_train[:, 1:, 0].std() < 4.2


def test_shipped_iris():
    d = load_dataset("iris")
    assert len(d.y_train) + len(d.y_test) == 150
    assert d.x_train.shape[1:] == (4,)
    assert d.class_names == ["setosa", "versicolor", "virginica"]
    assert np.bincount(d.y_test).tolist() == [10, 10, 10]  # stratified


def test_sequences_need_memory_over_time():
    d = load_dataset("sequences")
    assert d.x_train.shape[1:] == (20, 1)
    np.testing.assert_array_equal(d.y_train, d.x_train.sum(axis=(1, 2)) > 0)
    assert 0.4 < d.y_train.mean() < 0.6


@pytest.mark.slow
def test_sequences_are_learnable_by_a_small_lstm():
    g = sequential([20, 1], [("LSTM", {"units": 8}), ("Dense", {"units": 2}),
                             ("Activation", {"function": "softmax"})])
    model = nn.compile_model(g, seed=0)
    cfg = nn.TrainingConfig(epochs=8, batch_size=32, validation_split=0.0,
                            optimizer={"type": "adam", "learning_rate": 0.01})
    trainer = nn.Trainer(model, load_dataset("sequences"), cfg)
    trainer.fit()
    assert trainer.evaluate_test()["accuracy"] > 0.85


# --- CSV ---------------------------------------------------------------------------------

def test_csv_with_header_and_numeric_labels(tmp_path):
    path = tmp_path / "data.csv"
    rows = "\n".join(f"{i * 0.1},{i % 3 * 1.5},{i % 3}" for i in range(50))
    path.write_text("a,b,label\n" + rows + "\n")
    d = load_dataset(str(path))
    assert d.x_train.shape == (40, 2) and len(d.y_test) == 10
    assert d.task == "classification" and d.num_classes == 3
    assert d.source == str(path)
    again = load_dataset(str(path))
    np.testing.assert_array_equal(d.x_test, again.x_test)  # the fixed seeded split


def test_csv_regression_semicolons_and_word_labels(tmp_path):
    reg = tmp_path / "reg.csv"
    reg.write_text("\n".join(f"{i};{i * 0.37}" for i in range(20)))
    d = load_dataset(str(reg))
    assert d.task == "regression" and d.y_train.dtype == np.float32
    words = tmp_path / "flowers.csv"
    words.write_text("5.1,3.5,setosa\n6.2,2.9,versicolor\n5.0,3.4,setosa\n6.9,3.1,virginica\n"
                     "5.9,3.0,versicolor\n")
    d = load_dataset(str(words))
    assert d.class_names == ["setosa", "versicolor", "virginica"]
    assert sorted(np.concatenate([d.y_train, d.y_test]).tolist()) == [0, 0, 1, 1, 2]


@pytest.mark.parametrize("text, match", [
    ("1,2,0\n3,abc,1\n", r"line 2, column 2: 'abc' is not a number"),
    ("x,y\n1,2\n\n3,4,5\n", r"line 4 has 3 columns, but line 2 has 2"),
    ("1,2,0\n1,nan,1\n", r"line 2, column 2: nan is not a finite number"),
    ("1,2,0\n1,2,cat\n", r"line 2, column 3: labels must be all numbers or all words"),
    ("", r"has no data rows"),
    ("a,b,c\n", r"has a header row but no data rows"),
    ("1\n2\n", r"line 1 has one column"),
])
def test_csv_errors_name_line_and_column(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(nn.DatasetError, match=match) as info:
        load_dataset(str(path))
    assert str(info.value).startswith(str(path))


# --- NPZ ---------------------------------------------------------------------------------

def test_npz_with_and_without_test_split(tmp_path):
    x = np.arange(60, dtype=np.float32).reshape(20, 3)
    y = np.arange(20) % 2
    np.savez(tmp_path / "a.npz", x=x, y=y)
    d = load_dataset(str(tmp_path / "a.npz"))
    assert d.x_train.shape == (16, 3) and d.x_test.shape == (4, 3)
    np.savez(tmp_path / "b.npz", x=x, y=y, x_test=x[:5], y_test=y[:5],
             class_names=np.array(["even", "odd"]))
    d = load_dataset(str(tmp_path / "b.npz"))
    assert len(d.y_train) == 20 and len(d.y_test) == 5 and d.class_names == ["even", "odd"]


def test_npz_with_one_array_per_input(tmp_path):
    a, b = np.zeros((10, 2)), np.ones((10, 3))
    np.savez(tmp_path / "two.npz", x_left=a, x_right=b, y=np.arange(10) % 2,
             x_test_left=a[:3], x_test_right=b[:3], y_test=np.zeros(3))
    d = load_dataset(str(tmp_path / "two.npz"), {"left": (2,), "right": (3,)})
    assert set(d.x_train) == {"left", "right"} and d.x_test["right"].shape == (3, 3)
    g = nn.Graph()
    g.add_node("left", "Input", {"shape": [2]})
    g.add_node("right", "Input", {"shape": [3]})
    g.add_node("cat", "Concatenate")
    g.add_edge("left", "cat", 0)
    g.add_edge("right", "cat", 1)
    model = nn.compile_model(g)
    assert model.predict(d.x_test).shape == (3, 5)


@pytest.mark.parametrize("arrays, match", [
    ({"x": np.zeros((3, 2))}, r"has no array 'y'"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(4)}, r"'x' has 3 samples but 'y' has 4"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(3), "y_tset": np.zeros(3)},
     r"unexpected array 'y_tset'"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(3), "x_test": np.zeros((1, 2))},
     r"has 'x_test' but no 'y_test'"),
    ({"x": np.array(["a", "b"]), "y": np.zeros(2)}, r"'x' must be an array of numbers"),
])
def test_npz_errors(tmp_path, arrays, match):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(nn.DatasetError, match=match):
        load_dataset(str(tmp_path / "bad.npz"))


def test_npz_that_is_not_a_zip(tmp_path):
    (tmp_path / "fake.npz").write_text("x,y\n")
    with pytest.raises(nn.DatasetError, match="not a zip archive"):
        load_dataset(str(tmp_path / "fake.npz"))


# --- IDX ---------------------------------------------------------------------------------

def write_idx(path, array, gz=False):
    codes = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}
    dtype = np.dtype(array.dtype).newbyteorder(">")
    header = struct.pack(">BBBB", 0, 0, codes[array.dtype.type], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(dtype).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def test_idx_train_and_t10k_files(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 4, 5), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", (np.arange(12) % 3).astype(np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images[:5])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(5, dtype=np.uint8) % 3)
    d = load_dataset(str(tmp_path / "train-images-idx3-ubyte"))
    assert d.x_train.shape == (12, 4, 5) and d.x_test.shape == (5, 4, 5)
    np.testing.assert_allclose(d.x_train, images / 255.0, rtol=1e-6)
    assert d.num_classes == 3 and d.y_train.dtype == np.int64
    same = load_dataset(str(tmp_path))  # the folder holding the IDX files
    np.testing.assert_array_equal(same.x_test, d.x_test)


def test_idx_gzipped_without_test_files_gets_a_seeded_split(tmp_path):
    write_idx(tmp_path / "digits-images-idx3-ubyte.gz", np.zeros((10, 2, 2), np.uint8), gz=True)
    write_idx(tmp_path / "digits-labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8), gz=True)
    d = load_dataset(str(tmp_path / "digits-images-idx3-ubyte.gz"))
    assert len(d.y_train) == 8 and len(d.y_test) == 2


@pytest.mark.parametrize("case, match", [
    ("truncated", r"header says shape \[10, 2, 2\] \(40 bytes of data\), but the file holds 39"),
    ("no labels", r"found no labels file beside it \(looked for x-labels-idx1-ubyte\)"),
    ("count", r"has 9 labels for the 10 images"),
    ("magic", r"is not an IDX file"),
])
def test_idx_errors(tmp_path, case, match):
    images = tmp_path / "x-images-idx3-ubyte"
    write_idx(images, np.zeros((10, 2, 2), np.uint8))
    if case != "no labels":
        write_idx(tmp_path / "x-labels-idx1-ubyte",
                  np.zeros(9 if case == "count" else 10, np.uint8))
    if case == "truncated":
        images.write_bytes(images.read_bytes()[:-1])
    if case == "magic":
        images.write_bytes(b"\x01\x02" + images.read_bytes()[2:])
    with pytest.raises(nn.DatasetError, match=match):
        load_dataset(str(images))


# --- image folders -------------------------------------------------------------------------

def make_images(root, classes=("cats", "dogs"), count=5, size=(12, 10)):
    from PIL import Image

    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(count):
            colour = (40 * c + 10 * i, 200 - 30 * c, 90)
            Image.new("RGB", size, colour).save(root / name / f"{i}.png")
    (root / "cats" / "notes.txt").write_text("not an image")


def test_image_folder_rgb_resized_to_the_input(tmp_path):
    make_images(tmp_path / "pets")
    d = load_dataset(str(tmp_path / "pets"), {"image": (3, 8, 6)})
    assert d.x_train.shape == (8, 3, 8, 6) and d.x_test.shape == (2, 3, 8, 6)
    assert d.class_names == ["cats", "dogs"] and d.num_classes == 2
    assert d.x_train.dtype == np.float32 and 0 <= d.x_train.min() and d.x_train.max() <= 1
    red = np.concatenate([d.x_train, d.x_test])[:, 0, 0, 0]
    assert np.isclose(red.max(), (40 + 40) / 255, atol=1e-6)


def test_image_folder_grey_and_train_test_layout(tmp_path):
    make_images(tmp_path / "set" / "train")
    make_images(tmp_path / "set" / "test", count=2)
    d = load_dataset(str(tmp_path / "set"), {"image": (1, 4, 4)})
    assert d.x_train.shape == (10, 1, 4, 4) and d.x_test.shape == (4, 1, 4, 4)
    flat = load_dataset(str(tmp_path / "set"), {"image": (4, 4)})
    assert flat.x_train.shape == (10, 4, 4)


@pytest.mark.parametrize("case, match", [
    ("no shape", r"needs the graph's Input shape"),
    ("bad shape", r"Input 'image' has shape \[64\]"),
    ("empty class", r"class folder 'birds' has no images"),
    ("broken image", r"0\.png: cannot be read as an image"),
    ("no classes", r"has no class sub-folders"),
])
def test_image_folder_errors(tmp_path, case, match):
    root = tmp_path / "pets"
    if case == "no classes":
        root.mkdir()
    else:
        make_images(root)
    shapes = {"image": (3, 8, 8)}
    if case == "no shape":
        shapes = None
    elif case == "bad shape":
        shapes = {"image": (64,)}
    elif case == "empty class":
        (root / "birds").mkdir()
    elif case == "broken image":
        (root / "dogs" / "0.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(nn.DatasetError, match=match):
        load_dataset(str(root), shapes)


def test_unknown_names_and_missing_paths():
    with pytest.raises(nn.DatasetError, match=r"unknown data set 'mnistt' \(built in: xor"):
        load_dataset("mnistt")
    with pytest.raises(nn.DatasetError, match=r"no/such\.csv: no such file or folder"):
        load_dataset("no/such.csv")


def test_samples_are_reshaped_or_the_error_says_both_shapes():
    d = load_dataset("digits")
    model = nn.compile_model(sequential([8, 8], [("Flatten", {})]))
    assert model.as_inputs(d.x_test)[0].shape == (len(d.y_test), 8, 8)
    wrong = nn.compile_model(sequential([5, 5], [("Flatten", {})]))
    with pytest.raises(nn.DatasetError, match=r"shape \[5, 5\], received samples of shape "
                                              r"\[64\]"):
        wrong.as_inputs(d.x_test)
