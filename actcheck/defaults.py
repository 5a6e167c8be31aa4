"""Every default a user can see, defined once: the library's signatures and the
CLI's ``--help`` both read them from here. Plain Python, cheap to import
(``actcheck --help`` loads this module and nothing numerical)."""

from __future__ import annotations

DTYPES = ("float64", "float32")
DTYPE = "float64"

# gradcheck: the catalog's derivatives
POINTS = 20_000  # random probe points per activation (grid, kinks and special values on top)
# gradcheck --points: the check streams above a few million points (flat memory, about 0.07 s
# of one core per million points for relu): this bounds the time of a run (about a day on one
# core), not its memory
MAX_POINTS = 10**12
RANGE = (-6.0, 6.0)  # interval of the random sample and the grid
SEED = 0
DISTRIBUTIONS = ("uniform", "normal")
DISTRIBUTION = "uniform"
ORDER = 1
SAFETY = 4.0  # multiplies the estimated numerical error before a point fails
WORST = 5  # worst points reported per failed check

# gradcheck --impl: the user's own layer
IMPL_SHAPE = (64, 32)  # the batch x given to the layer: 64 samples of 32 features
IMPL_SEED = 0
IMPL_TIMEOUT = 60.0  # seconds the user's code may run (--impl runs it in a child process)

# plot
PLOT_OUTPUT = "actcheck-activations.png"
PLOT_DPI = 150
FIGURE_FORMATS = ("png", "svg", "pdf")
LAYOUTS = ("grid", "overlay")
LAYOUT = "grid"
STYLES = ("light", "dark")
STYLE = "light"
DRAW = ("function", "derivative")
SAMPLES = 801
MIN_SAMPLES = 16
MAX_SAMPLES = 1_000_000

# train-xor
XOR_HIDDEN = 4
XOR_BIAS = True
LOSSES = ("sse", "mse", "bce")
XOR_LOSS = "sse"
OPTIMIZERS = ("sgd", "momentum", "adam")
XOR_OPTIMIZER = "sgd"
XOR_LR = 0.01
XOR_EPOCHS = 2000
INITS = ("normal", "he", "xavier")
XOR_INIT = "he"
# "Solved" thresholds, all meaning roughly "every output within 0.05 of its target".
LOSS_THRESHOLDS = {"sse": 0.01, "mse": 0.0025, "bce": 0.05}
XOR_SEEDS = 100
XOR_FIRST_SEED = 0
XOR_OUTPUT = "xor-loss.png"
CHART_DPI = 110  # train-xor's charts and gradcheck --plot
XOR_BOUNDARY_DPI = 80  # the decision-boundary panels

# size guards: a run whose arrays would need more memory than this is refused up front
# (exit 2, with the estimate and this limit); raise it here on a machine with more memory
MEMORY_LIMIT = 4 * 2**30  # bytes
