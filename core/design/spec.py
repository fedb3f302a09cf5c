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
from typing import Any

from core.design.fields import FieldInfo, field_infos, parse_fields, setting, show_value
from core.design.image_specs import (
    AvgPool2DSpec,
    Conv2DSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    MaxPool2DSpec,
)
from core.design.layer_specs import (
    MAX_UNITS,
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    LayerSpec,
    ResidualSpec,
)
from core.design.shapes import Shape, ShapeError, is_image, shape_words, size
from core.engine.activations import ACTIVATIONS
from core.engine.blowup import BLOW_UP_ACTIONS
from core.engine.initializers import INITIALIZERS
from core.engine.losses import LOSSES
from core.engine.optimizers import OPTIMIZERS
from core.engine.schedules import SCHEDULES
from core.errors import DesignError, LayerPath, Problem, layer_problem

DESIGN_FORMAT = "backprop-studio-design"
DESIGN_VERSION = 1
MAX_DEPTH = 8  # nesting of residual blocks
MAX_LAYERS = 1_000


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class LayerKindInfo:
    """One layer kind as the palette shows it (``kind`` and ``label`` come from its spec)."""

    spec: type[LayerSpec]
    description: str
    container: bool = False

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def label(self) -> str:
        return self.spec.label


LAYER_KINDS: dict[str, LayerKindInfo] = {
    k.kind: k
    for k in (
        LayerKindInfo(
            DenseSpec,
            "Every input connects to every neuron through a weight; each neuron sums its "
            "weighted inputs plus a bias. The layer that learns."),
        LayerKindInfo(
            ActivationSpec,
            "Applies a non-linear function (sigmoid, tanh, ReLU...) to each value. Without it "
            "stacked Dense layers collapse into one linear map."),
        LayerKindInfo(
            DropoutSpec,
            "While training, randomly silences a fraction of the values so the network cannot "
            "rely on any one of them: a cure for overfitting."),
        LayerKindInfo(
            BatchNormSpec,
            "Rescales each feature (each channel of an image) to zero mean and unit variance "
            "over the batch, then applies a learned scale and shift: keeps deep networks "
            "trainable and speeds learning."),
        LayerKindInfo(
            ResidualSpec,
            "Adds the block's input to its output (a skip connection), so gradients have a "
            "short path back through deep networks. Drop layers inside it.", container=True),
        LayerKindInfo(
            Conv2DSpec,
            "Slides small filters over the image; each filter's weights are shared by every "
            "position, so it finds its pattern (an edge, a curve) wherever it is, with few "
            "weights. Outputs one feature map per filter."),
        LayerKindInfo(
            MaxPool2DSpec,
            "Keeps the largest value in each small window of every feature map: the strongest "
            "response nearby. Halves the height and width with a 2×2 window."),
        LayerKindInfo(
            AvgPool2DSpec,
            "Keeps the mean of each small window of every feature map: a smoothed, smaller "
            "map."),
        LayerKindInfo(
            FlattenSpec,
            "Lays an image's channels, rows and columns out as one long row of features, so "
            "Dense layers can follow."),
        LayerKindInfo(
            GlobalAvgPoolSpec,
            "Averages each feature map over the whole image: one number per channel, however "
            "large the image. A light way to end a conv net before the Dense output layer."),
    )
}


# -------------------------------------------------------------------------- network


@dataclass(frozen=True)
class NetworkSpec:
    """The network: its input and ordered layers (input to output).

    ``input_shape`` is ``(C, H, W)`` when the data are images (then ``inputs`` is C·H·W,
    the values of one flat data row) and empty when they are features. Both are set from
    the dataset (``core.design.edit.fit_to_data``); ``in_shape`` says how layers see it.
    """

    inputs: int = setting(2, FieldInfo("Inputs", "Features per sample; set by the dataset.",
                                  "int", 1, MAX_UNITS))
    layers: tuple[LayerSpec, ...] = ()
    default_init: str = setting("glorot_uniform", FieldInfo(
        "Default initialiser", "Initialiser for Dense and Conv2D layers that say 'default'.",
        "choice", choices=lambda: INITIALIZERS))
    input_shape: tuple[int, ...] = ()

    @property
    def in_shape(self) -> Shape:
        """The shape of one input sample as the layers see it: the image ``input_shape``
        when some layer takes images, else ``(inputs,)`` (a Dense network reads the
        same pixels as features)."""
        return self.input_shape if self.input_shape and self.uses_images() else (self.inputs,)

    def layer_shapes(self) -> list[Shape]:
        """The output shape of each top-level layer; ``ShapeError`` from the first layer that
        cannot take its input (``validate()`` says which)."""
        shapes, shape = [], self.in_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
            shapes.append(shape)
        return shapes

    @property
    def out_shape(self) -> Shape:
        """The shape of one output sample."""
        shapes = self.layer_shapes()
        return shapes[-1] if shapes else self.in_shape

    @property
    def outputs(self) -> int:
        """Number of values the network outputs per sample."""
        return size(self.out_shape)

    def uses_images(self) -> bool:
        """Whether any layer (inside blocks too) only takes images."""
        return _any_image_layer(self.layers)

    def parameter_count(self) -> int:
        """Total learnable parameters."""
        shape, total = self.in_shape, 0
        for layer in self.layers:
            total += layer.parameters_for(shape)
            shape = layer.output_shape(shape)
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
        shape_ok = not problems
        if self.input_shape and shape_ok and size(self.input_shape) != self.inputs:
            problems.append(Problem("input_shape", f"the input, {shape_words(self.input_shape)}, "
                                    f"has {size(self.input_shape)} values but the network "
                                    f"takes {self.inputs} inputs", field="input_shape"))
            shape_ok = False
        out = _validate_layers(self.layers, self.in_shape if shape_ok else None, (), problems)
        if out is not None and is_image(out) and self.layers:
            problems.append(layer_problem(
                (len(self.layers) - 1,), "", f"the network ends with {shape_words(out)}; add "
                "a Flatten (or GlobalAvgPool) and a Dense layer for one output per class or "
                "target", root="layers"))
        try:
            no_params = bool(self.layers) and self.parameter_count() == 0
        except (TypeError, ShapeError):  # a malformed layer, already reported above
            no_params = False
        if no_params:
            problems.append(Problem("layers", "the network has no learnable parameters; add a "
                                              "Dense layer", layer=()))
        return problems

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"inputs": self.inputs}
        if self.input_shape:
            d["input_shape"] = list(self.input_shape)
        d["default_init"] = self.default_init
        d["layers"] = [layer.to_dict() for layer in self.layers]
        return d

    @classmethod
    def from_dict(cls, d: Any, path: str = "network") -> NetworkSpec:
        """Parse a network dict (as in a design file); ``DesignError`` lists every problem."""
        problems: list[Problem] = []
        spec = _parse_network(d, path, problems)
        if problems or spec is None:
            raise DesignError(problems)
        return spec


