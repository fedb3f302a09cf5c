"""The design: a network and its training settings as plain, frozen, serialisable data.

This is what the user edits, undoes, saves and loads. Layer kinds, activations, losses,
optimizers, initialisers and schedules are names looked up in fixed tables; nothing in a
design is ever imported or evaluated. Each field carries a ``FieldInfo``
(``core.design.fields``: label, range, choices, help) so ``from_dict``, ``validate()``
and the GUI's editors share one set of rules.

Two levels of checking:
- ``from_dict`` rejects what cannot be a design at all (wrong JSON types, unknown kinds
  or keys, values outside a field's range) with a ``DesignError`` listing every problem.
- ``validate()`` lists problems of a well-formed design that make it untrainable (shape
  mismatches, a loss that does not fit the output layer). An editor may hold and save
  such a design while it is being built; ``build_network`` refuses it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from core.design.fields import FieldInfo, field_infos, parse_fields, setting, show_value
from core.engine.activations import ACTIVATIONS
from core.engine.blowup import BLOW_UP_ACTIONS
from core.engine.initializers import INITIALIZERS
from core.engine.losses import LOSSES
from core.engine.optimizers import OPTIMIZERS
from core.engine.schedules import SCHEDULES
from core.errors import DesignError, LayerPath, Problem, layer_problem

DESIGN_FORMAT = "backprop-studio-design"
DESIGN_VERSION = 1
MAX_UNITS = 100_000
MAX_DEPTH = 8  # nesting of residual blocks
MAX_LAYERS = 1_000


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class LayerSpec:
    """Base of every layer spec. ``kind`` is the name in the design file."""

    kind: ClassVar[str] = ""

    def output_features(self, n_in: int) -> int:
        """Number of features this layer outputs for ``n_in`` input features."""
        return n_in

    def parameter_count(self, n_in: int) -> int:
        """Number of learnable parameters for ``n_in`` input features."""
        return 0

    def summary(self) -> str:
        """A few words with the key settings, for cards and logs."""
        return LAYER_KINDS[self.kind].label

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        for name in field_infos(self):
            d[name] = getattr(self, name)
        return d


@dataclass(frozen=True)
class DenseSpec(LayerSpec):
    """A fully connected layer: y = x W + b."""

    kind: ClassVar[str] = "dense"
    units: int = setting(8, FieldInfo("Units", "How many neurons (outputs) the layer has.", "int",
                                 1, MAX_UNITS))
    bias: bool = setting(True, FieldInfo("Bias", "Add a learnable offset b to every output.",
                                    "bool"))
    init: str = setting("default", FieldInfo(
        "Initialiser", "How the weights are drawn before training; 'default' uses the "
        "network's default initialiser.", "choice",
        choices=lambda: {"default": None, **INITIALIZERS}))
    gain: float = setting(1.0, FieldInfo(
        "Init gain", "Multiplies the initial weights. Large gains make gradients explode in "
        "deep networks; small ones make them vanish.", "float", 0.0, 1e6, exclusive_min=True,
        log=True))

    def output_features(self, n_in: int) -> int:
        return self.units

    def parameter_count(self, n_in: int) -> int:
        return n_in * self.units + (self.units if self.bias else 0)

    def summary(self) -> str:
        return f"Dense {self.units}"


@dataclass(frozen=True)
class ActivationSpec(LayerSpec):
    """An element-wise activation function."""

    kind: ClassVar[str] = "activation"
    function: str = setting("relu", FieldInfo("Function", "The non-linearity applied to every "
                                         "input.", "choice", choices=lambda: ACTIVATIONS))

    def summary(self) -> str:
        known = isinstance(self.function, str) and self.function in ACTIVATIONS
        return ACTIVATIONS[self.function].label if known else "?"


@dataclass(frozen=True)
class DropoutSpec(LayerSpec):
    """Inverted dropout: zero a random fraction of inputs while training."""

    kind: ClassVar[str] = "dropout"
    rate: float = setting(0.2, FieldInfo("Rate", "Fraction of inputs set to zero at each training "
                                    "step (none at evaluation).", "float", 0.0, 0.99))

    def summary(self) -> str:
        return f"Dropout {self.rate:g}"


@dataclass(frozen=True)
class BatchNormSpec(LayerSpec):
    """Batch normalisation with learnable scale and shift."""

    kind: ClassVar[str] = "batchnorm"
    momentum: float = setting(0.9, FieldInfo(
        "Momentum", "How slowly the running mean and variance (used at evaluation) follow "
        "each batch's: running = momentum x running + (1 - momentum) x batch.", "float",
        0.0, 1.0))
    epsilon: float = setting(1e-5, FieldInfo("Epsilon", "Added to the variance before the square "
                                        "root, so it never divides by zero.", "float", 0.0,
                                        1.0, exclusive_min=True, log=True))

    def parameter_count(self, n_in: int) -> int:
        return 2 * n_in

    def summary(self) -> str:
        return "BatchNorm"


@dataclass(frozen=True)
class ResidualSpec(LayerSpec):
    """A block of layers whose output is added to the block's input (a skip connection)."""

    kind: ClassVar[str] = "residual"
    layers: tuple[LayerSpec, ...] = ()
    projection: bool = setting(False, FieldInfo(
        "Projection", "When the block changes the number of features, pass the input through "
        "a learned linear map (no bias) so it can still be added.", "bool"))

    def output_features(self, n_in: int) -> int:
        n = n_in
        for layer in self.layers:
            n = layer.output_features(n)
        return n

    def parameter_count(self, n_in: int) -> int:
        n, total = n_in, 0
        for layer in self.layers:
            total += layer.parameter_count(n)
            n = layer.output_features(n)
        if self.projection and n != n_in:
            total += n_in * n
        return total

    def summary(self) -> str:
        return f"Residual ({len(self.layers)} layers)"

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["layers"] = [layer.to_dict() for layer in self.layers]
        return d


