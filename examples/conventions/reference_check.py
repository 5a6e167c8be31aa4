"""An independent, hand-written reference check of MANIFEST.toml's expected verdicts (no actcheck).

For each example it builds the unit from the entry's command-line options (its own small parser of
issue 10's --arg syntax), adapts the convention named by the entry's `kind` by hand, and compares
the analytic gradients with central differences in float64. It confirms that every example marked
"pass" is correct and every one marked "fail" really has the bug named, so that actcheck's results
on these examples can be judged against known answers.

    python examples/conventions/reference_check.py            # from the repository root
    python examples/conventions/reference_check.py c4-        # only ids starting with c4-
"""

import contextlib
import importlib.util
import inspect
import io
import json
import os
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
STEP = 1e-6


def parse_value(text, batch, rng):
    kind, _, rest = text.partition(":")
    if kind not in ("randn", "rand", "zeros", "ones", "labels", "onehot"):
        kind, rest = "", ""
    dims = tuple(int(d) for d in rest.split(",")) if rest else ()
    if kind == "randn" and rest:
        return rng.standard_normal(dims)
    if kind == "rand" and rest:
        return rng.random(dims)
    if kind in ("zeros", "ones") and rest:
        return getattr(np, kind)(dims)
    if kind == "labels":
        return rng.integers(0, int(rest), size=batch)
    if kind == "onehot":
        return np.eye(int(rest))[rng.integers(0, int(rest), size=batch)]
    if text in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[text]
    return json.loads(text)  # numbers, objects, lists, strings


def parse_options(options, rng):
    opts = {"shape": (8, 6), "range": None, "order": 1, "args": {}, "dtype": "float64"}
    raw_args, i = [], 0
    while i < len(options):
        name = options[i]
        if name == "--arg":
            raw_args.append(options[i + 1])
        elif name == "--shape":
            opts["shape"] = tuple(int(d) for d in options[i + 1].split(","))
        elif name == "--range":
            opts["range"] = (float(options[i + 1]), float(options[i + 2]))
            i += 1
        elif name in ("--order", "--dtype", "--derivative"):
            opts[name[2:]] = int(options[i + 1]) if name == "--order" else options[i + 1]
        else:
            i -= 1  # a flag without value (--json)
        i += 2
    for item in raw_args:
        key, _, value = item.partition("=")
        opts["args"][key] = parse_value(value, opts["shape"][0], rng)
    lo, hi = opts["range"] or (-3.0, 3.0)
    opts["x"] = (
        rng.uniform(lo, hi, opts["shape"]) if opts["range"] else rng.standard_normal(opts["shape"])
    )
    if opts["dtype"] == "float32":  # what --dtype float32 means: x and the float arrays given
        opts["x"] = opts["x"].astype(np.float32)
        for key, value in opts["args"].items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                opts["args"][key] = value.astype(np.float32)
    return opts


def load(target):
    """FILE.py:NAME -> object; runs the file from its own directory, as the books' scripts expect."""
    path, _, name = target.rpartition(":")
    path = ROOT / path
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(path.parent)
    sys.path[:0] = [str(path.parent), str(path.parent.parent)]
    try:
        spec = importlib.util.spec_from_file_location(f"refcheck_{abs(hash(path))}", path)
        module = importlib.util.module_from_spec(spec)
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
    obj = module
    for part in name.split("."):
        obj = getattr(obj, part)
    return module, obj


def split_kwargs(func, args):
    names = inspect.signature(func).parameters
    return {k: v for k, v in args.items() if k in names}, {
        k: v for k, v in args.items() if k not in names
    }


