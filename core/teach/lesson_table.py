"""The lessons' content: each claim of the seed text, what to watch and why, and the
variants that show it, as data. ``core.teach.lessons`` turns these rows into runnable
``Lesson`` objects (the code that builds and trains them lives there, not here).

A variant names its dataset (a key of ``DATASETS`` or ``SHIPPED``), its training
settings (a ``TrainConfig`` keyword dict) and its network by shape (``Net``), or a
shipped example design (``example``). Edit the words freely; the tests in
``tests/core/teach/test_lessons.py`` assert each lesson's effect with a measured margin,
so change the numbers with care.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DATASETS", "LESSON_ROWS", "SHIPPED", "Net", "Row", "SweepRow", "Variant"]


@dataclass(frozen=True)
class Net:
    """A network by shape. ``kind``: "mlp" (Dense, [BatchNorm], activation, [Dropout] per
    entry of ``widths``), "residual" (Dense+activation, then ``blocks`` residual blocks of
    Dense+activation) or "residual_pairs" (blocks of Dense, activation, Dense, the second
    Dense's gain ``branch_gain``) or "conv" (on images of shape ``image``: per entry of
    ``widths`` a Conv2D of that many ``kernel``² filters with ``padding``, the
    activation and a ``pool``² max pool, then a Flatten); then a Dense of ``outputs``
    and the ``final`` activation, if any."""

    kind: str
    inputs: int
    widths: tuple[int, ...]
    outputs: int
    activation: str
    final: str | None
    blocks: int = 0
    init: str = "default"
    gain: float = 1.0
    batchnorm: bool = False
    dropout: float = 0.0
    branch_gain: float = 1.0
    image: tuple[int, int, int] | None = None
    kernel: int = 3
    padding: str = "valid"
    pool: int = 2


def mlp(inputs: int, hidden: list[int], outputs: int, activation: str, final: str | None,
        **options: Any) -> Net:
    return Net("mlp", inputs, tuple(hidden), outputs, activation, final, **options)


def residual(inputs: int, width: int, blocks: int, outputs: int, activation: str,
             final: str | None, **options: Any) -> Net:
    return Net("residual", inputs, (width,), outputs, activation, final, blocks, **options)


def residual_pairs(inputs: int, width: int, blocks: int, outputs: int, activation: str,
                   final: str | None, **options: Any) -> Net:
    return Net("residual_pairs", inputs, (width,), outputs, activation, final, blocks,
               **options)


def conv(image: tuple[int, int, int], filters: list[int], outputs: int, activation: str,
         final: str | None, **options: Any) -> Net:
    c, h, w = image
    return Net("conv", c * h * w, tuple(filters), outputs, activation, final, image=image,
               **options)


@dataclass(frozen=True)
class Variant:
    """One experiment: its name and note, and either a design (title, dataset key,
    training settings, network) or a shipped example design file (``example``)."""

    name: str
    note: str
    title: str = ""
    dataset: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    network: Net | None = None
    example: str = ""


@dataclass(frozen=True)
class SweepRow:
    """A lesson that sweeps one setting of its (single) variant's design: the setting's
    search-space name (``training.learning_rate``), the values a grid tries, in order,
    and the study's name. ``core.teach.sweep_lesson`` measures it."""

    parameter: str
    values: tuple[float, ...]
    study: str


@dataclass(frozen=True)
class Row:
    """One lesson: key, title, the claim quoted from the seed, the explanation, variants,
    and for a sweep lesson the sweep."""

    key: str
    title: str
    claim: str
    explanation: str
    variants: tuple[Variant, ...]
    sweep: SweepRow | None = None


# Synthetic datasets by key: (name, samples, noise, seed, validation share).
DATASETS = {
    "sine": ("sine", 200, 0.1, 0, 0.2),
    "circle": ("circle", 300, 0.1, 0, 0.2),
    "blobs": ("gaussians", 300, 0.2, 0, 0.2),
    # 44 training points, 396 held out: enough validation points that an accuracy
    # difference of a few points is measured, not noise.
    "noisy": ("gaussians", 440, 1.0, 0, 0.9),
    "xor": ("xor", 400, 0.1, 0, 0.2),
    "tiny": ("xor", 40, 0.0, 0, 0.2),
}

# Shipped datasets by key: (name, seed, validation share).
SHIPPED = {
    "digits": ("digits", 0, 0.2),
}

