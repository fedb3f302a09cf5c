"""The step-through of one backpropagation step shows the engine's own numbers.

Every stage is checked against a second network built from the same spec and seed and
driven the ordinary way (``Network.forward``/``backward``/``gradients``, the loss table,
one SGD step), the chain-rule values against central differences, and the formula text
against the formatted numbers it should contain.
"""

from __future__ import annotations

import numpy as np
import pytest

from core import ActivationSpec, DenseSpec, NetworkSpec, build_network, get_loss, make_optimizer
from core.teach.stepthrough import STAGE_KINDS, column_widths, fmt, walk_step

F64 = np.float64


def spec(hidden: str = "sigmoid", out: str = "sigmoid", units: int = 3) -> NetworkSpec:
    return NetworkSpec(inputs=2, layers=(
        DenseSpec(units=units), ActivationSpec(function=hidden),
        DenseSpec(units=1), ActivationSpec(function=out)))


def batch() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0.5, 1.2], [-1.0, 0.3], [0.2, -0.7], [1.1, 0.9]])
    Y = np.array([[1.0], [0.0], [1.0], [0.0]])
    return X, Y


def reference(net_spec: NetworkSpec, loss: str = "mse", lr: float = 0.5):
    """Forward outputs, E, gradients and SGD-updated parameters the ordinary way."""
    X, Y = batch()
    net = build_network(net_spec, seed=3, dtype=F64)
    info = get_loss(loss)
    logits = info.fused_activation is not None
    out = net.forward(X, logits=logits)
    value, grad = info.value_and_grad(out, Y)
    net.backward(grad)
    grads = {k: v.copy() for k, v in net.gradients().items()}
    opt = make_optimizer("sgd", net.flat_params.size, F64, learning_rate=lr)
    opt.step(net.flat_params, net.flat_grads)
    new = {k: v.copy() for k, v in net.parameters().items()}
    return out, value, grads, new


def walk(net_spec: NetworkSpec, loss: str = "mse", lr: float = 0.5):
    X, Y = batch()
    net = build_network(net_spec, seed=3, dtype=F64)
    before = {k: v.copy() for k, v in net.parameters().items()}
    stages = walk_step(net, X, Y, loss, lr)
    return net, before, stages


@pytest.mark.parametrize("hidden,out", [("sigmoid", "sigmoid"), ("tanh", "linear"),
                                        ("relu", "sigmoid"), ("linear", "tanh")])
def test_stages_equal_the_engines_numbers(hidden, out):
    net_spec = spec(hidden, out)
    ref_out, ref_e, ref_grads, ref_new = reference(net_spec)
    net, before, stages = walk(net_spec)
    kinds = [s.kind for s in stages]
    assert set(kinds) <= set(STAGE_KINDS)
    assert kinds == ["forward-dense", "forward-activation", "forward-dense",
                     "forward-activation", "loss", "backward-activation", "backward-dense",
                     "backward-activation", "backward-dense", "update", "update"]
    # Forward: the last activation stage's output is the network's output.
    fwd = [s for s in stages if s.kind == "forward-activation"]
    np.testing.assert_array_equal(fwd[-1].values["a"], ref_out)
    # Each forward stage feeds the next.
    forward = [s for s in stages if s.kind.startswith("forward")]
    for a, b in zip(forward, forward[1:], strict=False):
        produced = a.values["z"] if a.kind == "forward-dense" else a.values["a"]
        consumed = b.values["inputs"] if b.kind == "forward-dense" else b.values["z"]
        np.testing.assert_array_equal(produced, consumed)
    loss = next(s for s in stages if s.kind == "loss")
    assert float(loss.values["E"]) == ref_e
    assert float(loss.values["E"]) == get_loss("mse").value(ref_out, batch()[1])
    for s in stages:
        if s.kind == "backward-dense":
            np.testing.assert_array_equal(s.values["dE/dW"], ref_grads[f"{s.layer}.weight"])
            np.testing.assert_array_equal(s.values["dE/db"], ref_grads[f"{s.layer}.bias"])
        if s.kind == "update":
            np.testing.assert_array_equal(s.values["new_W"], ref_new[f"{s.layer}.weight"])
            np.testing.assert_array_equal(s.values["new_b"], ref_new[f"{s.layer}.bias"])
            np.testing.assert_array_equal(s.values["delta_W"], -0.5 * s.values["dE/dW"])
    # The walk leaves the network's gradients filled and its parameters unchanged.
    for name, g in net.gradients().items():
        np.testing.assert_array_equal(g, ref_grads[name])
    for name, p in net.parameters().items():
        np.testing.assert_array_equal(p, before[name])