def _any_image_layer(layers: tuple[LayerSpec, ...]) -> bool:
    return any(layer.needs_image or (isinstance(layer, ResidualSpec)
                                     and _any_image_layer(layer.layers)) for layer in layers)


def _validate_layers(layers: tuple[LayerSpec, ...], shape: Shape | None, parent: LayerPath,
                     problems: list[Problem]) -> Shape | None:
    """Check ``layers`` (the children of the block at ``parent``; ``()``: the network's),
    adding each problem located at its layer and field; returns the output shape (None
    when unknown: ``shape`` None, or a layer that cannot take its input or is malformed)."""
    def add(layer: LayerPath, field: str, message: str, fix: str = "") -> None:
        problems.append(layer_problem(layer, field, message, root="layers", fix=fix))

    for i, layer in enumerate(layers):
        here = (*parent, i)
        malformed = False  # a bad field: its shape may still be computable (units 0)
        for name, info in field_infos(layer).items():
            why = info.check(getattr(layer, name))
            if why:
                add(here, name, why)
                malformed = True
        if (isinstance(layer, ActivationSpec) and isinstance(layer.function, str)
                and layer.function in ACTIVATIONS
                and ACTIVATIONS[layer.function].output_only
                and not (not parent and i == len(layers) - 1)):
            add(here, "function",
                f"{ACTIVATIONS[layer.function].label} is only allowed as the last layer")
        if isinstance(layer, ResidualSpec):
            if len(here) > MAX_DEPTH:
                add(here, "", f"residual blocks nested deeper than {MAX_DEPTH}")
                return None
            if not layer.layers:
                add(here, "layers", "the residual block is empty; drop layers inside it")
            out = _validate_layers(layer.layers, shape, here, problems)
            if shape is not None and out is not None and out != shape:
                try:
                    layer.output_shape(shape)
                except ShapeError as e:
                    add(here, e.field, e.message, e.fix)
                    out = None
                except Exception:  # a malformed child, reported above
                    out = None
            shape = out
        elif shape is not None:
            try:
                shape = layer.output_shape(shape)
            except ShapeError as e:
                if not malformed:  # else the field's own problem says enough
                    add(here, e.field, e.message, e.fix)
                shape = None
            except Exception:  # a malformed field (wrong type, zero stride), reported above
                shape = None
    return shape


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
    shape = _parse_input_shape(d.get("input_shape", []), f"{path}.input_shape", problems)
    rest = {k: v for k, v in d.items() if k not in ("layers", "input_shape")}
    net = parse_fields(NetworkSpec, rest, path, problems, skip=())
    if net is None or layers is None or shape is None:
        return None
    return dataclasses.replace(net, layers=layers, input_shape=shape)


def _parse_input_shape(d: Any, path: str, problems: list[Problem]) -> Shape | None:
    """``[C, H, W]`` (or ``[]`` for features) as a tuple, or None with the problem added."""
    ok = isinstance(d, list) and len(d) in (0, 3) and all(
        isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_UNITS for n in d)
    if not ok:
        problems.append(Problem(path, "must be [channels, height, width] with each size from "
                                f"1 to {MAX_UNITS:,}, got {show_value(d)}",
                                field="input_shape"))
        return None
    return tuple(d)


def layer_from_dict(d: Any, path: str = "layer") -> LayerSpec:
    """Parse one layer dict (e.g. from the clipboard or a drag); ``DesignError`` on problems."""
    problems: list[Problem] = []
    layer = _parse_layer(d, path, problems, 0, None)
    if problems or layer is None:
        raise DesignError(problems)
    return layer
