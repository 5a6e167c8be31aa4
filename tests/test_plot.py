"""Figures and ``actcheck plot``: the drawn data is the catalog's, the files are valid."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_rgb

import actcheck.cli.plot
from actcheck import get, names, parse_spec
from actcheck import plotting as P
from actcheck.cli import cli

FAST = P.PlotSpec(samples=64)


def _lines(fig, gid):
    return [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == gid]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def default_figure():
    return P.activation_figure([get(n) for n in names()], FAST)


# -- the default grid ---------------------------------------------------------------


def test_one_panel_per_catalog_entry_titled_with_its_parameters(default_figure):
    titles = [ax.get_title() for ax in default_figure.axes if ax.get_visible() and ax.get_title()]
    assert titles == [get(n).label for n in names()]
    assert "LeakyReLU(negative_slope=0.01)" in titles


@pytest.mark.parametrize("name", names())
def test_plotted_lines_are_the_catalogs_values(default_figure, name):
    act = get(name)
    for order, fn in enumerate((act.forward, act.derivative)):
        (line,) = _lines(default_figure, f"curve:{act.spec}:{order}")
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        ok = np.isfinite(y)
        np.testing.assert_array_equal(y[ok], fn(x[ok]))
        assert to_rgb(line.get_color()) == to_rgb(P.color_for(name))
    (num,) = _lines(default_figure, f"numerical:{act.spec}:1")
    x, y = num.get_data()
    np.testing.assert_allclose(y, act.derivative(np.asarray(x)), atol=1e-7)


@pytest.mark.parametrize("name", [n for n in names() if get(n).kinks])
def test_kinks_in_view_are_marked_with_open_and_filled_circles(default_figure, name):
    act = get(name)
    lo, hi = default_figure_range(act)
    shown = [k for k in act.kinks if lo <= k.x <= hi]
    for order in {k.order for k in shown if k.order == 1}:
        used = _lines(default_figure, f"kink-used:{act.spec}:{order}")
        opened = _lines(default_figure, f"kink-open:{act.spec}:{order}")
        ks = [k for k in shown if k.order == order]
        assert [tuple(u.get_xydata()[0]) for u in used] == [(k.x, k.value) for k in ks]
        assert [sorted(o.get_ydata()) for o in opened] == [sorted([k.left, k.right]) for k in ks]
        assert all(u.get_markerfacecolor() != P.THEMES["light"].background for u in used)
        assert all(o.get_markerfacecolor() == P.THEMES["light"].background for o in opened)


def default_figure_range(act):
    from actcheck.plotdata import auto_range

    return auto_range([act])


def test_small_slopes_get_a_zoomed_inset(default_figure):
    insets = [child for ax in default_figure.axes for child in ax.child_axes]
    (zoom,) = [ln for ax in insets for ln in ax.get_lines() if ln.get_gid().startswith("zoom:")]
    assert zoom.get_gid() == "zoom:leaky_relu:0"
    ylo, yhi = zoom.axes.get_ylim()
    assert -0.05 < ylo < -0.04 and 0 <= yhi < 0.01


def test_asymptotes_are_drawn(default_figure):
    ys = {ln.get_ydata()[0] for ln in _lines(default_figure, "asymptote:sigmoid")}
    assert ys == {1.0}
    ys = {ln.get_ydata()[0] for ln in _lines(default_figure, "asymptote:elu")}
    assert ys == {-1.0}


def test_rrelu_band_is_shaded(default_figure):
    gids = [c.get_gid() for ax in default_figure.axes for c in ax.collections]
    assert "band:rrelu:0" in gids and "band:rrelu:1" in gids


# -- families, overlay, options ------------------------------------------------------------


def test_a_family_is_one_panel_with_a_legend_in_shades_of_its_colour():
    acts = [parse_spec(f"leaky_relu:negative_slope={a}") for a in (0.01, 0.1, 0.3)]
    fig = P.activation_figure(acts, FAST)
    (ax,) = [a for a in fig.axes if a.get_title()]
    assert ax.get_title() == "LeakyReLU family"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["negative_slope=0.01", "negative_slope=0.1", "negative_slope=0.3"]
    colors = [to_rgb(_lines(fig, f"curve:{a.spec}:0")[0].get_color()) for a in acts]
    assert len(set(colors)) == 3
    assert P.families([*acts, get("relu"), acts[0]]) == [acts, [get("relu")]]


def test_overlay_puts_every_function_on_one_axes_per_curve_kind():
    acts = [get("relu"), get("gelu"), get("silu")]
    fig = P.activation_figure(acts, P.PlotSpec(samples=64, layout="overlay", orders=(0, 1, 2)))
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["f(x)", "f′(x)", "f″(x)"]
    for ax, order in zip(titled, (0, 1, 2), strict=True):
        gids = {ln.get_gid() for ln in ax.get_lines()}
        assert {f"curve:{a.spec}:{order}" for a in acts} <= gids


def test_drawing_options_are_respected():
    act = get("softsign")
    fig = P.activation_figure([act], P.PlotSpec(samples=64, orders=(1, 2), numerical=False))
    assert not _lines(fig, "curve:softsign:0")
    assert _lines(fig, "curve:softsign:2")
    assert not _lines(fig, "numerical:softsign:1")
    # softsign's order-2 kink is marked on f''
    (used,) = _lines(fig, "kink-used:softsign:2")
    assert tuple(used.get_xydata()[0]) == (0.0, 0.0)
    fig = P.activation_figure([act], P.PlotSpec(samples=64, x_range=(1.0, 3.0)))
    (ax,) = [a for a in fig.axes if a.get_title()]
    assert ax.get_xlim() == (1.0, 3.0)


def test_dark_style_has_a_dark_background(tmp_path):
    fig = P.activation_figure([get("relu")], P.PlotSpec(samples=32, style="dark"))
    path = P.save_figure(fig, tmp_path / "dark.png", dpi=20)
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img[1, 1, :3].mean() < 0.2


def test_parse_draw():
    assert P.parse_draw(["function", "Derivative"]) == (0, 1)
    assert P.parse_draw(["second"]) == (2,)
    with pytest.raises(ValueError, match="choose from function, derivative, second"):
        P.parse_draw(["slope"])


def test_every_catalog_formula_renders_as_mathtext():
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    for n in names():
        for params in ({}, {"approximate": "tanh"} if n == "gelu" else {}):
            act = get(n, **params)
            for text in (act.formula, act.derivative_formula):
                parser.parse(f"${text}$", dpi=72)


def test_formula_words_are_drawn_as_text_with_the_same_look():
    """The captions take words out of math mode (cheaper to parse): same glyphs, same width."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    parser, font = MathTextParser("path"), FontProperties(size=9)
    split = 0
    for n in names():
        formula = get(n).formula
        caption = P._mathtext(formula)
        split += caption != f"${formula}$"
        ours, math = parser.parse(caption, 150, font), parser.parse(f"${formula}$", 150, font)
        assert abs(ours.width - math.width) <= 1 and ours.height == math.height, n
        # glyphs (font, size, character, index, x, y): the same but for spaces, each within
        # a pixel of its place
        glyphs = [g for g in ours.glyphs if g[2] != ord(" ")]
        assert [(*g[:4], g[5]) for g in glyphs] == [(*g[:4], g[5]) for g in math.glyphs], n
        assert max(abs(a[4] - b[4]) for a, b in zip(glyphs, math.glyphs, strict=True)) < 1, n
    assert split == 7
    assert P._mathtext(r"a\ \mathrm{if}\ b") == "$a$ if $b$"
    # a group cannot be split: the word stays math
    for grouped in (r"\frac{a\ \mathrm{if}\ b}{2}", r"\left(a\ \mathrm{if}\ b\right)"):
        assert P._mathtext(grouped) == f"${grouped}$"