@dataclass(frozen=True)
class LayerKindInfo:
    """One layer kind as the palette shows it."""

    kind: str
    label: str
    description: str
    spec: type[LayerSpec]
    container: bool = False


LAYER_KINDS: dict[str, LayerKindInfo] = {
    k.kind: k
    for k in (
        LayerKindInfo(
            "dense", "Dense",
            "Every input connects to every neuron through a weight; each neuron sums its "
            "weighted inputs plus a bias. The layer that learns.", DenseSpec),
        LayerKindInfo(
            "activation", "Activation",
            "Applies a non-linear function (sigmoid, tanh, ReLU...) to each value. Without it "
            "stacked Dense layers collapse into one linear map.", ActivationSpec),
        LayerKindInfo(
            "dropout", "Dropout",
            "While training, randomly silences a fraction of the values so the network cannot "
            "rely on any one of them: a cure for overfitting.", DropoutSpec),
        LayerKindInfo(
            "batchnorm", "BatchNorm",
            "Rescales each feature to zero mean and unit variance over the batch, then applies "
            "a learned scale and shift: keeps deep networks trainable and speeds learning.",
            BatchNormSpec),
        LayerKindInfo(
            "residual", "Residual block",
            "Adds the block's input to its output (a skip connection), so gradients have a "
            "short path back through deep networks. Drop layers inside it.", ResidualSpec,
            container=True),
    )
}


# -------------------------------------------------------------------------- network