def test_chain_rule_values_match_finite_differences():
    net_spec = spec("tanh", "sigmoid")
    X, Y = batch()
    net, before, stages = walk(net_spec)
    mse = get_loss("mse")

    def error(params: dict[str, np.ndarray]) -> float:
        probe = build_network(net_spec, seed=3, dtype=F64)
        probe.set_parameters(params)
        return mse.value(probe.forward(X), Y)

    h = 1e-6
    for s in stages:
        if s.kind != "backward-dense":
            continue
        for local, key in (("weight", "dE/dW"), ("bias", "dE/db")):
            name = f"{s.layer}.{local}"
            numeric = np.zeros_like(before[name])
            for idx in np.ndindex(numeric.shape):
                plus = {k: v.copy() for k, v in before.items()}
                minus = {k: v.copy() for k, v in before.items()}
                plus[name][idx] += h
                minus[name][idx] -= h
                numeric[idx] = (error(plus) - error(minus)) / (2 * h)
            np.testing.assert_allclose(s.values[key], numeric, rtol=1e-6, atol=1e-10)
    # dE/dz of the output = dE/da * f'(z) element by element (the chain rule's product).
    back = next(s for s in stages if s.kind == "backward-activation")
    np.testing.assert_allclose(back.values["dE/dz"], back.values["dE/da"] * back.values["f'(z)"])


def test_formula_text_holds_the_first_samples_numbers():
    _net, _before, stages = walk(spec())
    X, Y = batch()
    first = stages[0]
    W, b, z = first.values["W"], first.values["b"], first.values["z"]
    def p(v: float) -> str:
        return f"({fmt(v)})" if v < 0 else fmt(v)

    assert (f"z₁⁽¹⁾ = w₁₁·x₁ + w₂₁·x₂ + b₁ = {p(W[0, 0])}·{p(X[0, 0])} + "
            f"{p(W[1, 0])}·{p(X[0, 1])} + {p(b[0])} = {fmt(z[0, 0])}") in first.text
    for number in (W[0, 0], W[1, 0], X[0, 0], X[0, 1], z[0, 0], z[0, 2]):
        assert fmt(number) in first.text
    assert f"= {fmt(z[0, 0])}" in first.text
    loss = next(s for s in stages if s.kind == "loss")
    out = loss.values["output"]
    assert "E = (1/n) Σ" in loss.text
    assert f"({fmt(Y[0, 0])} − {fmt(out[0, 0])})²" in loss.text
    assert f"= {fmt(float(loss.values['E']))}" in loss.text
    bd = next(s for s in stages if s.kind == "backward-dense")
    assert fmt(bd.values["dE/dW"][0, 0]) in bd.text
    upd = stages[-1]
    assert f"α = {fmt(0.5)}" in upd.text
    assert f"→ {fmt(upd.values['new_W'][0, 0], 6)}" in upd.text


def test_fmt_uses_a_real_minus_and_four_digits():
    assert fmt(0.10432) == "0.1043"
    assert fmt(-0.13) == "−0.13"
    assert fmt(0.0) == "0"
    assert "e" in fmt(1.5e-7)


def test_highlight_data_follows_the_stages():
    net, _before, stages = walk(spec(units=3))
    assert column_widths(net) == [2, 3, 1]
    by_kind = [(s.kind, s.columns, s.connections) for s in stages]
    assert by_kind[0] == ("forward-dense", (0, 1), 1)
    assert by_kind[1] == ("forward-activation", (1,), None)
    assert by_kind[4] == ("loss", (2,), None)
    assert by_kind[6] == ("backward-dense", (1, 2), 2)
    # Values appear column by column in the forward pass, gradients in the backward pass.
    assert stages[0].neuron_values[2] is None and stages[2].neuron_values[2] is not None
    assert stages[3].neuron_grads[2] is None and stages[4].neuron_grads[2] is not None
    assert stages[6].neuron_grads[1] is not None and stages[5].neuron_grads[1] is None
    # The update stage draws the new weights on its connections.
    np.testing.assert_array_equal(stages[-1].weights[2], stages[-1].values["new_W"])


