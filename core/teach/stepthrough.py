"""One training step of backpropagation, taken apart stage by stage for a teaching view.

``walk_step`` runs the engine's own runtime layers one at a time on one mini-batch
(forward layer by layer, the loss, backward layer by layer, then the SGD update of every
layer with parameters) and records each stage: the arrays involved, a plain-words
explanation with the formulas filled in with the first sample's numbers, and which
neurons and connections of a small column diagram the stage is about. Because the
layers themselves do the arithmetic, the numbers shown are the numbers training uses.

It follows networks on features only (Dense, activations, dropout, batch norm,
residual blocks): :func:`image_layers` names the layers of a design that work on images
(Conv2D, pooling, Flatten), for which ``walk_step`` refuses with a plain ``ValueError``.

Diagram columns: column 0 holds the input features, each top-level Dense layer (or
residual block) adds a column of its units; element-wise layers (activations, dropout,
batch norm) act on the column before them. Connection set ``k`` joins column ``k - 1``
to column ``k``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.design.spec import Design, LayerSpec, NetworkSpec, ResidualSpec
from core.engine.activations import ELU_ALPHA, LEAKY_SLOPE
from core.engine.layers import Activation, Dense
from core.engine.losses import LossInfo, get_loss
from core.engine.network import Network
from core.engine.optimizers import make_optimizer
from core.training.shuffle import first_batch_rows
from core.training.targets import encode_targets
from core.words import plural

#: Stage kinds in the order a step visits them ("-other": a layer not shown in detail).
STAGE_KINDS = ("forward-dense", "forward-activation", "forward-other", "loss",
               "backward-activation", "backward-dense", "backward-other", "update")

#: Formula lines listed per stage before the rest are summarised as "… n more".
MAX_LINES = 12

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
MINUS = "−"


@dataclass(frozen=True, eq=False)
class Stage:
    """One stage of the step.

    ``values`` holds the arrays shown (batch-first where they are per sample). The
    diagram data: ``columns`` are the highlighted neuron columns, ``connections`` the
    highlighted connection set (or None), ``neuron_values``/``neuron_grads`` give per
    column the first sample's value / dE/d(value) known at this stage (None: not yet
    computed), and ``weights`` per connection set the weight matrix (in, out) drawn on
    it (the new weights once an update stage has applied them).
    """

    kind: str
    layer: str
    title: str
    text: str
    values: dict[str, np.ndarray]
    columns: tuple[int, ...] = ()
    connections: int | None = None
    neuron_values: tuple[np.ndarray | None, ...] = ()
    neuron_grads: tuple[np.ndarray | None, ...] = ()
    weights: tuple[np.ndarray | None, ...] = field(default=())


def fmt(value: float, digits: int = 4) -> str:
    """A number as the step-through writes it: ``digits`` significant digits, a real
    minus sign."""
    v = float(value)
    if v == 0.0:
        return "0"
    text = f"{v:.{digits}g}" if 1e-4 <= abs(v) < 1e5 else f"{v:.{digits - 1}e}"
    return text.replace("-", MINUS)


def _p(value: float) -> str:
    """``fmt`` in parentheses when negative, for use inside a product or sum."""
    text = fmt(value)
    return f"({text})" if text.startswith(MINUS) else text


def sub(i: int) -> str:
    """1-based subscript of a 0-based index: ``sub(0) == '₁'``."""
    return str(i + 1).translate(_SUB)


def _sup(k: int) -> str:
    return f"({k})".translate(_SUP)


def _limit(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return lines[:MAX_LINES] + [f"… {len(lines) - MAX_LINES} more"]


def image_layers(spec: NetworkSpec) -> list[str]:
    """The labels of the layers of ``spec`` (residual blocks' too) that only take images,
    each once in network order (``["Conv2D", "MaxPool", "Flatten"]``); empty for a
    network on features, which the step-through can follow."""
    found: list[str] = []

    def walk(layers: Sequence[LayerSpec]) -> None:
        for layer in layers:
            if isinstance(layer, ResidualSpec):
                walk(layer.layers)
            elif layer.needs_image and layer.label not in found:
                found.append(layer.label)

    walk(spec.layers)
    return found


def _image_runtime_layers(network: Network) -> list[str]:
    """Labels of ``network``'s runtime layers that work on (batch, C, H, W) arrays."""
    return list(dict.fromkeys(layer.label for layer in network.all_layers()
                              if len(getattr(layer, "in_shape", ())) == 3))


def column_of_layers(network: Network) -> list[int]:
    """The diagram column each top-level layer of ``network`` writes into."""
    out, col = [], 0
    for layer in network.layers:
        if isinstance(layer, Dense) or layer.declare() or layer.children() \
                or layer.n_out != layer.n_in:
            col += 1
        out.append(col)
    return out


def column_widths(network: Network) -> list[int]:
    """Neurons per diagram column (column 0: the inputs)."""
    widths = [network.inputs]
    for layer, col in zip(network.layers, column_of_layers(network), strict=True):
        if col == len(widths):
            widths.append(layer.n_out)
    return widths


class _Names:
    """Symbols of each layer's input and output: x, z⁽ᵏ⁾, a⁽ᵏ⁾ (k counts Dense layers)."""

    def __init__(self, network: Network) -> None:
        self.inp: list[str] = []
        self.out: list[str] = []
        current, k = "x", 0
        for layer in network.layers:
            self.inp.append(current)
            if isinstance(layer, Dense):
                k += 1
                current = "z" + _sup(k)
            elif isinstance(layer, Activation):
                current = "a" + _sup(max(k, 1))
            else:
                current = "h" + _sup(max(k, 1)) + "′" * (current.count("′") + 1)
            self.out.append(current)


def _sym(name: str, i: int) -> str:
    """Element ``i`` of a layer symbol: z⁽¹⁾ -> z₂⁽¹⁾ (subscript before the layer mark)."""
    base, mark = name[0], name[1:]
    return f"{base}{sub(i)}{mark}"


def _local_derivative(layer: Activation, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """f'(x) element-wise, from the activation's own backward with an incoming 1."""
    ones = np.ones_like(y)
    return layer.info.backward(x, y, ones, np.empty_like(y), np.empty_like(y)).copy()


@dataclass(frozen=True)
class ActivationFormulas:
    """How the step-through writes one activation with the first sample's numbers.

    ``forward(z, zv)``: f applied to the symbol ``z`` whose value is ``zv``
    (``σ(z₁) = 1 / (1 + e^(−z₁)) = 1 / (1 + e^(−0.5))``). ``slope(z, a, zv, av)``:
    (f′ in symbols, f′ with the numbers; "" to show the computed slope instead).
    """

    forward: Callable[[str, float], str]
    slope: Callable[[str, str, float, float], tuple[str, str]]


def _elu_slope(z: str, a: str, zv: float, av: float) -> tuple[str, str]:
    # For z <= 0, f′ = α·e^z = f(z) + α.
    return (f"(1 if {z} > 0 else {a} + {fmt(ELU_ALPHA)})",
            "1" if zv > 0 else f"{_p(av)} + {fmt(ELU_ALPHA)}")


#: Every activation of ``core.engine.activations.ACTIVATIONS`` has its entry (tested).
ACTIVATION_FORMULAS: dict[str, ActivationFormulas] = {
    "sigmoid": ActivationFormulas(
        lambda z, zv: f"σ({z}) = 1 / (1 + e^({MINUS}{z})) = 1 / (1 + e^({fmt(-zv)}))",
        lambda z, a, zv, av: (f"{a}·(1 {MINUS} {a})", f"{_p(av)}·(1 {MINUS} {_p(av)})")),
    "tanh": ActivationFormulas(
        lambda z, zv: f"tanh({z}) = tanh({fmt(zv)})",
        lambda z, a, zv, av: (f"1 {MINUS} {a}²", f"1 {MINUS} {_p(av)}²")),
    "relu": ActivationFormulas(
        lambda z, zv: f"max(0, {z}) = max(0, {fmt(zv)})",
        lambda z, a, zv, av: (f"(1 if {z} > 0 else 0)", "1" if zv > 0 else "0")),
    "leaky_relu": ActivationFormulas(
        lambda z, zv: (f"max({fmt(LEAKY_SLOPE)}·{z}, {z}) = "
                       f"max({fmt(LEAKY_SLOPE)}·{_p(zv)}, {fmt(zv)})"),
        lambda z, a, zv, av: (f"(1 if {z} > 0 else {fmt(LEAKY_SLOPE)})",
                              "1" if zv > 0 else fmt(LEAKY_SLOPE))),
    "elu": ActivationFormulas(
        lambda z, zv: (f"({z} if {z} > 0 else {fmt(ELU_ALPHA)}·(e^{z} {MINUS} 1)) with "
                       f"{z} = {fmt(zv)}"),
        _elu_slope),
    "gelu": ActivationFormulas(
        lambda z, zv: (f"{z}·½·(1 + tanh(√(2/π)·({z} + 0.044715·{z}³))) with "
                       f"{z} = {fmt(zv)}"),
        lambda z, a, zv, av: (f"GELU′({z})", "")),
    "softplus": ActivationFormulas(
        lambda z, zv: f"log(1 + e^{z}) = log(1 + e^({fmt(zv)}))",
        lambda z, a, zv, av: (f"σ({z})", "")),
    "linear": ActivationFormulas(
        lambda z, zv: f"{z} = {fmt(zv)}",
        lambda z, a, zv, av: ("1", "1")),
    "softmax": ActivationFormulas(
        lambda z, zv: f"e^{z} / Σₖ e^zₖ with {z} = {fmt(zv)}",
        # Softmax couples its outputs: the slope shown is the computed one.
        lambda z, a, zv, av: (f"∂{a}/∂{z}", "")),
}


@dataclass(frozen=True, eq=False)
class LossWorking:
    """What the loss stage's words are written from: ``output`` and ``target``
    (batch, outputs), ``grad`` dE/doutput of the same shape, the loss ``value``, the
    symbol of the last layer run (``out``; ``run_output`` is "x" when no layer ran), the
    label of the final activation a fused loss includes (None if not fused) and the
    symbol of the values the loss reads (``yhat``)."""

    output: np.ndarray
    target: np.ndarray
    grad: np.ndarray
    value: float
    out: str
    run_output: str
    fused_into: str | None
    yhat: str


def _mse_words(loss: LossInfo, w: LossWorking) -> str:
    """The mean squared error worked through term by term."""
    output, Y, grad = w.output, w.target, w.grad
    n_terms = output.size
    sq = (Y - output) ** 2
    first = [f"(y{sub(j)} {MINUS} ŷ{sub(j)})² = ({_p(Y[0, j])} {MINUS} {_p(output[0, j])})² "
             f"= {fmt(sq[0, j])}" for j in range(output.shape[1])]
    all_terms = [fmt(v) for v in sq.ravel()]
    shown = " + ".join(all_terms[:8]) + (" + …" if len(all_terms) > 8 else "")
    grad_lines = [f"∂E/∂ŷ{sub(j)} = (2/{n_terms})·(ŷ{sub(j)} {MINUS} y{sub(j)}) = "
                  f"(2/{n_terms})·({_p(output[0, j])} {MINUS} {_p(Y[0, j])}) = "
                  f"{fmt(grad[0, j])}" for j in range(output.shape[1])]
    return (f"The error E is the mean squared error: E = (1/n) Σ (yᵢ {MINUS} ŷᵢ)², where "
            f"y is the target and ŷ the network's output ({w.run_output}). Our MSE also "
            f"averages over the batch, so n = {plural(output.shape[0], 'sample')} × "
            f"{plural(output.shape[1], 'output')} = {plural(n_terms, 'squared difference')}. "
            "For the first "
            "sample:\n\n"
            + "\n".join(first)
            + f"\n\nE = (1/{n_terms})·({shown}) = {fmt(w.value)}\n\n"
            "The backward pass starts from how E changes with each output:\n\n"
            + "\n".join(_limit(grad_lines)))


def _loss_words(loss: LossInfo, w: LossWorking) -> str:
    """A loss described in words with its value and the first sample's gradient."""
    where = (f" It is computed from the input {w.yhat} of the final {w.fused_into} (the "
             "loss includes that activation), so the backward pass starts there."
             if w.fused_into else "")
    grad_lines = [f"∂E/∂{_sym(w.out, j)} = {fmt(w.grad[0, j])}"
                  for j in range(w.output.shape[1])]
    return (f"The error E is the {loss.label.lower()}: {loss.description}{where} "
            f"Averaged over the batch of {plural(w.output.shape[0], 'sample')}: "
            f"E = {fmt(w.value)}.\n\n"
            "First sample's gradient of E with respect to the outputs:\n\n"
            + "\n".join(_limit(grad_lines)))


#: How the loss stage explains each loss of ``core.engine.losses.LOSSES`` (every one has
#: its entry, tested): worked term by term, or in words.
LOSS_WORDS: dict[str, Callable[[LossInfo, LossWorking], str]] = {
    "mse": _mse_words,
    "mae": _loss_words,
    "huber": _loss_words,
    "binary_cross_entropy": _loss_words,
    "softmax_cross_entropy": _loss_words,
}


def first_batch(design: Design, network: Network, dataset: Any | None
                ) -> tuple[np.ndarray, np.ndarray, str]:
    """The batch to step through: (X (batch, inputs), Y (batch, outputs), a note saying
    what it is). With a dataset (a ``core.datasets.Dataset``) it is training's own first
    mini-batch (the trainer's shuffle rule, ``core.training.shuffle``); without one, a
    fixed example batch of 4 samples."""
    cfg = design.training
    if dataset is None:
        rng = np.random.default_rng(0)
        X = np.round(rng.uniform(-1, 1, (4, network.inputs)), 2)
        Y = np.round(rng.uniform(0, 1, (4, network.outputs)), 0)
        return X, Y, "No dataset: a fixed example batch of 4 samples."
    if dataset.n_features != network.inputs:
        raise ValueError(f"the dataset has {dataset.n_features} input features but the "
                         f"network expects {network.inputs}")
    loss = get_loss(cfg.loss)
    n_classes = dataset.n_classes if dataset.task == "classification" else 0
    Y_all = encode_targets(dataset.y_train, dataset.task, n_classes, network.outputs,
                           loss, np.float64)
    rows = first_batch_rows(cfg.seed, dataset.x_train.shape[0], cfg.batch_size)
    size = len(rows)
    return (np.asarray(dataset.x_train[rows], dtype=np.float64), Y_all[rows],
            f"First mini-batch of training: {plural(size, 'sample')}.")


def walk_step(network: Network, X: np.ndarray, Y: np.ndarray, loss_name: str,
              learning_rate: float) -> list[Stage]:
    """Take one SGD step on the batch ``X`` (batch, inputs), ``Y`` (batch, outputs)
    apart into stages.

    Runs ``network``'s own layers (so its gradients afterwards equal those of
    ``network.backward`` on this batch); the parameters are left unchanged: the update
    stages show Δw from the SGD optimizer and the weights it would give. A loss fused
    with the final activation (cross-entropy) starts the backward pass at that
    activation's input, as training does.
    """
    images = _image_runtime_layers(network)
    if images:
        raise ValueError("the step-through follows networks on features (Dense layers) "
                         f"only; this one works on images ({', '.join(images)})")
    loss = get_loss(loss_name)
    X = np.ascontiguousarray(X, dtype=network.dtype)
    Y = np.ascontiguousarray(Y, dtype=network.dtype)
    if X.ndim != 2 or X.shape[1] != network.inputs or X.shape[0] == 0:
        raise ValueError(f"X must have shape (batch, {network.inputs}); got {X.shape}")
    if Y.shape != (X.shape[0], network.outputs):
        raise ValueError(f"Y must have shape ({X.shape[0]}, {network.outputs}); got {Y.shape}")
    layers = list(network.layers)
    fused = (loss.fused_activation is not None and bool(layers)
             and isinstance(layers[-1], Activation)
             and layers[-1].info.name == loss.fused_activation)
    run = layers[:-1] if fused else layers
    cols = column_of_layers(network)
    widths = column_widths(network)
    names = _Names(network)
    n_cols = len(widths)
    dense_index = {id(layer): i for i, layer in enumerate(
        [la for la in layers if isinstance(la, Dense)])}

    neuron_values: list[np.ndarray | None] = [X[0].copy()] + [None] * (n_cols - 1)
    neuron_grads: list[np.ndarray | None] = [None] * n_cols
    weights: list[np.ndarray | None] = [None] * n_cols
    for layer, col in zip(layers, cols, strict=True):
        if isinstance(layer, Dense):
            weights[col] = layer.W.copy()
    stages: list[Stage] = []

    def add(kind: str, layer: str, title: str, text: str, values: dict[str, np.ndarray],
            columns: Sequence[int], connections: int | None = None) -> None:
        stages.append(Stage(kind, layer, title, text, values, tuple(columns), connections,
                            tuple(neuron_values), tuple(neuron_grads), tuple(weights)))

    # ------------------------------------------------------------------ forward
    inputs: list[np.ndarray] = []
    x = X
    for i, layer in enumerate(run):
        inputs.append(x)
        out = layer.forward(x, True).copy()
        col = cols[i]
        neuron_values[col] = out[0].copy()
        xin, zout = names.inp[i], names.out[i]
        if isinstance(layer, Dense):
            k = dense_index[id(layer)] + 1
            lines = []
            for j in range(layer.n_out):
                terms = [f"w{sub(r)}{sub(j)}·{_sym(xin, r)}" for r in range(layer.n_in)]
                nums = [f"{_p(layer.W[r, j])}·{_p(x[0, r])}" for r in range(layer.n_in)]
                if layer.b is not None:
                    terms.append(f"b{sub(j)}")
                    nums.append(_p(layer.b[j]))
                lines.append(f"{_sym(zout, j)} = {' + '.join(terms)} = {' + '.join(nums)} "
                             f"= {fmt(out[0, j])}")
            who = (f"Each of the {layer.n_out} neurons" if layer.n_out > 1
                   else "The single neuron")
            text = (f"{who} of Dense layer {k} multiplies every input by the weight of its "
                    f"connection, adds them up and adds its bias: "
                    f"the weighted sum z = x·W + b. For the first sample of the batch:\n\n"
                    + "\n".join(_limit(lines)))
            values = {"inputs": x.copy(), "W": layer.W.copy(), "z": out}
            if layer.b is not None:
                values["b"] = layer.b.copy()
            add("forward-dense", layer.name, f"Forward: weighted sums of Dense layer {k}",
                text, values, (col - 1, col), col)
        elif isinstance(layer, Activation):
            act = layer.info
            formula = ACTIVATION_FORMULAS[act.name].forward
            lines = [f"{_sym(zout, j)} = {formula(_sym(xin, j), x[0, j])} = {fmt(out[0, j])}"
                     for j in range(layer.n_out)]
            text = (f"The {act.label} activation is applied to every weighted sum on its own: "
                    f"{act.description}\n\n" + "\n".join(_limit(lines)))
            add("forward-activation", layer.name, f"Forward: {act.label} activation",
                text, {"z": x.copy(), "a": out}, (col,))
        else:
            text = (f"The {layer.label} layer transforms its inputs; its arithmetic is not "
                    f"shown in detail here. First sample's outputs: "
                    + ", ".join(fmt(v) for v in out[0]))
            add("forward-other", layer.name, f"Forward: {layer.label} (not shown in detail)",
                text, {"inputs": x.copy(), "outputs": out}, (col,))
        x = out

    # --------------------------------------------------------------------- loss
    output = x
    value, grad = loss.value_and_grad(output.copy(), Y)
    grad = np.array(grad, dtype=network.dtype)
    last_col = cols[len(run) - 1] if run else 0
    yhat = "ŷ" if not fused else names.out[len(run) - 1][0]
    words = LOSS_WORDS[loss.name]
    text = words(loss, LossWorking(output, Y, grad, float(value), names.out[len(run) - 1],
                                   run_output=names.out[len(run) - 1] if run else "x",
                                   fused_into=layers[-1].info.label if fused else None,
                                   yhat=yhat))
    neuron_grads[last_col] = grad[0].copy()
    add("loss", "", f"Error E ({loss.label})", text,
        {"output": output.copy(), "target": Y.copy(), "E": np.asarray(value),
         "dE/doutput": grad.copy()}, (last_col,))

    # ----------------------------------------------------------------- backward
    g = grad
    for i in range(len(run) - 1, -1, -1):
        layer = run[i]
        x_in = inputs[i]
        col = cols[i]
        xin, zout = names.inp[i], names.out[i]
        g_above = g.copy()
        g_new = layer.backward(g.copy(), True)
        g_new = None if g_new is None else g_new.copy()
        if isinstance(layer, Activation):
            y_out = layer.last_output
            local = _local_derivative(layer, x_in, y_out)
            lines = []
            for j in range(layer.n_out):
                sym_d, num_d = ACTIVATION_FORMULAS[layer.info.name].slope(
                    _sym(xin, j), _sym(zout, j), x_in[0, j], y_out[0, j])
                nums = f"{_p(g_above[0, j])}·{num_d or _p(local[0, j])}"
                lines.append(f"∂E/∂{_sym(xin, j)} = ∂E/∂{_sym(zout, j)} · {sym_d} = {nums} "
                             f"= {fmt(g_new[0, j])}")
            text = (f"Chain rule through the {layer.info.label} activation: the gradient from "
                    f"above, ∂E/∂a, times the activation's local slope f′(z). For the first "
                    f"sample:\n\n" + "\n".join(_limit(lines)))
            neuron_grads[col] = g_new[0].copy()
            add("backward-activation", layer.name,
                f"Backward: through the {layer.info.label} activation", text,
                {"dE/da": g_above, "f'(z)": local, "dE/dz": g_new}, (col,))
        elif isinstance(layer, Dense):
            k = dense_index[id(layer)] + 1
            dW = layer.dW.copy()
            w_lines = []
            for r in range(layer.n_in):
                for j in range(layer.n_out):
                    more = (f" + … ({x_in.shape[0] - 1} more)" if x_in.shape[0] > 1 else "")
                    w_lines.append(
                        f"∂E/∂w{sub(r)}{sub(j)} = Σ {_sym(xin, r)}·∂E/∂{_sym(zout, j)} = "
                        f"{_p(x_in[0, r])}·{_p(g_above[0, j])}{more} = {fmt(dW[r, j])}")
            b_lines = []
            values = {"dE/dz": g_above, "inputs": x_in.copy(), "dE/dW": dW}
            if layer.b is not None:
                db = layer.db.copy()
                values["dE/db"] = db
                b_lines = [f"∂E/∂b{sub(j)} = Σ ∂E/∂{_sym(zout, j)} = {fmt(db[j])}"
                           for j in range(layer.n_out)]
            down = ""
            if i > 0 and g_new is not None:
                values["dE/dinputs"] = g_new
                d_lines = []
                for r in range(layer.n_in):
                    terms = " + ".join(f"{_p(layer.W[r, j])}·{_p(g_above[0, j])}"
                                       for j in range(layer.n_out))
                    d_lines.append(f"∂E/∂{_sym(xin, r)} = Σⱼ w{sub(r)}ⱼ·∂E/∂{_sym(zout, 0)[0]}ⱼ"
                                   f" = {terms} = {fmt(g_new[0, r])}")
                down = ("\n\nThe gradient passed down to the previous layer, ∂E/∂input = "
                        "∂E/∂z · Wᵀ (first sample):\n\n" + "\n".join(_limit(d_lines)))
                neuron_grads[col - 1] = g_new[0].copy()
            text = (f"Chain rule at Dense layer {k}: since z = x·W + b, the local derivative "
                    f"∂z/∂w is the weight's input x, so ∂E/∂w = x · ∂E/∂z, summed over the "
                    f"{plural(x_in.shape[0], 'sample')} of the batch (the first term below is "
                    "the first "
                    f"sample's); ∂E/∂b = ∂E/∂z summed.\n\n"
                    + "\n".join(_limit(w_lines + b_lines)) + down)
            add("backward-dense", layer.name, f"Backward: gradients of Dense layer {k}",
                text, values, (col - 1, col), col)
        else:
            values = {"dE/doutputs": g_above}
            if g_new is not None:
                values["dE/dinputs"] = g_new
                in_col = cols[i - 1] if i > 0 else 0
                if g_new.shape[1] == widths[in_col]:
                    neuron_grads[in_col] = g_new[0].copy()
            text = (f"The {layer.label} layer passes the gradient back (its chain rule is not "
                    f"shown in detail here).")
            add("backward-other", layer.name, f"Backward: {layer.label} (not shown in detail)",
                text, values, (col,))
        g = g_new if g_new is not None else g

    # ------------------------------------------------------------------ update
    opt = make_optimizer("sgd", network.flat_params.size, network.dtype,
                         learning_rate=learning_rate)
    delta = opt.compute_update(network.flat_grads).copy()
    new_flat = network.flat_params + delta
    base = network.flat_params.__array_interface__["data"][0]
    itemsize = network.flat_params.itemsize

    def span(arr: np.ndarray) -> tuple[int, int]:
        # Every parameter is a contiguous view into flat_params: find its slice.
        start = (arr.__array_interface__["data"][0] - base) // itemsize
        return start, start + arr.size
    for i, layer in enumerate(layers):
        if not layer.params:
            continue
        col = cols[i]
        values = {}
        lines = []
        for local, arr in layer.params.items():
            a, b = span(arr)
            d = delta[a:b].reshape(arr.shape)
            new = new_flat[a:b].reshape(arr.shape)
            key = {"weight": "W", "bias": "b"}.get(local, local)
            values[key] = arr.copy()
            values[f"dE/d{key}"] = layer.grads[local].copy()
            values[f"delta_{key}"] = d.copy()
            values[f"new_{key}"] = new.copy()
            for idx in np.ndindex(arr.shape):
                sym = ("w" if local == "weight" else local[0]) + "".join(sub(t) for t in idx)
                lines.append(f"Δ{sym} = {MINUS}{fmt(learning_rate)}·{_p(layer.grads[local][idx])}"
                             f" = {fmt(d[idx])};  {sym}: {fmt(arr[idx], 6)} → {fmt(new[idx], 6)}")
        if isinstance(layer, Dense):
            weights[col] = values["new_W"]
            what = f"Dense layer {dense_index[id(layer)] + 1}"
        else:
            what = f"the {layer.label} layer"
        text = (f"Gradient descent moves every parameter of {what} a small step against its "
                f"gradient: Δw = {MINUS}α·∂E/∂w with learning rate α = {fmt(learning_rate)}.\n\n"
                + "\n".join(_limit(lines)))
        add("update", layer.name, f"Update: new weights of {what}", text, values,
            (col - 1, col) if isinstance(layer, Dense) else (col,),
            col if isinstance(layer, Dense) else None)
    return stages


__all__ = ["ACTIVATION_FORMULAS", "LOSS_WORDS", "MAX_LINES", "STAGE_KINDS", "ActivationFormulas",
           "LossWorking", "Stage",
           "column_of_layers", "column_widths", "first_batch", "fmt", "sub", "walk_step"]