@dataclass(frozen=True)
class NetworkSpec:
    """The network: its input size and ordered layers (input to output)."""

    inputs: int = setting(2, FieldInfo("Inputs", "Features per sample; set by the dataset.",
                                  "int", 1, MAX_UNITS))
    layers: tuple[LayerSpec, ...] = ()
    default_init: str = setting("glorot_uniform", FieldInfo(
        "Default initialiser", "Initialiser for Dense layers that say 'default'.", "choice",
        choices=lambda: INITIALIZERS))

    @property
    def outputs(self) -> int:
        """Number of features the network outputs."""
        n = self.inputs
        for layer in self.layers:
            n = layer.output_features(n)
        return n

    def parameter_count(self) -> int:
        """Total learnable parameters."""
        n, total = self.inputs, 0
        for layer in self.layers:
            total += layer.parameter_count(n)
            n = layer.output_features(n)
        return total

    def final_activation(self) -> str | None:
        """The function of the last layer if it is an Activation, else None."""
        if self.layers and isinstance(self.layers[-1], ActivationSpec):
            return self.layers[-1].function
        return None

    def validate(self) -> list[Problem]:
        """Every problem that makes this network untrainable, each with its location."""
        problems: list[Problem] = []
        if not self.layers:
            problems.append(Problem("layers", "the network has no layers; add at least one "
                                              "Dense layer", layer=()))
        for name, info in field_infos(self).items():
            why = info.check(getattr(self, name))
            if why:
                problems.append(Problem(name, why, field=name))
        _validate_layers(self.layers, self.inputs, (), problems)
        try:
            no_params = bool(self.layers) and self.parameter_count() == 0
        except TypeError:  # a width of the wrong type, already reported above
            no_params = False
        if no_params:
            problems.append(Problem("layers", "the network has no learnable parameters; add a "
                                              "Dense layer", layer=()))
        return problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "default_init": self.default_init,
            "layers": [layer.to_dict() for layer in self.layers],
        }

    @classmethod
    def from_dict(cls, d: Any, path: str = "network") -> NetworkSpec:
        """Parse a network dict (as in a design file); ``DesignError`` lists every problem."""
        problems: list[Problem] = []
        spec = _parse_network(d, path, problems)
        if problems or spec is None:
            raise DesignError(problems)
        return spec


def _validate_layers(layers: tuple[LayerSpec, ...], n_in: int, parent: LayerPath,
                     problems: list[Problem]) -> int:
    """Check ``layers`` (the children of the block at ``parent``; ``()``: the network's),
    adding each problem located at its layer and field; returns the output width."""
    def add(layer: LayerPath, field: str, message: str) -> None:
        problems.append(layer_problem(layer, field, message, root="layers"))

    n = n_in
    for i, layer in enumerate(layers):
        here = (*parent, i)
        for name, info in field_infos(layer).items():
            why = info.check(getattr(layer, name))
            if why:
                add(here, name, why)
        if (isinstance(layer, ActivationSpec) and isinstance(layer.function, str)
                and layer.function in ACTIVATIONS
                and ACTIVATIONS[layer.function].output_only
                and not (not parent and i == len(layers) - 1)):
            add(here, "function",
                f"{ACTIVATIONS[layer.function].label} is only allowed as the last layer")
        if isinstance(layer, ResidualSpec):
            if len(here) > MAX_DEPTH:
                add(here, "", f"residual blocks nested deeper than {MAX_DEPTH}")
                return n
            if not layer.layers:
                add(here, "layers", "the residual block is empty; drop layers inside it")
            out = _validate_layers(layer.layers, n, here, problems)
            if out != n and not layer.projection:
                add(here, "", f"the block outputs {out} features but its input has {n}; they "
                              "must match to be added (make them equal, or turn on projection)")
            n = out
        else:
            n = layer.output_features(n)
    return n