def compare(name, analytic, objective, array, rng, rtol, coords=24):
    """Max relative error of the analytic gradient over a random subset of the array's coordinates."""
    step = STEP if array.dtype != np.float32 else 1e-2  # float32: a coarse smoke test only
    analytic = np.asarray(analytic, dtype=float)
    if analytic.shape != array.shape:
        return name, float("inf"), f"shape {analytic.shape} != {array.shape}"
    idx = rng.choice(array.size, min(coords, array.size), replace=False)
    numerical = []
    for i in idx:
        old = array.flat[i]
        array.flat[i] = old + step
        up = objective()
        array.flat[i] = old - step
        down = objective()
        array.flat[i] = old
        numerical.append((up - down) / (2 * step))
    numerical, picked = np.array(numerical), analytic.flat[idx]
    scale = max(np.max(np.abs(numerical)), np.max(np.abs(picked)), 1e-12)
    err = (
        float(np.max(np.abs(numerical - picked)) / scale)
        if np.all(np.isfinite(picked))
        else float("inf")
    )
    return name, err, "ok" if err <= rtol else "WRONG"


def elementwise(f, df, x, rtol):
    """Elementwise derivative: all coordinates moved at once."""
    step = STEP if x.dtype != np.float32 else 1e-2
    numerical = (f(x + step) - f(x - step)) / (2 * step)
    analytic = np.asarray(df(x), dtype=float) * np.ones_like(x)
    scale = np.maximum(np.abs(numerical), 1.0)
    bad = ~np.isfinite(analytic) | ~np.isfinite(numerical)
    err = float("inf") if bad.any() else float(np.max(np.abs(numerical - analytic) / scale))
    return [("x", err, "ok" if err <= rtol else "WRONG")]


def fixed_rng(call):
    """Restore the global RNG state before each call, so a mask drawn in forward stays the same."""
    state = np.random.get_state()

    def wrapped(*a, **k):
        np.random.set_state(state)
        return call(*a, **k)

    return wrapped


def check_layer(obj, o, entry, rng, rtol):
    fwd_name, bwd_name = entry.get("methods", ["forward", "backward"])
    ctor_args, call_args = split_kwargs(obj, o["args"]) if inspect.isclass(obj) else ({}, o["args"])
    layer = obj(**ctor_args) if inspect.isclass(obj) else obj
    forward, backward = fixed_rng(getattr(layer, fwd_name)), getattr(layer, bwd_name)
    x = o["x"]

    def run():
        out = forward(x, **call_args)
        return layer.output if out is None else out

    out = run()
    dout = 1.0 if np.ndim(out) == 0 else rng.standard_normal(np.shape(out))

    def objective():
        return float(np.sum(run() * dout))

    run()
    before = {k: np.copy(v) for k, v in vars(layer).items() if isinstance(v, np.ndarray)}
    dx = backward(dout)
    dx = layer.dinputs if dx is None else (dx[0] if isinstance(dx, tuple) else dx)
    changed = [
        k for k, v in before.items() if not np.array_equal(v, getattr(layer, k), equal_nan=True)
    ]
    if changed:  # an optimizer step (or any write) inside backward
        return [(f"{','.join(changed)} changed during backward", float("inf"), "WRONG")]
    grads = {p: np.array(getattr(layer, g), dtype=float) for p, g in entry.get("grads", {}).items()}
    results = [compare("x", dx, objective, x, rng, rtol)]
    for p, g in grads.items():
        results.append(compare(p, g, objective, getattr(layer, p), rng, rtol))
    return results


def check_pair(module, obj, o, entry, rng, rtol):
    backward = getattr(module, obj.__name__.replace("forward", "backward"))
    sig = list(inspect.signature(obj).parameters)
    inputs = {sig[0]: o["x"], **o["args"]}
    arrays = [
        n for n in sig if isinstance(inputs.get(n), np.ndarray) and inputs[n].dtype.kind == "f"
    ]
    forward = fixed_rng(obj)

    def call():
        return forward(**{k: (dict(v) if isinstance(v, dict) else v) for k, v in inputs.items()})

    out, _ = call()
    dout = rng.standard_normal(out.shape)
    _, cache = call()
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)

    def objective():
        return float(np.sum(call()[0] * dout))

    return [compare(n, g, objective, inputs[n], rng, rtol) for n, g in zip(arrays, grads)]