BCE = "binary_cross_entropy"
# Training settings shared by a lesson's variants.
RATE = dict(loss="mse", optimizer="sgd", batch_size=16, epochs=60)
ACTIVATION = dict(loss=BCE, optimizer="sgd", learning_rate=0.3, batch_size=16, epochs=100,
                  target_loss=0.2)
DEEP = dict(loss=BCE, optimizer="sgd", learning_rate=0.1, batch_size=16, epochs=30)
EXPLODE = dict(loss=BCE, optimizer="sgd", learning_rate=0.05, batch_size=16, epochs=30)
OVERFIT = dict(loss=BCE, optimizer="adam", learning_rate=0.01, batch_size=16, epochs=300)
BN = dict(loss=BCE, optimizer="sgd", learning_rate=0.1, batch_size=16, epochs=40)
RES = dict(loss=BCE, optimizer="sgd", learning_rate=0.1, batch_size=16, epochs=20)
EPOCHS = dict(loss=BCE, optimizer="sgd", learning_rate=0.3, epochs=30)
CONV = dict(loss="softmax_cross_entropy", optimizer="adam", learning_rate=0.003,
            batch_size=32, epochs=15)
TINY = dict(loss="mse", optimizer="sgd", learning_rate=2.0, batch_size=4, epochs=200)
# Lesson 1's network and data, long enough (100 epochs) that the good rates finish low.
SWEEP = dict(RATE, learning_rate=0.1, epochs=100)
# Half-decade steps from 1e-4 to 10: an even grid on a log axis.
RATES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)