# ------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainConfig:
    """Training settings: loss, optimizer, schedule, regularisation, stopping, seed."""

    loss: str = setting("mse", FieldInfo("Loss", "How the error E between prediction and target "
                                    "is measured.", "choice", choices=lambda: LOSSES))
    optimizer: str = setting("sgd", FieldInfo("Optimizer", "How gradients turn into weight "
                                         "updates.", "choice", choices=lambda: OPTIMIZERS))
    learning_rate: float = setting(0.1, FieldInfo(
        "Learning rate", "α in Δw = -α ∂E/∂w. Too high and the loss jumps around or "
        "explodes; too low and learning crawls.", "float", 0.0, 1e4, exclusive_min=True,
        log=True))
    momentum: float = setting(0.9, FieldInfo("Momentum", "How much of the previous update carries "
                                        "into the next (momentum optimizer).", "float", 0.0,
                                        0.9999))
    nesterov: bool = setting(False, FieldInfo("Nesterov", "Evaluate the gradient one step ahead "
                                         "(momentum optimizer).", "bool"))
    beta1: float = setting(0.9, FieldInfo("Beta 1", "Decay of Adam's running mean of gradients.",
                                     "float", 0.0, 0.9999))
    beta2: float = setting(0.999, FieldInfo("Beta 2", "Decay of Adam's running mean of squared "
                                       "gradients.", "float", 0.0, 0.99999))
    rho: float = setting(0.9, FieldInfo("Rho", "Decay of RMSprop's running mean of squared "
                                   "gradients.", "float", 0.0, 0.99999))
    epsilon: float = setting(1e-8, FieldInfo("Epsilon", "Keeps Adam and RMSprop from dividing by "
                                        "zero.", "float", 0.0, 1.0, exclusive_min=True,
                                        log=True))
    batch_size: int = setting(32, FieldInfo("Batch size", "Samples per gradient step (mini-batch)."
                                       , "int", 1, 1_000_000))
    epochs: int = setting(100, FieldInfo("Epochs", "Passes over the whole training set.", "int", 1,
                                    10_000_000))
    l2: float = setting(0.0, FieldInfo("L2", "Weight decay: adds l2/2 x sum(w²) to the loss, "
                                  "pulling weights towards zero against overfitting.", "float",
                                  0.0, 100.0))
    l1: float = setting(0.0, FieldInfo("L1", "Adds l1 x sum(|w|) to the loss: drives unneeded "
                                  "weights to exactly zero.", "float", 0.0, 100.0))
    clip_norm: float = setting(0.0, FieldInfo(
        "Clip norm", "Rescale the whole gradient when its L2 norm exceeds this (0: off). "
        "A cure for exploding gradients.", "float", 0.0, 1e9))
    clip_value: float = setting(0.0, FieldInfo("Clip value", "Clip every gradient element to ± "
                                          "this (0: off).", "float", 0.0, 1e9))
    schedule: str = setting("constant", FieldInfo("LR schedule", "How the learning rate changes "
                                             "over the epochs.", "choice",
                                             choices=lambda: SCHEDULES))
    step_size: int = setting(10, FieldInfo("Step size", "Epochs between decays (step schedule).",
                                      "int", 1, 1_000_000))
    gamma: float = setting(0.5, FieldInfo("Gamma", "Decay factor (step and exponential "
                                     "schedules).", "float", 0.0, 1.0, exclusive_min=True))
    target_loss: float = setting(0.0, FieldInfo("Target loss", "Stop when the training loss falls "
                                           "below this (0: off).", "float", 0.0, 1e9))
    patience: int = setting(0, FieldInfo("Patience", "Stop early after this many epochs without a "
                                    "better validation loss (0: off).", "int", 0, 1_000_000))
    restore_best: bool = setting(True, FieldInfo("Restore best", "When stopping early, go back to "
                                            "the weights with the best validation loss.",
                                            "bool"))
    blow_up: str = setting("stop", FieldInfo(
        "Loss blow-up", "When the smoothed loss stays above 100× its starting value for 20 "
        "steps the run is diverging, even with every number still finite: stop it, warn, "
        "or do nothing.", "choice", choices=lambda: BLOW_UP_ACTIONS))
    seed: int = setting(0, FieldInfo("Seed", "Fixes the initial weights, dropout masks and "
                                "shuffling: the same seed gives the same run.", "int", 0,
                                2**32 - 1))
    dtype: str = setting("float32", FieldInfo("Precision", "float32 is faster; float64 is exact "
                                         "enough for gradient checks.", "choice",
                                         choices=lambda: {"float32": None, "float64": None}))

    def validate(self) -> list[Problem]:
        """Every out-of-range or unknown setting, each with its field name."""
        return [
            Problem(name, why, field=name)
            for name, info in field_infos(self).items()
            if (why := info.check(getattr(self, name)))
        ]

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in field_infos(self)}

    @classmethod
    def from_dict(cls, d: Any, path: str = "training") -> TrainConfig:
        """Parse training settings; ``DesignError`` lists every problem."""
        problems: list[Problem] = []
        cfg = parse_fields(cls, d, path, problems, skip=())
        if problems or cfg is None:
            raise DesignError(problems)
        return cfg


