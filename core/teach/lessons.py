"""The seed's lessons: each claim of the backpropagation text as runnable experiments.

``LESSONS`` maps a key to a :class:`Lesson`: the claim quoted from the seed text, a short
plain-words explanation for a side panel, and a few :class:`LessonVariant` designs that
differ in one setting (a learning rate, an activation, a remedy). :func:`run_variant`
trains one variant headless through :class:`core.training.trainer.Trainer` and returns a
:class:`LessonResult` with the epoch histories, the first/last layer gradient norms of
every step and how the run ended; the GUI shows these, the tests assert the effects.
Every design is small enough to train in a few seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.datasets import DatasetSpec, load_dataset
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    LayerSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.training.trainer import EpochSnapshot, RunEnd, StepSnapshot, Trainer

__all__ = [
    "LESSONS",
    "Lesson",
    "LessonResult",
    "LessonVariant",
    "run_variant",
]


@dataclass(frozen=True)
class LessonVariant:
    """One runnable experiment of a lesson: a complete design (dataset included)."""

    name: str
    design: Design
    note: str


@dataclass(frozen=True)
class Lesson:
    """One claim of the seed text and the experiments that show it."""

    key: str
    title: str
    claim: str
    explanation: str
    variants: tuple[LessonVariant, ...]

    def variant(self, name: str) -> LessonVariant:
        """The variant called ``name``; ``KeyError`` names the choices."""
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(f"no variant {name!r}; choose one of "
                       f"{', '.join(v.name for v in self.variants)}")


@dataclass(frozen=True)
class LessonResult:
    """What one training run of a variant measured.

    ``epochs`` holds one snapshot per finished epoch. ``first_grad``/``last_grad`` are the
    gradient norms of the first and last layer with parameters (``layer_names[0]`` and
    ``layer_names[-1]``) at every step, before clipping. ``steps_per_epoch`` counts the
    steps of the first epoch (0 if it never finished).
    """

    variant: str
    epochs: tuple[EpochSnapshot, ...]
    first_grad: tuple[float, ...]
    last_grad: tuple[float, ...]
    step_losses: tuple[float, ...]
    layer_names: tuple[str, ...]
    steps_per_epoch: int
    n_train: int
    batch_size: int
    end: RunEnd

    @property
    def reason(self) -> str:
        return self.end.reason

    @property
    def diverged(self) -> bool:
        return self.end.reason == "diverged"

    @property
    def train_losses(self) -> tuple[float, ...]:
        return tuple(e.train_loss for e in self.epochs)

    @property
    def val_losses(self) -> tuple[float, ...]:
        return tuple(e.val_loss for e in self.epochs)

    @property
    def val_metrics(self) -> tuple[float, ...]:
        return tuple(e.val_metric for e in self.epochs)

    @property
    def final_train_loss(self) -> float:
        """Training loss after the last finished epoch (inf if none finished)."""
        return self.epochs[-1].train_loss if self.epochs else math.inf

    @property
    def final_val_loss(self) -> float:
        return self.epochs[-1].val_loss if self.epochs else math.inf

    @property
    def final_val_metric(self) -> float:
        return self.epochs[-1].val_metric if self.epochs else math.nan

    @property
    def best_val_loss(self) -> float:
        return min(self.val_losses, default=math.inf)

    @property
    def gap(self) -> float:
        """Final validation loss minus final training loss: the overfitting gap."""
        return self.final_val_loss - self.final_train_loss

    def epochs_to(self, loss: float) -> int | None:
        """First epoch (1-based) whose training loss is at most ``loss``; None if never."""
        for e in self.epochs:
            if e.train_loss <= loss:
                return e.epoch
        return None

    def grad_ratio(self, steps: int | None = None) -> float:
        """Median over the first ``steps`` steps (all if None) of first-layer / last-layer
        gradient norm: about 1 when the gradient reaches the input layer intact, tiny when
        it vanishes on the way back."""
        first = np.asarray(self.first_grad[:steps], dtype=np.float64)
        last = np.asarray(self.last_grad[:steps], dtype=np.float64)
        ok = np.isfinite(first) & np.isfinite(last) & (last > 0)
        if not np.any(ok):
            return math.nan
        return float(np.median(first[ok] / last[ok]))


def run_variant(variant: LessonVariant, epochs: int | None = None,
                seed: int | None = None) -> LessonResult:
    """Train ``variant`` headless and return what it measured.

    ``epochs`` overrides the design's epoch count; ``seed`` overrides both the training
    seed (initial weights, shuffling, dropout) and the dataset's seed. Runs that blow up
    are expected in some lessons: floating-point overflow is silenced here and the run
    ends with reason ``diverged``.
    """
    design = variant.design
    training = design.training
    if epochs is not None:
        training = replace(training, epochs=epochs)
    dataset_dict: dict[str, Any] = dict(design.dataset or {})
    if seed is not None:
        training = replace(training, seed=seed)
        if dataset_dict.get("kind") in ("synthetic", "builtin"):
            dataset_dict["seed"] = seed
    design = replace(design, training=training, dataset=dataset_dict)
    data = load_dataset(DatasetSpec.from_dict(dataset_dict))
    snaps_epoch: list[EpochSnapshot] = []
    first: list[float] = []
    last: list[float] = []
    losses: list[float] = []
    end: RunEnd | None = None
    steps_per_epoch = 0
    with np.errstate(over="ignore", invalid="ignore"):
        trainer = Trainer(design, data, detail_every=1)
        for snap in trainer.run():
            if isinstance(snap, StepSnapshot):
                losses.append(snap.loss)
                if snap.grad_norms:
                    first.append(snap.grad_norms[0])
                    last.append(snap.grad_norms[-1])
                if snap.epoch == 0:
                    steps_per_epoch = snap.step
            elif isinstance(snap, EpochSnapshot):
                snaps_epoch.append(snap)
            elif isinstance(snap, RunEnd):
                end = snap
    assert end is not None
    return LessonResult(
        variant.name, tuple(snaps_epoch), tuple(first), tuple(last), tuple(losses),
        trainer.layer_names, steps_per_epoch if snaps_epoch else 0,
        int(data.x_train.shape[0]), training.batch_size, end)


# ----------------------------------------------------------------- design helpers


def _mlp(inputs: int, hidden: list[int] | tuple[int, ...], outputs: int, activation: str,
         final: str | None, init: str = "default", gain: float = 1.0,
         batchnorm: bool = False, dropout: float = 0.0) -> NetworkSpec:
    layers: list[LayerSpec] = []
    for units in hidden:
        layers.append(DenseSpec(units=units, init=init, gain=gain))
        if batchnorm:
            layers.append(BatchNormSpec())
        layers.append(ActivationSpec(activation))
        if dropout:
            layers.append(DropoutSpec(rate=dropout))
    layers.append(DenseSpec(units=outputs, init=init, gain=gain))
    if final:
        layers.append(ActivationSpec(final))
    return NetworkSpec(inputs=inputs, layers=tuple(layers))


def _residual(inputs: int, width: int, blocks: int, outputs: int, activation: str,
              final: str | None, init: str = "default") -> NetworkSpec:
    layers: list[LayerSpec] = [DenseSpec(units=width, init=init), ActivationSpec(activation)]
    for _ in range(blocks):
        layers.append(ResidualSpec(layers=(DenseSpec(units=width, init=init),
                                           ActivationSpec(activation))))
    layers.append(DenseSpec(units=outputs, init=init))
    if final:
        layers.append(ActivationSpec(final))
    return NetworkSpec(inputs=inputs, layers=tuple(layers))


def _design(name: str, network: NetworkSpec, dataset: DatasetSpec, **training: Any) -> Design:
    return Design(network, TrainConfig(**training), dataset.to_dict(), name)



def _residual_pairs(inputs: int, width: int, blocks: int, outputs: int, activation: str,
                    final: str | None, branch_gain: float = 1.0) -> NetworkSpec:
    """Dense+activation, then ``blocks`` residual blocks of Dense, activation, Dense (the
    second Dense scaled by ``branch_gain`` so each block starts close to the identity)."""
    layers: list[LayerSpec] = [DenseSpec(units=width), ActivationSpec(activation)]
    for _ in range(blocks):
        layers.append(ResidualSpec(layers=(
            DenseSpec(units=width), ActivationSpec(activation),
            DenseSpec(units=width, gain=branch_gain))))
    layers.append(DenseSpec(units=outputs))
    if final:
        layers.append(ActivationSpec(final))
    return NetworkSpec(inputs=inputs, layers=tuple(layers))


def _digits_design() -> Design:
    from core.files.design_file import load_design
    from core.resources import resource_path

    return load_design(resource_path("examples", "digits.json"))


# ------------------------------------------------------------------------ lessons

_BCE = "binary_cross_entropy"


def _lessons() -> dict[str, Lesson]:
    sine = DatasetSpec.synthetic("sine", 200, 0.1, 0, 0.2)
    circle = DatasetSpec.synthetic("circle", 300, 0.1, 0, 0.2)
    blobs = DatasetSpec.synthetic("gaussians", 300, 0.2, 0, 0.2)
    noisy = DatasetSpec.synthetic("gaussians", 80, 1.0, 0, 0.5)
    xor = DatasetSpec.synthetic("xor", 400, 0.1, 0, 0.2)
    tiny = DatasetSpec.synthetic("xor", 40, 0.0, 0, 0.2)

    def lr_variant(name: str, lr: float, note: str) -> LessonVariant:
        net = _mlp(1, [16], 1, "tanh", None)
        return LessonVariant(name, _design(f"Learning rate {lr:g}", net, sine, loss="mse",
                                           optimizer="sgd", learning_rate=lr, batch_size=16,
                                           epochs=60), note)

    def act_variant(act: str, note: str) -> LessonVariant:
        net = _mlp(2, [16], 1, act, "sigmoid")
        return LessonVariant(act, _design(f"{act} hidden layer", net, circle, loss=_BCE,
                                          optimizer="sgd", learning_rate=0.3, batch_size=16,
                                          epochs=100, target_loss=0.2), note)

    deep = dict(loss=_BCE, optimizer="sgd", learning_rate=0.1, batch_size=16, epochs=30)
    explode = dict(loss=_BCE, optimizer="sgd", learning_rate=0.05, batch_size=16, epochs=30)
    overfit = dict(loss=_BCE, optimizer="adam", learning_rate=0.01, batch_size=16, epochs=200)
    bn = dict(loss=_BCE, optimizer="sgd", learning_rate=0.1, batch_size=16, epochs=40)
    res = dict(loss=_BCE, optimizer="sgd", learning_rate=0.1, batch_size=16, epochs=20)
    epochs_kw = dict(loss=_BCE, optimizer="sgd", learning_rate=0.3, epochs=30)

    lessons = [
        Lesson(
            "learning_rate", "Learning rate: too high, too low, just right",
            "“If it’s too high, the network can get lost and never find a good solution. If "
            "it’s too low, the network will learn very slowly and might get stuck in bad "
            "spots instead of finding the best solution.”",
            "The same small network fits a noisy sine curve with plain gradient descent, "
            "Δw = -α ∂E/∂w, at three learning rates α. Watch the loss curve: with α too high "
            "each step overshoots the valley, the loss jumps up instead of down and soon "
            "becomes infinite (the run stops as diverged). With α too low every step is "
            "tiny, so after the same 60 epochs the loss has hardly moved. The good rate "
            "takes steps big enough to make progress but small enough to stay in the "
            "valley, and the loss falls steadily.",
            (lr_variant("too high", 1.0, "α = 1: steps overshoot; the loss blows up."),
             lr_variant("too low", 0.01, "α = 0.01: steps are tiny; learning crawls."),
             lr_variant("good", 0.1, "α = 0.1: the loss falls steadily."))),
        Lesson(
            "activations", "Sigmoid, tanh and ReLU compared",
            "“Sigmoid function: This takes any input and gives an output between 0 and 1 … "
            "ReLU … is great for speeding up training … Tanh … helps center the data and can "
            "make learning faster than using the sigmoid function.”",
            "One hidden layer of 16 neurons learns the circle data three times, identical "
            "except for the hidden activation: same data, same seed, same initial weights "
            "scheme, same learning rate. Each run stops when the training loss reaches 0.2; "
            "compare how many epochs that takes. Sigmoid is slowest: its outputs are all "
            "positive (not centred) and its slope is at most 0.25, so gradients are small. "
            "Tanh is centred with slope up to 1 and learns several times faster; ReLU, "
            "whose slope is exactly 1 wherever it is active, is fastest here.",
            (act_variant("sigmoid", "Slope ≤ 0.25, outputs in (0, 1): slowest."),
             act_variant("tanh", "Centred outputs, slope ≤ 1: faster."),
             act_variant("relu", "Slope 1 where active: fastest here."))),
        Lesson(
            "vanishing_gradients", "Vanishing gradients in a deep sigmoid network",
            "“In very deep networks, gradients can become tiny (close to zero) … There are "
            "ways to deal with this, such as gradient clipping, batch normalization, and "
            "using different network designs like Residual Networks.”",
            "A network of 10 hidden sigmoid layers tries to separate two easy blobs that a "
            "single sigmoid layer learns in a few epochs. Look at the per-layer gradient "
            "norms: on the way back each sigmoid multiplies the gradient by its slope (at "
            "most 0.25), so the first layer gets a gradient about a million times smaller "
            "than the last and the loss stays at chance (0.69). ReLU with He "
            "initialisation (slope 1), batch normalisation (rescales every layer) and "
            "residual connections (a shortcut path for the gradient) each bring the "
            "first-to-last ratio close to 1, and the same depth learns the task.",
            (LessonVariant("deep sigmoid", _design(
                "10 sigmoid layers", _mlp(2, [16] * 10, 1, "sigmoid", "sigmoid"), blobs,
                **deep), "Plain: the gradient fades layer by layer."),
             LessonVariant("relu + he", _design(
                 "10 ReLU layers, He init",
                 _mlp(2, [16] * 10, 1, "relu", "sigmoid", init="he_normal"), blobs, **deep),
                 "ReLU's slope is 1; He init keeps the signal's size."),
             LessonVariant("batch norm", _design(
                 "10 sigmoid layers with BatchNorm",
                 _mlp(2, [16] * 10, 1, "sigmoid", "sigmoid", batchnorm=True), blobs, **deep),
                 "BatchNorm before each sigmoid keeps it in its steep middle."),
             LessonVariant("residual", _design(
                 "Sigmoid residual network",
                 _residual(2, 16, 9, 1, "sigmoid", "sigmoid"), blobs, **deep),
                 "Skip connections carry the gradient straight back."))),
        Lesson(
            "exploding_gradients", "Exploding gradients and gradient clipping",
            "“In very deep networks, gradients can become … huge (close to infinity), which "
            "makes training unstable. There are ways to deal with this, such as gradient "
            "clipping …”",
            "A 10-layer ReLU network starts with weights twice as large as He "
            "initialisation recommends (init gain 2). Each layer then doubles the signal "
            "forwards and the gradient backwards, so after ten layers the gradient is "
            "hundreds to millions of times too large: the first update throws the weights "
            "far away and within a few steps the numbers overflow (the run ends as "
            "diverged). With clip norm 1 the same gradients are rescaled to length 1 "
            "before each update: the weights move a bounded step, the loss stays finite "
            "and comes down.",
            (LessonVariant("large init", _design(
                "10 ReLU layers, gain 2",
                _mlp(2, [16] * 10, 1, "relu", "sigmoid", init="he_normal", gain=2.0), circle,
                **explode), "No clipping: the gradient explodes."),
             LessonVariant("large init + clipping", _design(
                 "10 ReLU layers, gain 2, clip norm 1",
                 _mlp(2, [16] * 10, 1, "relu", "sigmoid", init="he_normal", gain=2.0),
                 circle, clip_norm=1.0, **explode),
                 "Gradients rescaled to norm ≤ 1: finite, and learning."))),
        Lesson(
            "overfitting", "Overfitting, dropout and L2",
            "“One big problem is overfitting, where the model learns the training data too "
            "well and performs poorly on new, unseen data. To help with this, methods like "
            "dropout or L2 regularization can be used.”",
            "A network with two layers of 128 neurons trains on only 40 points of two "
            "heavily overlapping blobs; 40 other points are held out for validation. Watch "
            "both loss curves: the training loss keeps falling towards zero as the network "
            "memorises every noisy point, while the validation loss bottoms out within a "
            "few epochs and then climbs. The gap between them is overfitting. Dropout "
            "(randomly silencing half the neurons) and L2 (pulling weights towards zero) "
            "each stop the network from memorising as freely, and the gap shrinks.",
            (LessonVariant("large network", _design(
                "2 x 128 ReLU, no regularisation",
                _mlp(2, [128, 128], 1, "relu", "sigmoid"), noisy, **overfit),
                "Memorises the noise: validation loss turns up."),
             LessonVariant("dropout", _design(
                 "2 x 128 ReLU, dropout 0.5",
                 _mlp(2, [128, 128], 1, "relu", "sigmoid", dropout=0.5), noisy, **overfit),
                 "Dropout 0.5 after each hidden layer."),
             LessonVariant("l2", _design(
                 "2 x 128 ReLU, L2 0.01",
                 _mlp(2, [128, 128], 1, "relu", "sigmoid"), noisy, l2=0.01, **overfit),
                 "Weight decay l2 = 0.01."))),
        Lesson(
            "batch_norm", "Batch normalisation speeds up training",
            "“… such as gradient clipping, batch normalization, and using different network "
            "designs like Residual Networks.”",
            "Two five-layer sigmoid networks learn the circle data with the same learning "
            "rate; one has a BatchNorm layer before each sigmoid. Compare the loss curves "
            "and the epochs needed to reach a training loss of 0.4. Without "
            "normalisation the signal drifts into the flat ends of the sigmoids and the "
            "loss sits near 0.69 for dozens of epochs. BatchNorm rescales every layer's "
            "input to zero mean and unit variance, keeping each sigmoid in its steep "
            "middle, so the same network learns within a few epochs.",
            (LessonVariant("plain", _design(
                "5 sigmoid layers", _mlp(2, [16] * 5, 1, "sigmoid", "sigmoid"), circle, **bn),
                "No normalisation: a long plateau."),
             LessonVariant("batch norm", _design(
                 "5 sigmoid layers with BatchNorm",
                 _mlp(2, [16] * 5, 1, "sigmoid", "sigmoid", batchnorm=True), circle, **bn),
                 "BatchNorm before each sigmoid: learns quickly."))),
        Lesson(
            "residual", "Residual connections make depth trainable",
            "“… using different network designs like Residual Networks.”",
            "A plain stack of 21 ReLU layers and a residual network of the same depth "
            "(10 blocks of two Dense layers, each block's output added to its input) learn "
            "the circle data. In the plain stack the signal shrinks a little at every "
            "layer, so by the end neither the prediction nor the gradient carries "
            "information: the loss stays at 0.69 (chance). The skip connections give both "
            "a direct path through the network, so the first layer's gradient is about as "
            "large as the last's and the residual network learns the task in a few epochs.",
            (LessonVariant("plain", _design(
                "21 ReLU layers", _mlp(2, [16] * 21, 1, "relu", "sigmoid"), circle, **res),
                "No shortcuts: stuck at chance."),
             LessonVariant("residual", _design(
                 "10 residual blocks",
                 _residual_pairs(2, 16, 10, 1, "relu", "sigmoid", branch_gain=0.5), circle,
                 **res), "Skip connections: trains."))),
        Lesson(
            "images", "Recognising images: handwritten digits",
            "“Its impact is significant because it allows us to train advanced models that "
            "can do many different tasks, from recognizing images and speech to playing "
            "games and driving self-driving cars.”",
            "Each sample is an 8×8 grey image of a handwritten digit, flattened into 64 "
            "inputs; the network has one hidden layer of 64 ReLU neurons and 10 softmax "
            "outputs, one per digit. Backpropagation tunes its 4,810 weights from the "
            "training images only. Watch the validation accuracy: on images it has never "
            "seen, the network names the right digit at least 95 times out of 100 within "
            "30 epochs.",
            (LessonVariant("digits MLP", _digits_design(),
                           "The shipped digits example: 64-64-10, Adam."),)),
        Lesson(
            "epochs", "What an epoch is",
            "“By using backpropagation many times (called epochs), the weights of the "
            "network are adjusted to make accurate predictions.”",
            "One epoch is one pass over the whole training set: the samples are shuffled "
            "and cut into mini-batches, and every batch gives one gradient step, so an "
            "epoch has ceil(training samples / batch size) steps and every sample is seen "
            "exactly once. Here 320 training points give 32 steps per epoch with batches "
            "of 10, 13 with batches of 25, and a single step with the whole set as one "
            "batch. Plot the loss against epochs: small batches make many updates per "
            "epoch and the loss falls in few epochs; one full batch per epoch makes one "
            "careful step, so it needs many more epochs.",
            tuple(LessonVariant(f"batch {b}", _design(
                f"XOR, batch size {b}", _mlp(2, [8, 8], 1, "tanh", "sigmoid"), xor,
                batch_size=b, **epochs_kw),
                f"{b} samples per step.") for b in (10, 25, 320))),
        Lesson(
            "forward_backward", "Forward pass, backward pass, update",
            "“Forward Pass: … we feed the input data through the network layer by layer "
            "until it reaches the output layer … Backward Pass: … This mistake is sent back "
            "through the network … Δw = -α * ∂E/∂w”",
            "A tiny network (2 inputs, 3 sigmoid neurons, 1 sigmoid output) small enough to "
            "follow by hand. Step through one sample: the forward pass computes each "
            "neuron's weighted sum and sigmoid, the error E = (y - ŷ)² is measured at the "
            "output, and the backward pass applies the chain rule layer by layer to get "
            "∂E/∂w for every weight. Then every weight moves by Δw = -α ∂E/∂w with α = 2. "
            "Repeated over the samples, epoch after epoch, this lowers the error until the "
            "network solves XOR, which no network without a hidden layer can.",
            (LessonVariant("2-3-1", _design(
                "Tiny 2-3-1 network", _mlp(2, [3], 1, "sigmoid", "sigmoid"), tiny,
                loss="mse", optimizer="sgd", learning_rate=2.0, batch_size=4, epochs=200),
                "Plain SGD, mean squared error."),)),
    ]
    return {lesson.key: lesson for lesson in lessons}


LESSONS: dict[str, Lesson] = _lessons()