@pytest.mark.parametrize("style", ["light", "dark"])
def test_fixed_ticks_draw_matplotlibs_pixels(style):
    """fix_ticks (the CLI's, for a figure only saved) draws what matplotlib's ticks draw."""
    import io

    def pixels(fig):
        buf = io.BytesIO()
        fig.savefig(buf, format="rgba", dpi=72, facecolor="auto")
        return np.frombuffer(buf.getvalue(), np.uint8)

    acts = [get("relu"), get("leaky_relu"), get("sigmoid")]  # leaky_relu's zoomed inset
    spec = P.PlotSpec(samples=64, style=style)
    fixed = P.fix_ticks(P.activation_figure(acts, spec))
    axes = [a for top in fixed.axes for a in (top, *top.child_axes)]
    assert len(axes) == 4 and not any(a.xaxis.get_visible() or a.yaxis.get_visible() for a in axes)
    assert "0.00" in [t.get_text() for t in axes[1].child_axes[0].texts]  # the inset's labels
    np.testing.assert_array_equal(pixels(fixed), pixels(P.activation_figure(acts, spec)))


# -- files -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_figure():
    return P.activation_figure([get("relu"), get("leaky_relu")], P.PlotSpec(samples=32))


def test_png_has_the_expected_size(small_figure, tmp_path):
    path = P.save_figure(small_figure, tmp_path / "f.png", dpi=30)
    w, h = small_figure.get_size_inches()
    assert _png_size(path.read_bytes()) == (round(w * 30), round(h * 30))
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