# --------------------------------------------------------------------------- design


@dataclass(frozen=True)
class Design:
    """A whole design file: the network, its training settings and (optionally) the dataset
    choice as a plain dict (checked by ``core.datasets``)."""

    network: NetworkSpec = NetworkSpec()
    training: TrainConfig = TrainConfig()
    dataset: Mapping[str, Any] | None = None
    name: str = ""

    def validate(self, task: str | None = None) -> list[Problem]:
        """Problems of the network, the settings, and how they fit together.

        ``task`` ("classification"/"regression"), when known, also checks the loss fits it.
        """
        problems = [p.under("network") for p in self.network.validate()]
        problems += [p.under("training") for p in self.training.validate()]
        loss = LOSSES.get(self.training.loss) if isinstance(self.training.loss, str) else None
        if loss is None or not self.network.layers:
            return problems
        final = self.network.final_activation()
        try:
            outputs = self.network.outputs
        except Exception:  # a malformed layer already reported above
            return problems

        def about_loss(message: str) -> None:
            problems.append(Problem("training.loss", message, field="loss"))

        if loss.fused_activation and final != loss.fused_activation:
            act = ACTIVATIONS[loss.fused_activation].label
            about_loss(f"{loss.label} needs a final {act} Activation layer; the last layer "
                       f"is {_layer_words(self)}")
        if loss.one_hot and outputs < 2:
            about_loss(f"{loss.label} needs at least 2 outputs (one per class); the network "
                       f"has {outputs}")
        final_info = ACTIVATIONS.get(final) if isinstance(final, str) else None
        if final_info is not None and final_info.joint and not loss.one_hot and outputs < 2:
            problems.append(layer_problem(
                (len(self.network.layers) - 1,), "function",
                f"a {final_info.label.lower()} over 1 output is always 1; use sigmoid for a "
                "single yes/no output"))
        if task is not None and task not in loss.tasks:
            about_loss(f"{loss.label} does not fit a {task} dataset; use mean squared error")
        return problems

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"format": DESIGN_FORMAT, "version": DESIGN_VERSION}
        if self.name:
            d["name"] = self.name
        d["network"] = self.network.to_dict()
        d["training"] = self.training.to_dict()
        if self.dataset is not None:
            d["dataset"] = dict(self.dataset)
        return d

    @classmethod
    def from_dict(cls, d: Any) -> Design:
        """Parse a design file's JSON object; ``DesignError`` lists every problem."""
        problems: list[Problem] = []
        if not isinstance(d, dict):
            raise DesignError(Problem("", f"a design must be a JSON object, got {show_value(d)}"))
        fmt, version = d.get("format"), d.get("version")
        if fmt != DESIGN_FORMAT:
            raise DesignError(Problem("format", f"not a Backprop Studio design (format is "
                                      f"{show_value(fmt)}, expected {DESIGN_FORMAT!r})"))
        if isinstance(version, bool) or not isinstance(version, int):
            raise DesignError(Problem("version", f"must be an integer, got {show_value(version)}"))
        if version > DESIGN_VERSION or version < 1:
            raise DesignError(Problem("version", f"unknown format version {version}; this "
                                      f"program reads version {DESIGN_VERSION} (a newer "
                                      "Backprop Studio may have written it)"))
        for key in d:
            if key not in ("format", "version", "name", "network", "training", "dataset"):
                problems.append(Problem(key, "unknown key"))
        name = d.get("name", "")
        if not isinstance(name, str):
            problems.append(Problem("name", f"must be a string, got {show_value(name)}"))
            name = ""
        network = _parse_network(d.get("network"), "network", problems)
        training = (parse_fields(TrainConfig, d["training"], "training", problems, skip=())
                    if "training" in d else TrainConfig())
        dataset = d.get("dataset")
        if dataset is not None and not isinstance(dataset, dict):
            problems.append(Problem("dataset", f"must be an object, got {show_value(dataset)}"))
        if problems or network is None or training is None:
            raise DesignError(problems)
        return cls(network, training, dataset, name)


