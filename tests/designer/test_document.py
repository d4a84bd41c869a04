"""GraphDocument and its undo commands, without any window: every kind of edit undoes back
to the identical graph (to_dict equality, node and edge order included) and redoes to the
identical result; refusals leave the graph and the undo stack alone."""
from __future__ import annotations

import pytest

import nnengine as nn
from designer.document import GraphDocument
from designer.repairs import repairs_for, repairs_for_node

from .conftest import big_chain, chain


def undo_redo_round_trip(doc: GraphDocument, edit) -> dict:
    """Run `edit`, check it made exactly one undo step, undo it back to the identical graph,
    redo it to the identical result; returns the graph after the edit."""
    before = doc.graph.to_dict()
    steps = doc.undo_stack.count()
    result = edit()
    assert result not in (False, None, []), doc.last_error
    after = doc.graph.to_dict()
    assert after != before
    assert doc.undo_stack.count() == steps + 1
    doc.undo_stack.undo()
    assert doc.graph.to_dict() == before
    doc.undo_stack.redo()
    assert doc.graph.to_dict() == after
    return after


def branched_graph() -> nn.Graph:
    """input feeds dense1 and side; dense1 and side are concatenated (edge order matters)."""
    g = chain("branched", [("input", "Input", {"shape": [4]}),
                           ("dense1", "Dense", {"units": 8})])
    g.add_node("side", "Dense", {"units": 2})
    g.add_node("cat", "Concatenate", {})
    g.add_node("out", "Dense", {"units": 3})
    g.add_edge("input", "side")
    g.add_edge("dense1", "cat", 0)
    g.add_edge("side", "cat", 1)
    g.add_edge("cat", "out")
    return g


# --- undo/redo of each kind of edit -------------------------------------------------------------
def test_add_node(document):
    after = undo_redo_round_trip(document, lambda: document.add_node("Dense", (300, 40)))
    added = after["nodes"][-1]
    assert added["type"] == "Dense" and added["position"] == [300.0, 40.0]
    assert added["params"]["units"] >= 1  # a starting value for the required parameter
    assert document.undo_stack.undoText() == "Add Dense"


def test_add_node_connected_in_one_step(document):
    after = undo_redo_round_trip(
        document, lambda: document.add_node("Dropout", connect_from="relu1"))
    assert {"source": "relu1", "target": "dropout1"} in after["edges"]


def test_delete_middle_node_restores_order(make_document):
    doc = make_document(branched_graph())
    undo_redo_round_trip(doc, lambda: doc.remove_items(["dense1"]))
    assert doc.undo_stack.undoText() == "Delete dense1"


def test_delete_nodes_and_edges(make_document):
    doc = make_document(branched_graph())
    after = undo_redo_round_trip(doc, lambda: doc.remove_items(["side"], [("cat", "out")]))
    assert {"source": "cat", "target": "out"} not in after["edges"]


def test_move(document):
    undo_redo_round_trip(document, lambda: document.move_nodes({"dense1": (100, 220)}))
    assert document.position("dense1") == (100.0, 220.0)
    assert document.undo_stack.undoText() == "Move dense1"


def test_separate_moves_are_separate_steps_and_merged_moves_one(document):
    start = document.position("dense1")
    document.move_nodes({"dense1": (20, 20)})
    document.move_nodes({"dense1": (40, 20)})
    assert document.undo_stack.count() == 2
    document.move_nodes({"dense1": (60, 20)}, merge=True)
    document.move_nodes({"dense1": (80, 20)}, merge=True)
    assert document.undo_stack.count() == 3
    document.undo_stack.undo()
    assert document.position("dense1") == (40.0, 20.0)
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.position("dense1") == start


def test_connect(document):
    document.add_node("Dense", (0, 300), {"units": 2})
    document.disconnect("dense2", "out")
    after = undo_redo_round_trip(document, lambda: document.connect("dense1", "out"))
    assert {"source": "dense1", "target": "out"} in after["edges"]
    assert document.undo_stack.undoText() == "Connect dense1 → out"


def test_disconnect_restores_edge_order(make_document):
    doc = make_document(branched_graph())
    # input has two successors: re-adding input -> dense1 must not move it after input -> side
    undo_redo_round_trip(doc, lambda: doc.disconnect("input", "dense1"))
    undo_redo_round_trip(doc, lambda: doc.disconnect("dense1", "cat"))