def check_model(obj, o, entry, rng, rtol):
    ctor_args, call_args = split_kwargs(obj, o["args"])
    model = obj(**ctor_args)
    x, labels = o["x"], next(iter(call_args.values()))
    if entry["kind"] == "model_cs":
        _, grads = model.loss(x, labels)

        def objective():
            return float(model.loss(x, labels)[0])
    else:
        grads = model.gradient(x, labels)

        def objective():
            return float(model.loss(x, labels))

    return [
        compare(k, grads[k], objective, model.params[k], rng, rtol) for k in sorted(model.params)
    ]


def check_sgd_layer(obj, o, entry, rng, rtol):
    """backward(dout, rate) applying SGD: dx and each gradient from an update at rate 1."""
    layer = obj(**split_kwargs(obj, o["args"])[0])
    rate, x = entry["rate"], o["x"]
    out = layer.forward(x)
    dout = rng.standard_normal(np.shape(out))

    def objective():
        return float(np.sum(layer.forward(x) * dout))

    # dx as training computes it (rate 1, then undone): a dx taken after the update is wrong
    saved = {q: np.copy(getattr(layer, q)) for q in entry["updated"]}
    layer.forward(x)
    dx = layer.backward(dout, **{rate: 1.0})
    for q, v in saved.items():
        setattr(layer, q, v)
    results = [compare("x", dx, objective, x, rng, rtol)]
    for p in entry["updated"]:
        saved = {q: np.copy(getattr(layer, q)) for q in entry["updated"]}
        layer.forward(x)
        layer.backward(dout, **{rate: 1.0})
        grad = saved[p] - getattr(layer, p)
        for q, v in saved.items():  # undo every update, not only this one
            setattr(layer, q, v)
        results.append(compare(p, grad, objective, getattr(layer, p), rng, rtol))
    return results


def check_scalar(module, entry, o, rtol):
    """A micrograd-style Value's operation: d/dx and d/d(operand) from .grad after backward()
    against central differences of .data, and a second backward() of another output of the
    same values must double every grad (+= where = is a bug)."""
    cls, method = getattr(module, entry["cls"]), entry["method"]
    args, operands = o["args"], entry.get("operands", [])

    def data(v, **shift):
        kw = {k: args[k] + shift.get(k, 0.0) for k in args}
        return getattr(cls(float(v) + shift.get("x", 0.0)), method)(**kw).data

    def grads(v, times):
        node, ops = cls(float(v)), {k: cls(float(args[k])) for k in operands}
        for _ in range(times):
            getattr(node, method)(**{**args, **ops}).backward()
        return {"x": node.grad, **{k: op.grad for k, op in ops.items()}}

    points = o["x"].ravel()
    once = [grads(v, 1) for v in points]
    twice = [grads(v, 2) for v in points]
    results = []
    for name in ["x", *operands]:
        analytic = np.array([g[name] for g in once], dtype=float)
        numerical = np.array(
            [(data(v, **{name: STEP}) - data(v, **{name: -STEP})) / (2 * STEP) for v in points]
        )
        scale = np.maximum(np.abs(numerical), 1.0)
        err = float(np.max(np.abs(numerical - analytic) / scale))
        doubled = np.array([g[name] for g in twice], dtype=float)
        added = float(np.max(np.abs(doubled - 2 * analytic) / np.maximum(np.abs(analytic), 1.0)))
        results.append((name, err, "ok" if err <= rtol else "WRONG"))
        results.append((f"{name} accumulates", added, "ok" if added <= 1e-12 else "WRONG"))
    return results


def check_dlai(module, entry, o, rng, rtol):
    """deeplearning.ai's L_model_forward / compute_cost / L_model_backward: each grads["dWl"]
    against central differences of the cost in parameters["Wl"]."""
    x = o["x"]
    parameters = {
        k: np.array(v, dtype=float)
        for k, v in module.initialize_parameters_deep(entry["layer_dims"]).items()
    }
    y = rng.integers(0, 2, (entry["layer_dims"][-1], x.shape[1])).astype(float)

    def objective():
        return float(module.compute_cost(module.L_model_forward(x, parameters)[0], y))

    al, caches = module.L_model_forward(x, parameters)
    grads = module.L_model_backward(al, y, caches)
    return [
        compare(k, grads["d" + k], objective, parameters[k], rng, rtol) for k in sorted(parameters)
    ]