@pytest.mark.parametrize("opaque", [True, False])
def test_png_has_matplotlibs_pixels(small_figure, tmp_path, opaque):
    """save_figure writes its own PNG (RGB when opaque, quicker): the pixels stay matplotlib's."""
    from PIL import Image

    if not opaque:
        small_figure.patch.set_alpha(0.5)
    path = P.save_figure(small_figure, tmp_path / "f.png", dpi=40)
    small_figure.savefig(tmp_path / "mpl.png", dpi=40, facecolor="auto")
    ours, theirs = Image.open(path), Image.open(tmp_path / "mpl.png")
    assert ours.mode == ("RGB" if opaque else "RGBA") and theirs.mode == "RGBA"
    assert ours.info["dpi"] == theirs.info["dpi"] and ours.info["Software"] == "actcheck"
    np.testing.assert_array_equal(np.asarray(ours.convert("RGBA")), np.asarray(theirs))


def test_svg_parses_and_pdf_has_its_header(small_figure, tmp_path):
    svg = P.save_figure(small_figure, tmp_path / "f.SVG")
    assert ET.parse(svg).getroot().tag.endswith("svg")
    pdf = P.save_figure(small_figure, tmp_path / "f.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")


def test_saving_is_atomic(small_figure, tmp_path):
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf"):
        P.save_figure(small_figure, tmp_path / "f.jpg")
    with pytest.raises(OSError):
        P.save_figure(small_figure, tmp_path / "missing" / "f.png")
    target = tmp_path / "keep.png"
    target.write_bytes(b"old")

    class Boom(RuntimeError):
        pass

    def explode(*args, **kwargs):
        raise Boom

    original = small_figure.savefig
    small_figure.savefig = explode
    try:
        with pytest.raises(Boom):
            P.save_figure(small_figure, target)
    finally:
        small_figure.savefig = original
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_building_a_figure_never_imports_pyplot():
    code = (
        "import sys; from actcheck import get, plotting as P;"
        "P.activation_figure([get('relu')], P.PlotSpec(samples=16));"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plot_help_does_not_import_matplotlib():
    code = (
        "import sys; from click.testing import CliRunner; from actcheck.cli import cli;"
        "r = CliRunner().invoke(cli, ['plot', '--help']); assert r.exit_code == 0;"
        "print(any(m.startswith(('matplotlib', 'numpy')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the command -----------------------------------------------------------------------


FAST_ARGS = ["--samples", "16", "--dpi", "20"]


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def invoke(*args):
        return CliRunner().invoke(cli, ["plot", *args])

    return invoke


def test_default_run_writes_the_default_file(run, tmp_path):
    r = run(*FAST_ARGS)
    assert r.exit_code == 0, r.output
    assert "actcheck-activations.png" in r.output
    _png_size((tmp_path / "actcheck-activations.png").read_bytes())


@pytest.mark.parametrize(
    "args",
    [
        ["leaky_relu", "--sweep", "negative_slope=0.01,0.1,0.3", "-o", "sweep.svg"],
        ["relu", "gelu", "--layout", "overlay", "--second", "-o", "ov.pdf"],
        ["rrelu", "--style", "dark", "--no-numerical", "--range", "-2", "1", "-o", "r.png"],
        ["elu", "--draw", "function,second", "--no-formula", "-o", "e.png"],
    ],
)
def test_options_write_their_file(run, tmp_path, args):
    r = run(*args, *FAST_ARGS)
    assert r.exit_code == 0, r.output
    out = tmp_path / args[args.index("-o") + 1]
    assert out.stat().st_size > 0
    assert f"Wrote {out.name}" in r.output


def test_sweep_applies_to_each_function_having_the_parameter(run, monkeypatch):
    seen = {}

    def fake(acts, spec):
        seen["specs"] = [a.spec for a in acts]
        raise SystemExit(0)

    monkeypatch.setattr(P, "activation_figure", fake)
    run("leaky_relu", "relu", "elu", "celu", "--sweep", "alpha=0.5,2")
    assert seen["specs"] == [
        "leaky_relu", "relu", "elu:alpha=0.5", "elu:alpha=2", "celu:alpha=0.5", "celu:alpha=2",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "out.jpg"], "use one of .png, .svg, .pdf"),
        (["-o", "noext"], "use one of .png, .svg, .pdf"),
        (["-o", "missing/out.png"], "cannot write figure 'missing/out.png': directory"),
        (["--range", "3", "1"], "MIN < MAX"),
        (["--range", "1", "1"], "MIN < MAX"),
        (["--range", "nan", "1"], "finite"),
        (["--range", "-1e308", "1e308"], "within ±1e+150"),
        (["--range", "1"], "requires 2 arguments"),
        (["--samples", "0"], "--samples"),
        (["--dpi", "0"], "--dpi"),
        (["--draw", "slope"], "choose from function, derivative, second"),
        (["--draw", ","], "nothing to draw"),
        (["--layout", "stack"], "--layout"),
        (["--style", "neon"], "--style"),
        (["relu", "--sweep", "alpha=1,2"], "has a parameter 'alpha'"),
        (["leaky_relu", "--sweep", "negative_slope"], "PARAM=V1,V2"),
        (["leaky_relu", "--sweep", "negative_slope=x"], "must be a number"),
        (["hardtanh", "--sweep", "min_val=2"], "min_val must be less than max_val"),
        (["relux"], "unknown activation 'relux'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_file(run, tmp_path, args, message):
    r = run("--samples", "16", "--dpi", "20", *args)
    assert r.exit_code == 2, r.output
    assert len(r.output.strip().splitlines()) == 1
    assert r.output.startswith("Error: ") and message in r.output
    assert "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_is_one_line(run, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        r = run("relu", "-o", str(locked / "f.png"), *FAST_ARGS)
    finally:
        locked.chmod(0o700)
    assert r.exit_code == 2 and "Permission denied" in r.output
    assert list(locked.iterdir()) == []


def test_show_without_a_display_still_writes_the_file(run, tmp_path, monkeypatch):
    monkeypatch.setattr(P, "has_display", lambda: False)
    r = run("relu", "--show", *FAST_ARGS)
    assert r.exit_code == 0
    assert "no display" in r.output
    assert (tmp_path / "actcheck-activations.png").exists()


def test_show_with_a_display_opens_the_figure(run, monkeypatch):
    shown = []
    monkeypatch.setattr(P, "has_display", lambda: True)
    monkeypatch.setattr(P, "show_figure", shown.append)
    r = run("relu", "--show", *FAST_ARGS)
    assert r.exit_code == 0 and len(shown) == 1


def test_has_display_follows_the_environment(monkeypatch):
    if sys.platform in ("darwin", "win32"):
        pytest.skip("always has a display")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not P.has_display()
    monkeypatch.setenv("DISPLAY", ":0")
    assert P.has_display()


def test_paths_are_relative_to_the_working_directory(run, tmp_path):
    Path("sub").mkdir()
    r = run("relu", "-o", "sub/x.png", *FAST_ARGS)
    assert r.exit_code == 0 and (tmp_path / "sub" / "x.png").exists()


def test_cli_defaults_match_the_library_defaults():
    from actcheck import plotdata

    params = {p.name: p.default for p in cli.commands["plot"].params}
    assert params["output"] == P.DEFAULT_OUTPUT
    assert params["dpi"] == P.DEFAULT_DPI
    assert params["samples"] == P.PlotSpec().samples == plotdata.DEFAULT_SAMPLES
    types = {p.name: p.type for p in cli.commands["plot"].params}
    assert tuple(types["layout"].choices) == P.LAYOUTS
    assert tuple(types["style"].choices) == P.STYLES
    assert (types["samples"].min, types["samples"].max) == (
        plotdata.MIN_SAMPLES,
        plotdata.MAX_SAMPLES,
    )


def _documented_commands() -> list[str]:
    root = Path(__file__).resolve().parent.parent
    lines = []
    for doc in ("README.md", "docs/gallery.md"):
        for line in (root / doc).read_text().splitlines():
            if line.startswith("actcheck plot"):
                lines.append(line.split("  #")[0].strip())
    return lines


@pytest.mark.parametrize("command", _documented_commands())
def test_documented_commands_parse(command, run, monkeypatch):
    import shlex

    made = []
    monkeypatch.setattr(P, "activation_figure", lambda acts, spec: made.append(spec) or _Fig())
    monkeypatch.setattr(P, "save_figure", lambda fig, path, dpi: Path(path))
    monkeypatch.setattr(P, "fix_ticks", lambda fig: fig)
    # the documented paths (docs/images/...) need not exist where the test runs
    monkeypatch.setattr(actcheck.cli.plot, "check_output", lambda path, what, figure=False: None)
    r = run(*shlex.split(command)[2:])
    assert r.exit_code == 0, r.output
    assert len(made) == 1


class _Fig:
    def get_size_inches(self):
        return (1.0, 1.0)


def test_catalog_colours_are_distinct():
    """Every catalog entry gets its own colour, far enough from every other to tell apart."""
    from matplotlib.colors import to_rgb

    import actcheck
    from actcheck.plotting import color_for

    rgb = {n: to_rgb(color_for(n)) for n in actcheck.names()}
    assert len(set(rgb.values())) == len(rgb)
    for a in rgb:
        for b in rgb:
            if a < b:
                dist = sum((x - y) ** 2 for x, y in zip(rgb[a], rgb[b], strict=True)) ** 0.5
                assert dist > 0.15, (a, b, dist)


def test_the_plot_command_loads_neither_scipy_nor_rich(tmp_path):
    """Issue 12: ``actcheck plot`` needs neither (scipy.special was 0.19 s of a 1.7 s run)."""
    code = (
        "import sys\n"
        "from actcheck.cli import cli\n"
        "cli(['plot', '-o', sys.argv[1]], standalone_mode=False)  # the default grid\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'rich'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "f.png")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.splitlines()[-1] == "[]", out.stdout


@pytest.mark.parametrize("dpi", ["20", "150", "77"])
def test_the_size_said_is_the_size_written(run, tmp_path, dpi):
    # the default grid at 150 dpi is 937.5 px wide, which Agg truncates to 937
    r = run("relu", "leaky_relu", "--samples", "16", "--dpi", dpi, "-o", "f.png")
    assert r.exit_code == 0, r.output
    w, h = _png_size((tmp_path / "f.png").read_bytes())
    assert f"PNG, {w}x{h} px" in r.output