def test_set_param(document):
    undo_redo_round_trip(document, lambda: document.set_param("dense1", "units", 16))
    assert document.undo_stack.undoText() == "Change units of dense1"
    assert document.analysis.shapes["dense1"] == (16,)


def test_rename(make_document):
    doc = make_document(branched_graph())
    after = undo_redo_round_trip(doc, lambda: doc.rename("dense1", "hidden"))
    assert [n["id"] for n in after["nodes"]][:2] == ["input", "hidden"]
    assert doc.undo_stack.undoText() == "Rename dense1 to hidden"


def test_rename_refusals(document):
    assert not document.rename("dense1", "relu1")
    assert "already used" in document.last_error
    assert not document.rename("dense1", "2bad")
    assert "not a valid id" in document.last_error
    assert document.undo_stack.count() == 0


def test_paste(document):
    fragment = document.fragment(["dense1", "relu1"])
    assert fragment["edges"] == [{"source": "dense1", "target": "relu1", "target_port": 0}]
    new_ids: list[str] = []

    def paste():
        new_ids[:] = document.paste(fragment, (40, 40))
        return new_ids

    after = undo_redo_round_trip(document, paste)
    assert len(new_ids) == 2 and not set(new_ids) & {"dense1", "relu1"}
    assert {"source": new_ids[0], "target": new_ids[1]} in after["edges"]
    assert document.graph.params_of(new_ids[0]) == {"units": 8}
    x, y = document.position("dense1")
    assert document.position(new_ids[0]) == (x + 40, y + 40)


def test_paste_of_a_cut_keeps_free_ids(document):
    fragment = document.fragment(["dense2"])
    document.remove_items(["dense2"])
    assert document.paste(fragment, (0, 0)) == ["dense2"]


def test_paste_refuses_garbage(document):
    assert document.paste({"nodes": [{"no": "type"}]}) == []
    assert document.undo_stack.count() == 0


def test_duplicate(document):
    after = undo_redo_round_trip(document, lambda: document.duplicate(["dense1", "relu1"]))
    assert len(after["nodes"]) == 7
    assert document.undo_stack.undoText() == "Duplicate 2 nodes"


def test_set_training(document):
    undo_redo_round_trip(document, lambda: document.set_training({"epochs": 3}))
    assert document.graph.training == {"epochs": 3}


# --- repairs ------------------------------------------------------------------------------------
def needs_flatten_graph() -> nn.Graph:
    return chain("flat", [("input", "Input", {"shape": [1, 8, 8]}),
                          ("dense1", "Dense", {"units": 10})])


def test_repair_inserts_flatten(make_document):
    doc = make_document(needs_flatten_graph())
    (problem,) = doc.analysis.problems
    assert problem.code == "needs_flatten"
    (repair,) = repairs_for(doc, problem)
    assert repair.description == ("Insert a Flatten between input and dense1: [1, 8, 8] "
                                  "becomes [64]")
    after = undo_redo_round_trip(doc, repair.apply)
    assert doc.analysis.ok
    assert {"source": "flatten1", "target": "dense1"} in after["edges"]
    assert doc.undo_stack.undoText() == repair.description


def test_repair_inserts_reshape_for_conv(make_document):
    doc = make_document(chain("conv", [("input", "Input", {"shape": [64]}),
                                       ("conv", "Conv2D", {"filters": 4, "kernel_size": 3})]))
    problem = next(p for p in doc.analysis.problems if p.code == "needs_reshape")
    (repair,) = repairs_for(doc, problem)
    assert "[64] becomes [1, 8, 8]" in repair.description
    undo_redo_round_trip(doc, repair.apply)
    assert doc.analysis.ok
    assert doc.graph.params_of("reshape1") == {"shape": [1, 8, 8]}


def test_repair_inserts_reshape_for_sequence(make_document):
    doc = make_document(chain("seq", [("input", "Input", {"shape": [12]}),
                                      ("rnn", "SimpleRNN", {"units": 4})]))
    problem = next(p for p in doc.analysis.problems if p.code == "needs_sequence")
    (repair,) = repairs_for(doc, problem)
    assert "[12] becomes [12, 1]" in repair.description
    undo_redo_round_trip(doc, repair.apply)
    assert doc.analysis.ok


