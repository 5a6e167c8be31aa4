"""Adding an activation is one block: a throw-away entry works in every command."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

import actcheck
from actcheck.activations import CATALOG, Convention, Entry, Kink, register, unregister
from actcheck.cli import cli

NAME = "relu_squared"


@pytest.fixture
def relu_squared():
    """Squared ReLU, registered for one test: the whole of what adding an activation takes.

    No colour on purpose: figures then derive one from the name.
    """
    entry = register(
        Entry(
            name=NAME,
            title="SquaredReLU",
            pytorch="torch.square(torch.relu(x))",
            formula=r"\max(0,\,x)^2",
            derivative_formula=r"2\max(0,\,x)",
            forward=lambda x, p: np.square(np.maximum(x, 0)),
            derivative=lambda x, p: 2 * np.maximum(x, 0),
            second_derivative=lambda x, p: np.where(x > 0, 2, 0).astype(x.dtype),
            reference=lambda mp, x, p: max(mp.mpf(0), x) ** 2,
            kinks=lambda p: [Kink(0.0, 0.0, 2.0, Convention.LEFT, order=2)],
        )
    )
    yield entry
    unregister(NAME)


def _run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_register_refuses_a_taken_name_and_unregister_undoes_it():
    before = actcheck.names()
    with pytest.raises(actcheck.ActivationError, match="relu taken"):
        register(CATALOG["relu"])
    register(dataclasses.replace(CATALOG["tanh"], name="tanh2", title="Tanh2"))
    assert actcheck.names() == [*before, "tanh2"]
    with pytest.raises(actcheck.ActivationError, match="tanh2 taken"):
        # a title is a name too, so a second entry titled Tanh2 is refused
        register(dataclasses.replace(CATALOG["tanh"], name="tanh3", title="Tanh2"))
    unregister("tanh2")
    assert actcheck.names() == before
    with pytest.raises(actcheck.ActivationError):
        actcheck.get("Tanh2")


def test_the_new_entry_agrees_with_its_own_mpmath_reference(relu_squared):
    from reference import derivative, value

    act = actcheck.get(NAME)
    x = np.array([-2.0, -0.5, 0.25, 3.0])
    np.testing.assert_allclose(act(x), [float(value(NAME, v, {})) for v in x], rtol=1e-15)
    want = [float(derivative(NAME, v, {}, kinks=[0.0])) for v in x]
    np.testing.assert_allclose(act.derivative(x), want, rtol=1e-15)


def test_list_shows_the_new_entry(relu_squared):
    assert NAME in _run("list")
    data = json.loads(_run("list", NAME, "--json"))
    assert NAME in json.dumps(data)
    assert actcheck.get("squaredrelu").name == NAME  # the title is a name too
    assert actcheck.get(NAME).kinks[0].convention is Convention.LEFT


def test_gradcheck_passes_on_the_new_entry(relu_squared):
    out = _run("gradcheck", NAME, "--order", "2")
    assert NAME in out and "all passed" in out


def test_plot_draws_the_new_entry(relu_squared, tmp_path):
    out_file = tmp_path / "figure.svg"
    out = _run("plot", NAME, "-o", str(out_file))
    assert str(out_file) in out
    svg = out_file.read_text()
    assert f"curve:{NAME}:0" in svg  # the curve's gid names the entry
    assert actcheck.get(NAME).color.lower() in svg.lower()


def test_train_xor_trains_the_new_entry(relu_squared, tmp_path):
    out = _run("train-xor", NAME, "--seeds", "4", "--epochs", "30", "-o", str(tmp_path / "x.png"))
    assert NAME in out


def test_a_colour_for_any_number_of_entries():
    colours = {actcheck.get(n).color for n in actcheck.names()}
    assert len(colours) == len(actcheck.names())
    extra = actcheck.activations.color_of("no_such_entry")
    assert extra == actcheck.activations.color_of("no_such_entry")
    assert len(extra) == 7 and extra.startswith("#")