def _layer_words(design: Design) -> str:
    last = design.network.layers[-1]
    if isinstance(last, ActivationSpec):
        return f"a {last.summary()} Activation"
    return f"a {LAYER_KINDS[last.kind].label} layer"


# -------------------------------------------------------------------------- parsing


def _parse_layer(d: Any, path: str, problems: list[Problem], depth: int,
                 at: LayerPath | None) -> LayerSpec | None:
    """One layer object located at ``path`` (and, inside a network, at layer ``at``)."""
    if not isinstance(d, dict):
        problems.append(Problem(path, f"a layer must be an object, got {show_value(d)}", at))
        return None
    kind = d.get("kind")
    info = LAYER_KINDS.get(kind) if isinstance(kind, str) else None
    if info is None:
        problems.append(Problem(f"{path}.kind", f"unknown layer kind {show_value(kind)}; "
                                f"choose one of {', '.join(LAYER_KINDS)}", at, "kind"))
        return None
    if info.spec is ResidualSpec:
        if depth >= MAX_DEPTH:
            problems.append(Problem(path, f"residual blocks nested deeper than {MAX_DEPTH}",
                                    at))
            return None
        children = _parse_layer_list(d.get("layers", []), f"{path}.layers", problems,
                                     depth + 1, at)
        rest = {k: v for k, v in d.items() if k != "layers"}
        block = parse_fields(ResidualSpec, rest, path, problems, layer=at)
        if block is None or children is None:
            return None
        return dataclasses.replace(block, layers=children)
    return parse_fields(info.spec, d, path, problems, layer=at)


def _parse_layer_list(d: Any, path: str, problems: list[Problem], depth: int,
                      parent: LayerPath | None) -> tuple[LayerSpec, ...] | None:
    """The layer list at ``path``: the children of the layer ``parent`` (``()``: the
    network's own list; None: not inside a network)."""
    if not isinstance(d, list):
        problems.append(Problem(path, f"must be a list of layers, got {show_value(d)}",
                                parent))
        return None
    if len(d) > MAX_LAYERS:
        problems.append(Problem(path, f"{len(d)} layers is more than the limit of "
                                f"{MAX_LAYERS}", parent))
        return None
    parsed = [_parse_layer(item, f"{path}[{i}]", problems, depth,
                           None if parent is None else (*parent, i))
              for i, item in enumerate(d)]
    if any(p is None for p in parsed):
        return None
    return tuple(p for p in parsed if p is not None)


def _parse_network(d: Any, path: str, problems: list[Problem]) -> NetworkSpec | None:
    if not isinstance(d, dict):
        problems.append(Problem(path, f"must be an object with inputs and layers, got "
                                f"{show_value(d)}"))
        return None
    layers = _parse_layer_list(d.get("layers", []), f"{path}.layers", problems, 0, ())
    rest = {k: v for k, v in d.items() if k != "layers"}
    net = parse_fields(NetworkSpec, rest, path, problems, skip=())
    if net is None or layers is None:
        return None
    return dataclasses.replace(net, layers=layers)


def layer_from_dict(d: Any, path: str = "layer") -> LayerSpec:
    """Parse one layer dict (e.g. from the clipboard or a drag); ``DesignError`` on problems."""
    problems: list[Problem] = []
    layer = _parse_layer(d, path, problems, 0, None)
    if problems or layer is None:
        raise DesignError(problems)
    return layer