def test_repair_adds_missing_input(make_document):
    g = chain("no input", [("dense1", "Dense", {"units": 4}),
                           ("out", "Activation", {"function": "sigmoid"})], {"dataset": "xor"})
    doc = make_document(g)
    before = doc.graph.to_dict()
    problem = next(p for p in doc.analysis.problems if p.code == "no_input")
    (repair,) = repairs_for(doc, problem)
    assert repair.description == "Add an Input of shape [2] feeding dense1"
    assert doc.apply_repair(problem)
    assert doc.analysis.ok
    assert doc.graph.inputs_of("dense1") == [(0, "input1")]
    doc.undo_stack.undo()
    assert doc.graph.to_dict() == before


def test_repair_connects_a_dropped_layer_to_the_current_output(make_document):
    doc = make_document(chain("mlp", [("input", "Input", {"shape": [4]}),
                                      ("dense1", "Dense", {"units": 3})]))
    node = doc.add_node("Activation", (600, 0), {"function": "softmax"})
    repairs = repairs_for_node(doc, node)
    assert repairs[0].description == f"Connect dense1 to {node}"
    undo_redo_round_trip(doc, repairs[0].apply)
    assert doc.analysis.ok and doc.analysis.output_id == node


def test_repair_removes_dangling_node_or_branch(make_document):
    g = chain("dangling", [("input", "Input", {"shape": [4]}), ("a", "Dense", {"units": 4}),
                           ("b", "Dense", {"units": 2})])
    g.add_node("side1", "Dense", {"units": 3})
    g.add_node("side2", "Activation", {"function": "relu"})
    g.add_edge("input", "side1")
    g.add_edge("side1", "side2")
    doc = make_document(g)
    problem = next(p for p in doc.analysis.problems if p.code == "dangling")
    assert problem.node_id == "side2"
    # removing side2 alone would leave side1 dangling: not fewer problems, so not offered
    (branch,) = repairs_for(doc, problem)
    assert "Remove side2 and the 1 node that only feed" in branch.description
    after = undo_redo_round_trip(doc, branch.apply)
    assert [n["id"] for n in after["nodes"]] == ["input", "a", "b"]
    assert doc.analysis.ok


def test_a_repair_that_moves_the_error_downstream_is_not_offered(make_document):
    """[8] reshaped to [2, 2, 2] satisfies the conv but the second pooling then fails."""
    g = chain("reshape downstream", [
        ("input", "Input", {"shape": [8]}), ("conv", "Conv2D", {"filters": 2, "kernel_size": 1}),
        ("pool1", "MaxPool2D", {}), ("pool2", "MaxPool2D", {}), ("flat", "Flatten", {}),
        ("dense", "Dense", {"units": 2})])
    doc = make_document(g)
    (problem,) = doc.analysis.problems
    assert problem.node_id == "conv"
    assert repairs_for(doc, problem) == []
    g.set_params("pool2", {"pool_size": 1})   # now [2, 2, 2] leads to a valid graph
    doc = make_document(g)
    (repair,) = repairs_for(doc, doc.analysis.problems[0])
    assert "[2, 2, 2]" in repair.description
    assert repair.apply() and doc.analysis.ok


def test_stale_repair_is_refused(make_document):
    doc = make_document(needs_flatten_graph())
    (repair,) = repairs_for(doc, doc.analysis.problems[0])
    doc.disconnect("input", "dense1")
    before = doc.graph.to_dict()
    assert not repair.apply()
    assert "changed" in doc.last_error
    assert doc.graph.to_dict() == before


def test_no_repair_for_unrepairable_problem(make_document):
    doc = make_document(chain("bad", [("input", "Input", {"shape": [4]}),
                                      ("dense1", "Dense", {"units": 0})]))
    (problem,) = doc.analysis.problems
    assert repairs_for(doc, problem) == []
    assert not doc.apply_repair(problem)


# --- refusals -----------------------------------------------------------------------------------
def cycle_graph() -> nn.Graph:
    """input -> cat (port 0) -> dense1; cat's port 1 is free."""
    g = chain("cycle", [("input", "Input", {"shape": [4]}), ("cat", "Concatenate", {}),
                        ("dense1", "Dense", {"units": 4})])
    return g