def test_fused_cross_entropy_starts_at_the_logits():
    net_spec = spec("tanh", "sigmoid")
    ref_out, ref_e, ref_grads, ref_new = reference(net_spec, "binary_cross_entropy")
    _net, _before, stages = walk(net_spec, "binary_cross_entropy")
    assert [s.kind for s in stages].count("forward-activation") == 1
    loss = next(s for s in stages if s.kind == "loss")
    assert float(loss.values["E"]) == ref_e
    for s in stages:
        if s.kind == "backward-dense":
            np.testing.assert_array_equal(s.values["dE/dW"], ref_grads[f"{s.layer}.weight"])
        if s.kind == "update":
            np.testing.assert_array_equal(s.values["new_W"], ref_new[f"{s.layer}.weight"])


def test_bad_shapes_are_reported():
    net = build_network(spec(), seed=0, dtype=F64)
    with pytest.raises(ValueError, match="X must have shape"):
        walk_step(net, np.zeros((4, 3)), np.zeros((4, 1)), "mse", 0.1)
    with pytest.raises(ValueError, match="Y must have shape"):
        walk_step(net, np.zeros((4, 2)), np.zeros((4, 2)), "mse", 0.1)


def test_first_batch_is_the_trainers_first_step():
    # The step-through's batch and update equal the trainer's first step: both use
    # core.training.shuffle (with batch 5 of 40 rows, another order gives other weights).
    import threading

    from core import Design, TrainConfig
    from core.datasets import DatasetSpec, load_dataset
    from core.records.snapshots import StepSnapshot
    from core.teach.stepthrough import first_batch
    from core.training.trainer import Trainer, TrainingControl

    data_spec = DatasetSpec.synthetic("moons", samples=50, seed=1)
    design = Design(spec("tanh", "sigmoid"), TrainConfig(
        loss="mse", optimizer="sgd", learning_rate=0.5, batch_size=5, epochs=1, seed=7,
        dtype="float64"), data_spec.to_dict())
    dataset = load_dataset(data_spec)
    net = build_network(design.network, seed=7, dtype=F64)
    X, Y, note = first_batch(design, net, dataset)
    assert X.shape == (5, 2) and "5 samples" in note
    stages = walk_step(net, X, Y, "mse", 0.5)
    walked = [s.values["new_W"] for s in stages if s.kind == "update"]

    control = TrainingControl()
    control.pause()
    trainer = Trainer(design, dataset)
    snaps = []
    thread = threading.Thread(target=lambda: snaps.extend(trainer.run(control)), daemon=True)
    thread.start()
    control.step()
    deadline = threading.Event()
    while not any(isinstance(s, StepSnapshot) for s in snaps) and thread.is_alive():
        deadline.wait(0.01)
    control.stop()
    thread.join(timeout=10)
    trained = [v for k, v in trainer.network.parameters().items() if k.endswith("weight")]
    assert len(walked) == len(trained) == 2
    for a, b in zip(walked, trained, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def tiny_image_spec() -> NetworkSpec:
    """Small enough by the size rules (4 pixels, 2 layers with weights), but on images."""
    from core.design.spec import Conv2DSpec, FlattenSpec

    return NetworkSpec(inputs=4, input_shape=(1, 2, 2), layers=(
        Conv2DSpec(filters=1, kernel=1), FlattenSpec(), DenseSpec(units=1),
        ActivationSpec(function="sigmoid")))


def test_image_layers_are_named_for_a_design_the_step_through_cannot_follow():
    from core.design.spec import MaxPool2DSpec, ResidualSpec
    from core.teach.stepthrough import image_layers

    assert image_layers(spec()) == []
    assert image_layers(tiny_image_spec()) == ["Conv2D", "Flatten"]
    nested = NetworkSpec(inputs=64, input_shape=(1, 8, 8), layers=(
        ResidualSpec(layers=(MaxPool2DSpec(size=1, stride=1),)),
        *tiny_image_spec().layers))
    assert image_layers(nested) == ["MaxPool", "Conv2D", "Flatten"]


def test_walk_step_refuses_an_image_network_in_words():
    net = build_network(tiny_image_spec(), seed=3, dtype=F64)
    X, Y = batch()
    with pytest.raises(ValueError, match=r"features \(Dense layers\) only; this one "
                                         r"works on images \(Conv2D, Flatten\)"):
        walk_step(net, np.hstack([X, X]), Y, "mse", 0.5)