LESSON_ROWS: tuple[Row, ...] = (
    Row(
        "learning_rate", "Learning rate: too high, too low, just right",
        (
            "“If it’s too high, the network can get lost and never find a good "
            "solution. If it’s too low, the network will learn very slowly and might "
            "get stuck in bad spots instead of finding the best solution.”"),
        (
            "The same small network fits a noisy sine curve with plain gradient "
            "descent, Δw = -α ∂E/∂w, at three learning rates α. Watch the loss curve: "
            "with α too high each step overshoots the valley, the loss jumps up "
            "instead of down and soon becomes infinite (the run stops as diverged). "
            "With α too low every step is tiny, so after the same 60 epochs the loss "
            "has hardly moved. The good rate takes steps big enough to make progress "
            "but small enough to stay in the valley, and the loss falls steadily."),
        (
            Variant("too high", "α = 1: steps overshoot; the loss blows up.",
                    "Learning rate 1", "sine", dict(RATE, learning_rate=1.0),
                    mlp(1, [16], 1, "tanh", None)),
            Variant("too low", "α = 0.01: steps are tiny; learning crawls.",
                    "Learning rate 0.01", "sine", dict(RATE, learning_rate=0.01),
                    mlp(1, [16], 1, "tanh", None)),
            Variant("good", "α = 0.1: the loss falls steadily.",
                    "Learning rate 0.1", "sine", dict(RATE, learning_rate=0.1),
                    mlp(1, [16], 1, "tanh", None)),
        )),
    Row(
        "activations", "Sigmoid, tanh and ReLU compared",
        (
            "“Sigmoid function: This takes any input and gives an output between 0 "
            "and 1 … ReLU … is great for speeding up training … Tanh … helps center "
            "the data and can make learning faster than using the sigmoid function.”"),
        (
            "One hidden layer of 16 neurons learns the circle data three times, "
            "identical except for the hidden activation: same data, same seed, same "
            "initial weights scheme, same learning rate. Each run stops when the "
            "training loss reaches 0.2; compare how many epochs that takes. Sigmoid "
            "is slowest: its outputs are all positive (not centred) and its slope is "
            "at most 0.25, so gradients are small. Tanh is centred with slope up to 1 "
            "and learns several times faster; ReLU, whose slope is exactly 1 wherever "
            "it is active, is fastest here."),
        (
            Variant("sigmoid", "Slope ≤ 0.25, outputs in (0, 1): slowest.",
                    "sigmoid hidden layer", "circle", ACTIVATION,
                    mlp(2, [16], 1, "sigmoid", "sigmoid")),
            Variant("tanh", "Centred outputs, slope ≤ 1: faster.",
                    "tanh hidden layer", "circle", ACTIVATION,
                    mlp(2, [16], 1, "tanh", "sigmoid")),
            Variant("relu", "Slope 1 where active: fastest here.",
                    "relu hidden layer", "circle", ACTIVATION,
                    mlp(2, [16], 1, "relu", "sigmoid")),
        )),
    Row(
        "vanishing_gradients", "Vanishing gradients in a deep sigmoid network",
        (
            "“In very deep networks, gradients can become tiny (close to zero) … "
            "There are ways to deal with this, such as gradient clipping, batch "
            "normalization, and using different network designs like Residual "
            "Networks.”"),
        (
            "A network of 10 hidden sigmoid layers tries to separate two easy blobs "
            "that a single sigmoid layer learns in a few epochs. Look at the "
            "per-layer gradient norms: on the way back each sigmoid multiplies the "
            "gradient by its slope (at most 0.25), so the first layer gets a gradient "
            "about a million times smaller than the last and the loss stays at chance "
            "(0.69). ReLU with He initialisation (slope 1), batch normalisation "
            "(rescales every layer) and residual connections (a shortcut path for the "
            "gradient) each bring the first-to-last ratio close to 1, and the same "
            "depth learns the task."),
        (
            Variant("deep sigmoid", "Plain: the gradient fades layer by layer.",
                    "10 sigmoid layers", "blobs", DEEP,
                    mlp(2, [16] * 10, 1, "sigmoid", "sigmoid")),
            Variant("relu + he", "ReLU's slope is 1; He init keeps the signal's size.",
                    "10 ReLU layers, He init", "blobs", DEEP,
                    mlp(2, [16] * 10, 1, "relu", "sigmoid", init="he_normal")),
            Variant("batch norm", "BatchNorm before each sigmoid keeps it in its steep middle.",
                    "10 sigmoid layers with BatchNorm", "blobs", DEEP,
                    mlp(2, [16] * 10, 1, "sigmoid", "sigmoid", batchnorm=True)),
            Variant("residual", "Skip connections carry the gradient straight back.",
                    "Sigmoid residual network", "blobs", DEEP,
                    residual(2, 16, 9, 1, "sigmoid", "sigmoid")),
        )),
    Row(
        "exploding_gradients", "Exploding gradients and gradient clipping",
        (
            "“In very deep networks, gradients can become … huge (close to infinity), "
            "which makes training unstable. There are ways to deal with this, such as "
            "gradient clipping …”"),
        (
            "A 10-layer ReLU network starts with weights twice as large as He "
            "initialisation recommends (init gain 2). Each layer then doubles the "
            "signal forwards and the gradient backwards, so after ten layers the "
            "gradient is hundreds to millions of times too large: the first update "
            "throws the weights far away and within a few steps the numbers overflow "
            "(the run ends as diverged). With clip norm 1 the same gradients are "
            "rescaled to length 1 before each update: the weights move a bounded "
            "step, the loss stays finite and comes down."),
        (
            Variant("large init", "No clipping: the gradient explodes.",
                    "10 ReLU layers, gain 2", "circle", EXPLODE,
                    mlp(2, [16] * 10, 1, "relu", "sigmoid", init="he_normal", gain=2.0)),
            Variant("large init + clipping",
                    "Gradients rescaled to norm ≤ 1: finite, and learning.",
                    "10 ReLU layers, gain 2, clip norm 1", "circle", dict(EXPLODE, clip_norm=1.0),
                    mlp(2, [16] * 10, 1, "relu", "sigmoid", init="he_normal", gain=2.0)),
        )),
    Row(
        "overfitting", "Overfitting, dropout and L2",
        (
            "“One big problem is overfitting, where the model learns the training "
            "data too well and performs poorly on new, unseen data. To help with "
            "this, methods like dropout or L2 regularization can be used.”"),
        (
            "A network with two layers of 128 neurons trains on only 44 points of two "
            "heavily overlapping blobs; 396 other points are held out for validation. "
            "Watch both loss curves: the training loss keeps falling towards zero as "
            "the network memorises every noisy point, while the validation loss "
            "bottoms out within a few epochs and then climbs. The gap between them is "
            "overfitting, and it costs accuracy on the held-out points. Dropout "
            "(randomly silencing 70 % of the hidden neurons at each step) and L2 "
            "(pulling weights towards zero) each stop the network from memorising as "
            "freely: the validation loss stays far lower and the validation accuracy "
            "higher. Run all three and compare the final validation loss and "
            "accuracy."),
        (
            Variant("large network", "Memorises the noise: validation loss turns up.",
                    "2 x 128 ReLU, no regularisation", "noisy", OVERFIT,
                    mlp(2, [128, 128], 1, "relu", "sigmoid")),
            Variant("dropout", "Dropout 0.7 after each hidden layer.",
                    "2 x 128 ReLU, dropout 0.7", "noisy", OVERFIT,
                    mlp(2, [128, 128], 1, "relu", "sigmoid", dropout=0.7)),
            Variant("l2", "Weight decay l2 = 0.01.",
                    "2 x 128 ReLU, L2 0.01", "noisy", dict(OVERFIT, l2=0.01),
                    mlp(2, [128, 128], 1, "relu", "sigmoid")),
        )),
    Row(
        "batch_norm", "Batch normalisation speeds up training",
        (
            "“… such as gradient clipping, batch normalization, and using different "
            "network designs like Residual Networks.”"),
        (
            "Two five-layer sigmoid networks learn the circle data with the same "
            "learning rate; one has a BatchNorm layer before each sigmoid. Compare "
            "the loss curves and the epochs needed to reach a training loss of 0.4. "
            "Without normalisation the signal drifts into the flat ends of the "
            "sigmoids and the loss sits near 0.69 for dozens of epochs. BatchNorm "
            "rescales every layer's input to zero mean and unit variance, keeping "
            "each sigmoid in its steep middle, so the same network learns within a "
            "few epochs."),
        (
            Variant("plain", "No normalisation: a long plateau.",
                    "5 sigmoid layers", "circle", BN,
                    mlp(2, [16] * 5, 1, "sigmoid", "sigmoid")),
            Variant("batch norm", "BatchNorm before each sigmoid: learns quickly.",
                    "5 sigmoid layers with BatchNorm", "circle", BN,
                    mlp(2, [16] * 5, 1, "sigmoid", "sigmoid", batchnorm=True)),
        )),
    Row(
        "residual", "Residual connections make depth trainable",
        (
            "“… using different network designs like Residual Networks.”"),
        (
            "A plain stack of 21 ReLU layers and a residual network of the same depth "
            "(10 blocks of two Dense layers, each block's output added to its input) "
            "learn the circle data. In the plain stack the signal shrinks a little at "
            "every layer, so by the end neither the prediction nor the gradient "
            "carries information: the loss stays at 0.69 (chance). The skip "
            "connections give both a direct path through the network, so the first "
            "layer's gradient is about as large as the last's and the residual "
            "network learns the task in a few epochs."),
        (
            Variant("plain", "No shortcuts: stuck at chance.",
                    "21 ReLU layers", "circle", RES,
                    mlp(2, [16] * 21, 1, "relu", "sigmoid")),
            Variant("residual", "Skip connections: trains.",
                    "10 residual blocks", "circle", RES,
                    residual_pairs(2, 16, 10, 1, "relu", "sigmoid", branch_gain=0.5)),
        )),
    Row(
        "images", "Recognising images: handwritten digits",
        (
            "“Its impact is significant because it allows us to train advanced models "
            "that can do many different tasks, from recognizing images and speech to "
            "playing games and driving self-driving cars.”"),
        (
            "Each sample is an 8×8 grey image of a handwritten digit, flattened into "
            "64 inputs; the network has one hidden layer of 64 ReLU neurons and 10 "
            "softmax outputs, one per digit. Backpropagation tunes its 4,810 weights "
            "from the training images only. Watch the validation accuracy: on images "
            "it has never seen, the network names the right digit at least 95 times "
            "out of 100 within 30 epochs."),
        (
            Variant("digits MLP", "The shipped digits example: 64-64-10, Adam.",
                    example="digits.json"),
        )),
    Row(
        "convolutions", "Why convolutions: shared weights see a pattern anywhere",
        (
            "“Neural networks are made up of layers filled with connected nodes, called "
            "neurons. Each connection has a weight …” … “recognizing images …”"),
        (
            "Two networks learn the same 8×8 digit images. The dense network joins every "
            "one of the 64 pixels to each of its 64 hidden neurons by a weight of its "
            "own: 4,810 weights, and nothing tells it that neighbouring pixels belong "
            "together. The conv net looks at small pieces: each of its 32 filters has "
            "only 3×3 weights and sees one 3×3 patch of pixels at a time (its local "
            "receptive field). The filter slides over the whole image with the same 9 "
            "weights at every position (weight sharing), so a stroke or a corner it has "
            "learned once is found wherever it is drawn, and the network needs only "
            "3,210 weights. Compare the validation accuracy after the same 15 epochs: "
            "with fewer weights, the conv net names more unseen digits correctly."),
        (
            Variant("dense", "64 pixels → 64 ReLU → 10: every pixel has its own weights.",
                    "Dense network on digits", "digits", CONV,
                    mlp(64, [64], 10, "relu", "softmax", init="he_normal")),
            Variant("conv", "32 filters of 3×3, max pool 2, then 10 outputs: shared weights.",
                    "Small conv net on digits", "digits", CONV,
                    conv((1, 8, 8), [32], 10, "relu", "softmax", init="he_normal")),
        )),
    Row(
        "epochs", "What an epoch is",
        (
            "“By using backpropagation many times (called epochs), the weights of the "
            "network are adjusted to make accurate predictions.”"),
        (
            "One epoch is one pass over the whole training set: the samples are "
            "shuffled and cut into mini-batches, and every batch gives one gradient "
            "step, so an epoch has ceil(training samples / batch size) steps and "
            "every sample is seen exactly once. Here 320 training points give 32 "
            "steps per epoch with batches of 10, 13 with batches of 25, and a single "
            "step with the whole set as one batch. Plot the loss against epochs: "
            "small batches make many updates per epoch and the loss falls in few "
            "epochs; one full batch per epoch makes one careful step, so it needs "
            "many more epochs."),
        (
            Variant("batch 10", "10 samples per step.",
                    "XOR, batch size 10", "xor", dict(EPOCHS, batch_size=10),
                    mlp(2, [8, 8], 1, "tanh", "sigmoid")),
            Variant("batch 25", "25 samples per step.",
                    "XOR, batch size 25", "xor", dict(EPOCHS, batch_size=25),
                    mlp(2, [8, 8], 1, "tanh", "sigmoid")),
            Variant("batch 320", "320 samples per step.",
                    "XOR, batch size 320", "xor", dict(EPOCHS, batch_size=320),
                    mlp(2, [8, 8], 1, "tanh", "sigmoid")),
        )),
    Row(
        "forward_backward", "Forward pass, backward pass, update",
        (
            "“Forward Pass: … we feed the input data through the network layer by "
            "layer until it reaches the output layer … Backward Pass: … This mistake "
            "is sent back through the network … Δw = -α * ∂E/∂w”"),
        (
            "A tiny network (2 inputs, 3 sigmoid neurons, 1 sigmoid output) small "
            "enough to follow by hand. Step through one sample: the forward pass "
            "computes each neuron's weighted sum and sigmoid, the error E = (y - ŷ)² "
            "is measured at the output, and the backward pass applies the chain rule "
            "layer by layer to get ∂E/∂w for every weight. Then every weight moves by "
            "Δw = -α ∂E/∂w with α = 2. Repeated over the samples, epoch after epoch, "
            "this lowers the error until the network solves XOR, which no network "
            "without a hidden layer can."),
        (
            Variant("2-3-1", "Plain SGD, mean squared error.",
                    "Tiny 2-3-1 network", "tiny", TINY,
                    mlp(2, [3], 1, "sigmoid", "sigmoid")),
        )),
    Row(
        "learning_rate_sweep", "Learning rate, measured",
        (
            "“The learning rate is very important. It tells the network how much to "
            "change the weights. If it’s too high, the network can get lost and never "
            "find a good solution. If it’s too low, the network will learn very slowly "
            "…”"),
        (
            "Lesson 1's small network (16 tanh neurons fitting a noisy sine curve with "
            "plain gradient descent) trains once for each of 11 learning rates from "
            "0.0001 to 10, evenly spaced on a log scale: a grid sweep, each trial a run "
            "of its own. The plot shows every trial's training loss after 100 epochs "
            "against its learning rate. On the left the rate is too low: each step "
            "Δw = -α ∂E/∂w is so small that the loss has barely moved from where it "
            "started. In the middle lies the good region, where the loss ends lowest. "
            "On the right the rate is too high: the steps overshoot the valley, so the "
            "loss bounces around or blows up (a diverged trial is drawn at the top as "
            "the worst). The result is a U, with the best rate well inside the range, "
            "close to the rates where training falls apart."),
        (
            Variant("the network", "1-16-1 tanh on a noisy sine, α = 0.1; the sweep "
                    "tries 11 rates from 0.0001 to 10.",
                    "Learning rate sweep", "sine", SWEEP, mlp(1, [16], 1, "tanh", None)),
        ),
        SweepRow("training.learning_rate", RATES, "learning-rate-lesson")),
)