def check(entry, rng):
    o = parse_options(entry["options"], rng)
    module, obj = load(entry["impl"])
    kind, rtol = entry["kind"], entry.get("reference_rtol", 1e-8)
    with (
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        if kind == "layer":
            return check_layer(obj, o, entry, rng, rtol)
        if kind == "pair":
            return check_pair(module, obj, o, entry, rng, rtol)
        if kind in ("model_dlfs", "model_cs"):
            return check_model(obj, o, entry, rng, rtol)
        if kind == "lossfn":
            labels = next(iter(o["args"].values()))
            _, dx = obj(o["x"], labels)
            return [compare("x", dx, lambda: float(obj(o["x"], labels)[0]), o["x"], rng, rtol)]
        if kind == "nnfsloss":
            loss, y_true = obj(), next(iter(o["args"].values()))
            loss.backward(o["x"], y_true)
            return [
                compare(
                    "x",
                    loss.dinputs,
                    lambda: float(loss.calculate(o["x"], y_true)),
                    o["x"],
                    rng,
                    rtol,
                )
            ]
        inst = obj(**split_kwargs(obj, o["args"])[0]) if inspect.isclass(obj) else obj
        if kind == "elementwise_layer":
            layer = inst

            def f(x):
                return layer.forward(x)

            def df(x):
                layer.forward(x)
                return layer.backward(np.ones_like(x))

            return elementwise(f, df, o["x"], rtol)
        if kind == "fngrad":
            f, df = (inst.fn, inst.grad) if o["order"] == 1 else (inst.grad, inst.grad2)
            return elementwise(f, df, o["x"], rtol)
        if kind == "callgrad":
            return elementwise(inst, inst.gradient, o["x"], rtol)
        if kind == "lossgrad":
            y = next(iter(o["args"].values()))
            return elementwise(
                lambda p: inst.loss(y, p), lambda p: inst.gradient(y, p), o["x"], rtol
            )
        if kind == "sgdlayer":
            return check_sgd_layer(obj, o, entry, rng, rtol)
        if kind == "switch":
            flag, on = entry["flag"], entry.get("on_output", False)
            return elementwise(
                obj, lambda x: obj(obj(x) if on else x, **{flag: True}), o["x"], rtol
            )
        if kind == "dlai":
            return check_dlai(module, entry, o, rng, rtol)
        if kind == "scalar":
            return check_scalar(module, entry, o, rtol)
        if kind == "funcderiv":
            _, deriv = load(o["derivative"])
            return elementwise(obj, deriv, o["x"], rtol)
    raise ValueError(f"unknown kind {kind}")


def main(prefix="", float32=False):
    manifest = tomllib.loads((Path(__file__).parent / "MANIFEST.toml").read_text())
    disagreements = 0
    for entry in manifest["example"]:
        if not entry["id"].startswith(prefix) or entry["verdict"] not in ("pass", "fail"):
            continue
        if entry.get("kind") is None:
            continue
        if "--dtype" in entry["options"] and not float32:
            continue
        if float32 and "--dtype" not in entry["options"]:
            continue
        if float32:  # a smoke test: runs in float32, gradients right to ~1e-2
            entry = {**entry, "reference_rtol": 3e-2}
        try:
            results = check(entry, np.random.default_rng(0))
            got = "pass" if all(s == "ok" for _, _, s in results) else "fail"
            detail = ", ".join(f"{n}:{s}({e:.1e})" for n, e, s in results)
        except Exception as exc:  # a crash in the code under test is a failure of it
            got, detail = "fail", f"raised {type(exc).__name__}: {exc}"
        mark = "  " if got == entry["verdict"] else "!!"
        disagreements += got != entry["verdict"]
        print(
            f"{mark} {entry['id']:<34} expected {entry['verdict']:<4} reference {got:<4} {detail}"
        )
    print(f"{disagreements} disagreement(s)")
    return 1 if disagreements else 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--float32"]
    sys.exit(main(*args, float32="--float32" in sys.argv))