@pytest.mark.parametrize("source, target, port, reason", [
    ("dense1", "cat", 1, "cycle"),
    ("input", "dense1", 0, "already taken by cat"),
    ("dense1", "dense1", 0, "itself"),
    ("dense1", "input", 0, "Input node takes no incoming edges"),
    ("input", "cat", 1, "already feeds"),
])
def test_connect_refusals(make_document, source, target, port, reason):
    doc = make_document(cycle_graph())
    before = doc.graph.to_dict()
    assert not doc.connect(source, target, port)
    assert reason in doc.last_error
    assert doc.graph.to_dict() == before
    assert doc.undo_stack.count() == 0


def test_cycle_message_names_the_edge(make_document):
    doc = make_document(cycle_graph())
    doc.connect("dense1", "cat", 1)
    assert doc.last_error == "cannot connect dense1 → cat: it would form a cycle"


def test_locked_document_refuses_structural_edits(document):
    document.locked = True
    assert document.add_node("Dense", (0, 0)) is None
    assert not document.remove_items(["dense1"])
    assert not document.connect("relu1", "out")
    assert not document.set_param("dense1", "units", 3)
    assert "training" in document.last_error
    assert document.move_nodes({"dense1": (0, 500)})  # layout is not structure
    document.locked = False
    assert document.add_node("Dense", (0, 0)) == "dense3"


# --- clean / modified, files --------------------------------------------------------------------
def test_clean_and_modified_state(document, tmp_path):
    seen: list[bool] = []
    document.clean_changed.connect(seen.append)
    assert not document.is_modified and not document.title.endswith("*")
    document.set_param("dense1", "units", 5)
    assert document.is_modified and document.title.endswith("*")
    document.undo_stack.undo()
    assert not document.is_modified
    document.undo_stack.redo()
    document.save(tmp_path / "mlp.json")
    assert not document.is_modified
    assert document.title == "MLP — mlp.json"
    assert seen == [False, True, False, True]


def test_save_and_load_round_trip(document, tmp_path):
    path = tmp_path / "g.json"
    document.save(path)
    other = GraphDocument()
    resets: list[bool] = []
    other.graph_reset.connect(lambda: resets.append(True))
    other.load(path)
    assert other.graph.to_dict() == document.graph.to_dict()
    assert other.path == path and resets == [True] and other.undo_stack.count() == 0


def test_broken_file_keeps_current_graph(document, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{ not json")
    before = document.graph.to_dict()
    with pytest.raises(nn.NNEngineError):
        document.load(path)
    assert document.graph.to_dict() == before


def test_new_lays_out_nodes_without_positions(document):
    document.new(big_chain(7))
    xs = [document.position(n)[0] for n in document.graph.node_ids()]
    assert xs == sorted(xs) and len(set(xs)) == 7  # left to right by depth
    assert not document.is_modified


# --- parameter edits merge ----------------------------------------------------------------------
def test_consecutive_edits_of_one_field_merge(document):
    for units in (9, 10, 11, 12):
        document.set_param("dense1", "units", units)
    assert document.undo_stack.count() == 1
    document.set_param("dense1", "use_bias", False)       # another field: a new step
    document.set_param("dense2", "units", 4)              # another node: a new step
    assert document.undo_stack.count() == 3
    document.undo_stack.undo()
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.graph.params_of("dense1") == {"units": 8}


def test_edit_back_to_start_leaves_nothing_to_undo(document):
    document.set_param("dense1", "units", 9)
    document.set_param("dense1", "units", 8)
    assert document.undo_stack.count() == 0
    assert not document.is_modified


# --- signals and analysis -----------------------------------------------------------------------
def test_signals_and_analysis_follow_every_change(document):
    log: list[tuple] = []
    document.node_added.connect(lambda n: log.append(("added", n)))
    document.edge_added.connect(lambda s, t, p: log.append(("edge", s, t, p)))
    document.analysis_changed.connect(lambda: log.append(("analysis",)))
    node = document.add_node("Dense", connect_from="out", params={"units": 2})
    assert log == [("added", node), ("edge", "out", node, 0), ("analysis",)]
    assert document.analysis.output_id == node
    assert document.analysis.shapes[node] == (2,)


def test_one_edit_on_300_nodes_updates_the_analysis(make_document):
    doc = make_document(big_chain(300))
    doc.set_param("dense1", "units", 17)
    assert doc.analysis.shapes["dense1"] == (17,)
