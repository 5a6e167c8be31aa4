"""matplotlib Figure builders (object API only, no pyplot state).

matplotlib is imported inside the functions that draw, so importing this module
(or running ``actcheck --help``) stays fast. The one pyplot use is
``show_figure``, for ``--show`` on a machine with a display.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actcheck import defaults

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from actcheck.activations import Activation
    from actcheck.catalogcheck import GradcheckResult
    from actcheck.plotdata import CurveData


def color_for(name: str) -> str:
    """The colour of activation ``name`` in every actcheck figure (its catalog entry's).

    One colour per entry, so ReLU is the same blue in the curve grid, the gradcheck
    plot and the XOR loss chart.
    """
    from actcheck.activations import color_of

    return color_of(name)


# ---------------------------------------------------------------------------
# Activation curves: ``actcheck plot``
# ---------------------------------------------------------------------------
# The numbers come from actcheck.plotdata; this section only draws them. Every
# artist carries a gid ("curve:<spec>:<order>", "numerical:...", "kink-used:...")
# so tests and callers can find the data behind it.

FORMATS = defaults.FIGURE_FORMATS
LAYOUTS = defaults.LAYOUTS
STYLES = defaults.STYLES
DRAWABLE = {"function": 0, "derivative": 1, "second": 2}
DEFAULT_DPI = defaults.PLOT_DPI
DEFAULT_OUTPUT = defaults.PLOT_OUTPUT

# Panel sizes in inches by panel count: a lone panel is drawn large, a grid small.
_PANEL_SIZES = ((1, (5.6, 4.5)), (4, (4.3, 3.6)), (9, (3.5, 3.0)), (10**9, (3.1, 2.75)))
_OVERLAY_SIZE = (5.2, 4.2)
# columns by panel count: 4 panels as 2×2, up to 9 in three columns, the catalog in six
_GRID_COLS = ((1, 1), (2, 2), (3, 3), (4, 2), (9, 3), (12, 4), (10**9, 6))
_MARGIN_L, _MARGIN_R = 0.45, 0.2  # inches
_CAPTION_LINE_H = 0.19  # inches per caption line under a panel (formula, kink values)
_LEGEND_ROW_H = 0.3
_TITLE_H = 0.45
_KEY_FONT = 10

_LW = {0: 2.1, 1: 1.7, 2: 1.5}
_DASH = {0: "-", 1: (0, (5, 2.2)), 2: (0, (1.2, 1.6))}
_ORDER_NAME = {0: "f(x)", 1: "f′(x)", 2: "f″(x)"}
_KINK_SIZE = 6.5
_NUM_SIZE = 4.5
_FAMILY_SHADES = (-0.45, 0.4)  # darkest .. lightest member (mix toward black / white)
_INSETS = {
    "upper left": (0.17, 0.54, 0.36, 0.32),
    "upper right": (0.6, 0.54, 0.36, 0.32),
    "lower left": (0.17, 0.1, 0.36, 0.32),
    "lower right": (0.6, 0.1, 0.36, 0.32),
}


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    foreground: str
    muted: str
    grid: str
    numeric: str
    lighten: float  # palette colours mixed toward white by this much (dark backgrounds)


THEMES = {
    "light": Theme("light", "#ffffff", "#1b1f24", "#5a6270", "#e3e6ea", "#111111", 0.0),
    "dark": Theme("dark", "#15181e", "#dde2ea", "#9aa3b2", "#2c323c", "#f4f4f4", 0.25),
}


@dataclass(frozen=True)
class PlotSpec:
    """What to draw: curve orders (0 f, 1 f', 2 f''), markers, range, samples, layout."""

    orders: tuple[int, ...] = (0, 1)
    numerical: bool = True
    x_range: tuple[float, float] | None = None
    samples: int = defaults.SAMPLES
    layout: str = defaults.LAYOUT
    style: str = defaults.STYLE
    formula: bool = True


def _mix(color: str, amount: float) -> tuple[float, float, float]:
    """Blend ``color`` toward white (amount > 0) or black (amount < 0)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    t = 1.0 if amount > 0 else 0.0
    a = abs(amount)
    return (r + (t - r) * a, g + (t - g) * a, b + (t - b) * a)


def _rc(theme: Theme) -> dict[str, Any]:
    return {
        "font.size": 10.5,
        "axes.titlesize": 11.5,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 10,
        "axes.facecolor": theme.background,
        "figure.facecolor": theme.background,
        "savefig.facecolor": theme.background,
        "text.color": theme.foreground,
        "axes.labelcolor": theme.foreground,
        "axes.titlecolor": theme.foreground,
        "axes.edgecolor": theme.grid,
        "xtick.color": theme.muted,
        "ytick.color": theme.muted,
        "grid.color": theme.grid,
        "grid.linewidth": 0.7,
        # grid and tick style as defaults for every new axes, not per-axes calls afterwards:
        # ax.grid() and ax.tick_params() afterwards re-style every tick already made
        "axes.grid": True,
        "axes.axisbelow": True,
        "xtick.major.size": 3,
        "ytick.major.size": 3,
        "xtick.major.width": 0.8,
        "ytick.major.width": 0.8,
        "xtick.major.pad": 2,
        "ytick.major.pad": 2,
        "legend.frameon": False,
        "svg.fonttype": "path",
        "pdf.fonttype": 42,
        "svg.hashsalt": "actcheck",
    }


def families(acts: Sequence[Activation]) -> list[list[Activation]]:
    """Group activations by catalog name, keeping first-appearance order (one panel each)."""
    groups: dict[str, list[Activation]] = {}
    for act in acts:
        members = groups.setdefault(act.name, [])
        if act not in members:
            members.append(act)
    return list(groups.values())


def family_colors(members: Sequence[Activation], theme: Theme) -> list[tuple[float, float, float]]:
    """Shades of the family's ``color_for`` colour, darkest first."""
    base = color_for(members[0].name)
    if len(members) == 1:
        return [_mix(base, theme.lighten)]
    lo, hi = _FAMILY_SHADES
    step = (hi - lo) / (len(members) - 1)
    return [_mix(base, lo + i * step + theme.lighten * 0.5) for i in range(len(members))]


def member_label(act: Activation, members: Sequence[Activation]) -> str:
    """The parameters that differ within a family (``negative_slope=0.1``), else the label."""
    varying = [k for k in act.params if len({m.params[k] for m in members}) > 1]
    if not varying or len(members) == 1:
        return act.label
    return ", ".join(f"{k}={_short(act.params[k])}" for k in varying)


def _short(v: float | str) -> str:
    return v if isinstance(v, str) else f"{v:.4g}"


def parse_draw(items: Sequence[str]) -> tuple[int, ...]:
    """``("function", "derivative")`` -> curve orders ``(0, 1)``; raises ValueError."""
    orders = set()
    for item in items:
        key = item.strip().lower()
        if key not in DRAWABLE:
            raise ValueError(f"cannot draw {item!r}; choose from {', '.join(DRAWABLE)}")
        orders.add(DRAWABLE[key])
    if not orders:
        raise ValueError(f"nothing to draw; choose from {', '.join(DRAWABLE)}")
    return tuple(sorted(orders))


# -- drawing one axes ---------------------------------------------------------


@functools.cache
def _in_view_locator_class() -> type:
    from matplotlib.ticker import AutoLocator

    class InViewLocator(AutoLocator):
        """matplotlib's default tick locator, less the ticks outside the view.

        The default one also places a tick beyond each end, and matplotlib builds a
        full tick (three lines, two labels) for it before it drops it from the drawing.
        """

        def __call__(self) -> Any:
            lo, hi = sorted(self.axis.get_view_interval())
            slack = 1e-10 * (hi - lo)
            return [v for v in super().__call__() if lo - slack <= v <= hi + slack]

    return InViewLocator


def _in_view_locator() -> Any:
    return _in_view_locator_class()()


def _axes_style(ax: Axes, x_range: tuple[float, float], y_range: tuple[float, float],
                theme: Theme) -> None:  # fmt: skip
    # grid, axisbelow and tick length, width and pad come from _rc, set when the axes is made
    ax.set_xlim(*x_range)
    ax.set_ylim(*y_range)
    ax.xaxis.set_major_locator(_in_view_locator())
    ax.yaxis.set_major_locator(_in_view_locator())
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _fixed_axis_labels(ax)
    # the coordinate axes through the origin; tick labels stay on the frame, clear of the curves
    ax.axhline(0.0, color=theme.muted, lw=0.9, zorder=2)
    if x_range[0] < 0 < x_range[1]:
        ax.axvline(0.0, color=theme.muted, lw=0.9, zorder=2)


def _fixed_axis_labels(ax: Axes) -> None:
    """Axis labels at fixed places, so drawing does not measure every tick label to move them.

    The panels have no axis labels (captions sit under them), but matplotlib measures all
    tick labels of every axis again at each draw to keep its labels clear of them: 0.03 s
    for the default grid. Where it would put them about, for a caller who adds one.
    """
    ax.xaxis.set_label_coords(0.5, -0.12)
    ax.yaxis.set_label_coords(-0.12, 0.5)


def _draw_data(ax: Axes, data: CurveData, color: Any, theme: Theme, label: str | None) -> None:
    spec = data.act.spec
    if data.band is not None:
        b = data.band
        ax.fill_between(b.x, b.low, b.high, color=color, alpha=0.2, lw=0, zorder=1,
                        gid=f"band:{spec}:0")  # fmt: skip
        if 1 in data.curves:
            ax.fill_between(b.x, b.dlow, b.dhigh, color=color, alpha=0.14, lw=0, zorder=1,
                            gid=f"band:{spec}:1")  # fmt: skip
    for value in data.asymptotes:
        ax.axhline(value, color=color, lw=0.9, ls=(0, (3, 3)), alpha=0.6, zorder=1,
                   gid=f"asymptote:{spec}")  # fmt: skip
    for order, c in data.curves.items():
        ax.plot(c.x, c.y, color=color, lw=_LW[order], ls=_DASH[order], zorder=3 + order,
                label=label if order == min(data.curves) else None,
                gid=f"curve:{spec}:{order}", solid_capstyle="butt")  # fmt: skip
    for order, m in data.markers.items():
        ax.plot(m.x, m.y, ls="none", marker="x", ms=_NUM_SIZE, mew=1.0, color=theme.numeric,
                alpha=0.9, zorder=8, gid=f"numerical:{spec}:{order}")  # fmt: skip
    for k in data.kinks:
        sides = [k.left, k.right] if k.left != k.right else [k.left]
        ax.plot([k.x] * len(sides), sides, ls="none", marker="o", ms=_KINK_SIZE, mew=1.4,
                mfc=theme.background, mec=color, zorder=9, gid=f"kink-open:{spec}:{k.order}",
                clip_on=False)  # fmt: skip
        ax.plot([k.x], [k.value], ls="none", marker="o", ms=_KINK_SIZE, mew=1.4, mfc=color,
                mec=color, zorder=10, gid=f"kink-used:{spec}:{k.order}", clip_on=False)  # fmt: skip


def _round2(v: float) -> str:
    """Two significant digits, written plainly (101 -> 100, 37.4 -> 37)."""
    return f"{float(f'{v:.2g}'):g}"


def _draw_zoom(ax: Axes, datas: Sequence[CurveData], colors: Sequence[Any], theme: Theme,
               y_range: tuple[float, float], corners: list[str]) -> None:  # fmt: skip
    """A zoomed inset on a nearly flat stretch of f, in the emptiest corner (which it takes)."""
    from actcheck.plotdata import zoom_window

    z = zoom_window(datas, y_range)
    if z is None:
        return
    ins = ax.inset_axes(_INSETS[corners.pop(0)])
    for d, color in zip(datas, colors, strict=True):
        c = d.curves[0]
        ins.plot(c.x, c.y, color=color, lw=1.6, gid=f"zoom:{d.act.spec}:0")
    _fixed_axis_labels(ins)
    ins.set_xlim(z.x0, z.x1)
    ins.set_ylim(z.y0, z.y1)
    ins.tick_params(labelsize=7, length=2, pad=1, colors=theme.muted)
    ins.locator_params(nbins=3)
    ins.grid(True, lw=0.5)
    ins.set_facecolor(theme.background)
    for spine in ins.spines.values():
        spine.set_color(theme.muted)
        spine.set_linewidth(0.7)
    zoom = _round2((y_range[1] - y_range[0]) / (z.y1 - z.y0))
    ins.set_title(f"y zoom ×{zoom}", fontsize=8, pad=3, loc="right", color=theme.muted, y=1.0)
    ax.indicate_inset_zoom(ins, edgecolor=theme.muted, alpha=0.6, lw=0.7)


def _mathtext(formula: str) -> str:
    r"""``formula`` for matplotlib's mathtext, its words between spaces as text.

    ``x\ \mathrm{if}\ x>0`` becomes ``$x$ if $x>0$``: the same glyphs from the same font,
    the spaces within a hundredth of an em, but text is not parsed symbol by symbol (7 of
    the catalog's formulas; their parse takes half the time). A word inside a group
    (``{...}``, ``\left...\right``) stays math: the group cannot be split.
    """

    def word(m: re.Match[str]) -> str:
        before = formula[: m.start()]
        depth = before.count("{") - before.count("}") + before.count(r"\left")
        return f"$ {m[1]} $" if depth == before.count(r"\right") else m[0]

    text = "$" + _TEXT_WORD.sub(word, formula) + "$"
    return text.removeprefix("$$").removesuffix("$$")  # no empty math at either end


_TEXT_WORD = re.compile(r"\\ \\mathrm\{(\w+)\}\\ ")


def _caption(ax: Axes, lines: Sequence[str], theme: Theme) -> None:
    if lines:
        ax.text(0.5, -0.1, "\n".join(lines), transform=ax.transAxes, ha="center", va="top",
                fontsize=9, color=theme.muted, linespacing=1.5)  # fmt: skip


def _panel(ax: Axes, members: Sequence[Activation], spec: PlotSpec, theme: Theme) -> None:
    from actcheck.plotdata import auto_range, curve_data, emptiest_corners, kink_caption, y_limits

    x_range = spec.x_range or auto_range(members)
    datas = [curve_data(a, x_range, spec.orders, samples=spec.samples, numerical=spec.numerical)
             for a in members]  # fmt: skip
    colors = family_colors(members, theme)
    single = len(members) == 1
    for d, color in zip(datas, colors, strict=True):
        _draw_data(ax, d, color, theme, None if single else member_label(d.act, members))
    y_range = y_limits(datas)
    _axes_style(ax, x_range, y_range, theme)
    # y given: matplotlib then skips measuring every tick label to lift the title clear of
    # top-side decorations, which these panels do not have (the PNG is pixel for pixel the same)
    ax.set_title(members[0].label if single else f"{members[0].title} family", pad=6, y=1.0)
    corners = emptiest_corners(datas, x_range, y_range)
    if 0 in spec.orders:
        _draw_zoom(ax, datas, colors, theme, y_range, corners)
    if not single:
        ax.legend(loc=corners[0], fontsize=8.5, handlelength=1.6, borderaxespad=0.3)
    lines = [_mathtext(members[0].formula)] if spec.formula else []
    if single:
        lines += kink_caption(datas[0].kinks)
    _caption(ax, lines, theme)


def _overlay(axes: Sequence[Axes], groups: Sequence[Sequence[Activation]], spec: PlotSpec,
             theme: Theme) -> None:  # fmt: skip
    from actcheck.plotdata import auto_range, curve_data, emptiest_corners, y_limits

    acts = [a for g in groups for a in g]
    x_range = spec.x_range or auto_range(acts)
    for ax, order in zip(axes, spec.orders, strict=True):
        datas, colors = [], []
        for members in groups:
            for act, color in zip(members, family_colors(members, theme), strict=True):
                d = curve_data(act, x_range, (order,), samples=spec.samples,
                               numerical=spec.numerical)  # fmt: skip
                _draw_data(ax, d, color, theme, act.label)
                datas.append(d)
                colors.append(color)
        y_range = y_limits(datas)
        _axes_style(ax, x_range, y_range, theme)
        ax.set_title(_ORDER_NAME[order], pad=6, y=1.0)
        if order == 0:
            _draw_zoom(ax, datas, colors, theme, y_range, emptiest_corners(datas, x_range, y_range))


def _key_handles(spec: PlotSpec, theme: Theme, acts: Sequence[Activation]) -> list[Any]:
    """Legend entries explaining each line style and marker."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fg = theme.foreground
    handles = []
    if spec.layout == "overlay":
        # one axes per curve kind, so the key names the functions by colour
        for members in families(acts):
            for act, color in zip(members, family_colors(members, theme), strict=True):
                handles.append(Line2D([], [], color=color, lw=_LW[0], label=act.label))
    handles += [Line2D([], [], color=fg, lw=_LW[o], ls=_DASH[o], label=_ORDER_NAME[o])
                for o in spec.orders]  # fmt: skip
    if spec.numerical and any(o >= 1 for o in spec.orders):
        handles.append(Line2D([], [], ls="none", marker="x", ms=_NUM_SIZE + 1, mew=1.2,
                              color=theme.numeric, label="numerical derivative"))  # fmt: skip
    handles += [
        Line2D([], [], ls="none", marker="o", ms=_KINK_SIZE, mew=1.4, mfc=theme.background,
               mec=fg, label="kink: one-sided limits"),
        Line2D([], [], ls="none", marker="o", ms=_KINK_SIZE, mfc=fg, mec=fg,
               label="value used at the kink"),
    ]  # fmt: skip
    if 0 in spec.orders:
        handles.append(Line2D([], [], color=fg, lw=0.9, ls=(0, (3, 3)), alpha=0.7,
                              label="limit as x → ±∞"))  # fmt: skip
        if any(a.stochastic for a in acts):
            handles.append(Patch(color=theme.muted, alpha=0.35, label="training-mode range"))
    return handles


def _legend_columns(handles: Sequence[Any], width: float) -> int:
    """The most legend columns that fit in ``width`` inches (entries fill column by column)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, 72)  # at 72 dpi a width in pixels is a width in points
    font = FontProperties(size=_KEY_FONT)
    text = [renderer.get_text_width_height_descent(h.get_label(), font, ismath=False)[0] / 72
            for h in handles]  # fmt: skip
    # handle (2.2 em) + pad (0.8 em) + column spacing (1.4 em), in inches
    widths = [t + 4.4 * _KEY_FONT / 72 for t in text]
    for ncol in range(len(widths), 1, -1):
        # matplotlib's split: the first `extra` columns hold one entry more
        per, extra = divmod(len(widths), ncol)
        sizes = [per + 1] * extra + [per] * (ncol - extra)
        starts = [sum(sizes[:i]) for i in range(ncol)]
        total = sum(max(widths[a : a + n]) for a, n in zip(starts, sizes, strict=True) if n)
        if total <= width - 0.3:
            return ncol
    return 1


def _grid_shape(n: int) -> tuple[int, int, tuple[float, float]]:
    size = next(s for limit, s in _PANEL_SIZES if n <= limit)
    ncols = next(c for limit, c in _GRID_COLS if n <= limit)
    return ncols, math.ceil(n / ncols), size


def activation_figure(acts: Sequence[Activation], spec: PlotSpec | None = None) -> Figure:
    """The ``actcheck plot`` figure: a grid of panels (one per family) or one overlay.

    Built on matplotlib's object API (no pyplot state, no display needed); the
    layout uses fixed margins, which costs nothing, unlike constrained layout.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    spec = spec or PlotSpec()
    theme = THEMES[spec.style]
    groups = families(acts)
    with mpl.rc_context(_rc(theme)):
        if spec.layout == "overlay":
            ncols, nrows, (pw, ph) = len(spec.orders), 1, _OVERLAY_SIZE
        else:
            ncols, nrows, (pw, ph) = _grid_shape(len(groups))
        handles = _key_handles(spec, theme, acts)
        width = ncols * pw + _MARGIN_L + _MARGIN_R
        legend_cols = _legend_columns(handles, width)
        legend_h = _LEGEND_ROW_H * math.ceil(len(handles) / legend_cols) + 0.15
        caption = 0.15
        if spec.layout == "grid":
            lines = int(spec.formula) + sum(o >= 1 for o in spec.orders)
            caption += _CAPTION_LINE_H * lines
        bottom = caption + 0.25
        gap = caption + _TITLE_H + 0.1  # between rows: the caption above, the title below
        axes_h = ph - gap
        height = legend_h + _TITLE_H + nrows * axes_h + (nrows - 1) * gap + bottom
        fig = Figure(figsize=(width, height))
        # fixed margins in inches: constrained/tight layout cost more than the drawing
        fig.subplots_adjust(
            left=_MARGIN_L / width,
            right=1 - _MARGIN_R / width,
            bottom=bottom / height,
            top=1 - (legend_h + _TITLE_H) / height,
            wspace=0.3,
            hspace=gap / axes_h,
        )
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        if spec.layout == "overlay":
            _overlay(axes, groups, spec, theme)
        else:
            for ax, members in zip(axes, groups, strict=False):
                _panel(ax, members, spec, theme)
            for ax in axes[len(groups) :]:
                ax.set_visible(False)
        fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.06 / height),
                   ncol=legend_cols, fontsize=_KEY_FONT, handlelength=2.2,
                   columnspacing=1.4)  # fmt: skip
    return fig


def output_format(path: str | os.PathLike[str]) -> str:
    """``png``/``svg``/``pdf`` from the file extension; ValueError for anything else.

    Without an extension, ``-`` (stdout), a device or a FIFO gets PNG.
    """
    ext = Path(path).suffix.lower().lstrip(".")
    if not ext and _is_stream(path):  # stdout, /dev/stdout, a FIFO: the default format
        return FORMATS[0]
    if ext not in FORMATS:
        shown = f"'.{ext}' is not a figure format" if ext else "a figure needs an extension"
        raise ValueError(f"{shown}; use one of " + ", ".join(f".{f}" for f in FORMATS) + " (or -)")
    return ext


def _is_stream(path: str | os.PathLike[str]) -> bool:
    from actcheck.files import destination

    try:
        return destination(path).kind != "file"
    except OSError:
        return False


def fix_ticks(fig: Figure) -> Figure:
    """Draw the ticks, grid lines and tick labels of ``fig`` as plain artists: the same pixels
    in about half the time, for a figure that is only saved (``actcheck plot``).

    matplotlib builds each tick as five artists (two of them hidden) and measures every
    tick label twice more than it draws it; the default grid's 38 axes spend 0.2 s of a
    0.45 s draw on it. Here each axis draws its grid lines, one line of tick marks and its
    labels, placed and styled as matplotlib's own first tick, at the places and with the
    texts its locator and formatter give now. The axes no longer follow a later change of
    their limits or ticks: meant for a figure about to be saved. An axis with minor ticks
    is left as it is.
    """
    for ax in [a for top in fig.axes for a in (top, *top.child_axes)]:  # insets too
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_visible() and not len(axis.get_minor_locator()()):
                _fix_axis(ax, axis)
    return fig


def _fix_axis(ax: Axes, axis: Any) -> None:
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.text import Text
    from matplotlib.transforms import TransformedPatchPath

    locs = list(axis.get_majorticklocs())
    labels = axis.major.formatter.format_ticks(locs)  # all of them: they share a format
    # the ticks matplotlib draws: those in the view, within its tolerance
    to_screen = axis.get_transform().transform
    lo, hi = sorted(to_screen(axis.get_view_interval()))
    slack = 1e-10 * (hi - lo)
    shown = [(v, t) for v, t in zip(locs, labels, strict=True)
             if lo - slack <= to_screen(v) <= hi + slack]  # fmt: skip
    proto = axis.majorTicks[0]  # made with the axes, styled by rc and tick_params
    on_x = axis is ax.xaxis

    def at(values: Any, other: Any) -> tuple[Any, Any]:
        return (values, other) if on_x else (other, values)

    artists: list[Any] = []
    if proto.gridline.get_visible() and shown:
        # one line, its segments apart (NaN between them): one artist to copy and draw
        grid = Line2D([], [])
        grid.update_from(proto.gridline)
        grid.set_data(
            *at([w for v, _ in shown for w in (v, v, np.nan)], [0, 1, np.nan] * len(shown))
        )
        artists.append(grid)
    for mark, side in ((proto.tick1line, 0), (proto.tick2line, 1)):
        if mark.get_visible() and shown:
            line = Line2D([], [])
            line.update_from(mark)
            line.set_data(*at([v for v, _ in shown], [side] * len(shown)))
            artists.append(line)
    for label in (proto.label1, proto.label2):
        if label.get_visible():
            for v, text in shown:
                copy = Text()
                copy.update_from(label)
                copy.set_position(at(v, label.get_position()[1 if on_x else 0]))
                copy.set_text(text)
                artists.append(copy)
    # the grid lines keep the clip box copied from matplotlib's; the rest is not clipped,
    # and gets a clip path (unused) so that add_artist does not build one for each
    unused = TransformedPatchPath(ax.patch)
    for artist in artists:
        artist.set_zorder(axis.get_zorder())
        if artist.get_clip_path() is None and artist.get_clip_box() is None:
            artist.set_clip_path(unused)
            artist.set_clip_on(False)
        ax.add_artist(artist)
    axis.set_visible(False)


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: float = DEFAULT_DPI) -> Path:
    """Write ``fig`` to ``path`` atomically (temp file in the same folder, then rename).

    Raises ValueError for an unsupported extension and OSError when the folder
    cannot be written; either way no file (complete or partial) is left behind.
    """
    from actcheck.files import write_atomically

    target = Path(path)
    fmt = output_format(target)

    def write(tmp: str) -> None:
        import matplotlib as mpl

        # the settings read while saving, not while building: set here, or a caller's rc
        # (or none at all) decides them and the same figure gives different bytes
        with mpl.rc_context(SAVE_RC):
            if fmt != "png" or not _write_png(fig, tmp, dpi):
                # facecolor "auto": the figure's own background (each theme sets it)
                fig.savefig(tmp, format=fmt, dpi=dpi, facecolor="auto", metadata=_metadata(fmt))

    return write_atomically(target, write)


def pixel_size(fig: Figure, dpi: float) -> tuple[int, int]:
    """(width, height) in pixels of ``fig`` saved at ``dpi``: matplotlib (3.11) truncates
    size·dpi, rounding up within 1e-8 of the next integer (the default grid at 150 dpi is
    937.5 px wide: 937)."""
    w, h = fig.get_size_inches()
    return int(w * dpi + 1e-8), int(h * dpi + 1e-8)


def _write_png(fig: Figure, path: str, dpi: float) -> bool:
    """Draw ``fig`` and write it as PNG: RGB when it is opaque, zlib level 3; False if not written.

    The pixels are matplotlib's, but its PNG writer (Pillow's) keeps an alpha channel that
    is 255 everywhere on an opaque figure, tries a filter per row and compresses at level
    6. Rows unfiltered at level 3 compress as well on these flat-coloured figures (the
    default grid: 402 KiB against Pillow's 440 KiB with its filters) in a third of the
    time: 0.03 s instead of 0.08 s.
    """
    import numpy as np

    pixels = _Pixels()
    fig.savefig(pixels, format="rgba", dpi=dpi, facecolor="auto")
    width, height = pixel_size(fig, dpi)
    rgba = np.frombuffer(pixels.data, np.uint8)
    if rgba.size != 4 * width * height:  # another matplotlib's rounding: its own writer
        return False
    rgba = rgba.reshape(height, width, 4)
    channels = 3 if rgba[:, :, 3].min() == 255 else 4
    # each row: filter type 0 (none), then its pixels; a channel at a time (a fifth of the
    # time numpy takes to copy 3 bytes of every 4 at once)
    rows = np.zeros((height, 1 + width * channels), np.uint8)
    for c in range(channels):
        rows[:, 1 + c :: channels] = rgba[:, :, c]
    with open(path, "wb") as fh:
        for part in _png_chunks(rows, width, channels, dpi):
            fh.write(part)
    return True


class _Pixels(io.BytesIO):
    """Where savefig writes raw RGBA: keeps the renderer's buffer instead of copying it."""

    data: Any = b""

    def write(self, data: Any) -> int:
        # more than one write (never seen from matplotlib) leaves too few bytes: then the
        # caller falls back to matplotlib's writer
        self.data = data
        return memoryview(data).nbytes


def _png_chunks(rows: Any, width: int, channels: int, dpi: float) -> Iterator[bytes]:
    """The PNG file of ``rows`` (filter byte, then 8-bit RGB or RGBA pixels), in parts."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(data, zlib.crc32(kind))
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2 if channels == 3 else 6, 0, 0, 0)
    per_metre = int(dpi / 0.0254 + 0.5)  # as Pillow (matplotlib's writer) rounds it
    yield b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    yield chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
    for key, value in _metadata("png").items():
        yield chunk(b"tEXt", f"{key}\0{value}".encode("latin-1"))
    yield chunk(b"IDAT", zlib.compress(rows, 3))
    yield chunk(b"IEND", b"")


# read by matplotlib at save time: same arguments, same bytes (SVG ids are salted hashes)
SAVE_RC = {"svg.hashsalt": "actcheck", "svg.fonttype": "path", "pdf.fonttype": 42}


def _metadata(fmt: str) -> dict[str, Any]:
    # reproducible files: no creation dates, a stable creator
    if fmt == "png":
        return {"Software": "actcheck"}
    if fmt == "svg":
        return {"Date": None, "Creator": "actcheck"}
    return {"CreationDate": None, "Creator": "actcheck", "Producer": "actcheck"}


def has_display() -> bool:
    """Whether an interactive window can open."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show_figure(fig: Figure) -> None:
    """Open ``fig`` in a window: the one place actcheck uses pyplot (it needs a GUI loop).

    The figure is shown as its rendered image, so the window matches the file.
    """
    import io

    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, facecolor="auto")
    buf.seek(0)
    img = mpimg.imread(buf, format="png")
    window = plt.figure(figsize=(img.shape[1] / 100, img.shape[0] / 100))
    ax = window.add_axes((0, 0, 1, 1))
    ax.imshow(img)
    ax.set_axis_off()
    plt.show()


# train-xor: loss chart and decision boundaries
# ---------------------------------------------------------------------------

# Losses of solved seeds fall to 1e-30 and below; the chart floors them here so
# that the interesting range (1e-8 .. 10) keeps the height.
XOR_LOSS_FLOOR = 1e-8
# Diverged seeds (a learning rate far too large) reach 1e300 and inf: drawn at this ceiling,
# since a log axis reaching the largest floats cannot label its ticks
XOR_LOSS_CEILING = 1e30
# (linestyle, marker) per curve in order, so that similar palette colours stay apart
_LINESTYLES = (
    ("-", None), ("--", None), ("-.", None), (":", None),
    ("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"),
)  # fmt: skip
_XOR_TARGET_COLORS = ("#08306b", "#67000d")  # dark ends of RdBu_r: target 0, target 1


def _xor_name(act: Any) -> str:
    # parameters only when they differ from the defaults: "ELU", "LeakyReLU(negative_slope=0.2)"
    return act.title if act.spec == act.name else act.label


def _xor_label(result: Any) -> str:
    return f"{_xor_name(result.activation)}: {100 * result.success_rate:.0f}% solved"


def _xor_setup(result: Any) -> str:
    c = result.config
    return (
        f"2-{c.hidden}-1 net {'with' if c.bias else 'without'} biases, {c.loss} loss, "
        f"{c.optimizer} lr={c.lr:g}, {c.init} init, {len(result.seeds)} seeds"
    )


def xor_loss_figure(results: Sequence[Any], title: str | None = None) -> Any:
    """Loss against epoch (log scale): per activation the median across seeds and the
    band between the 25th and 75th percentiles; PReLU's learned slope in a second panel."""
    import numpy as np
    from matplotlib.figure import Figure

    slope_results = [r for r in results if r.slopes is not None]
    fig = Figure(figsize=(9, 6.2 if slope_results else 5.2), layout="constrained")
    if slope_results:
        ax, ax_slope = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    else:
        ax, ax_slope = fig.subplots(), None
    lowest = np.inf
    band_alpha = min(0.15, 1.0 / len(results))  # many overlapping bands would turn to mud
    for k, r in enumerate(results):
        q = np.clip(r.loss_quartiles(), XOR_LOSS_FLOOR, XOR_LOSS_CEILING)
        lowest = min(lowest, float(q[0].min(initial=np.inf)))
        t = np.arange(r.epochs_completed)
        color = color_for(r.activation.name)
        ax.fill_between(t, q[0], q[2], color=color, alpha=band_alpha, linewidth=0)
        style, marker = _LINESTYLES[k % len(_LINESTYLES)]
        ax.plot(
            t, q[1], color=color, linewidth=1.8, linestyle=style, label=_xor_label(r),
            marker=marker, markersize=4, markevery=max(1, len(t) // 12),
        )  # fmt: skip
    first = results[0]
    ax.axhline(first.threshold, color="0.3", linestyle="--", linewidth=0.9)
    ax.annotate(
        f"threshold {first.threshold:g}",
        (1.0, first.threshold),
        xycoords=("axes fraction", "data"),
        ha="right",
        va="top",
        fontsize=8,
        color="0.3",
        annotation_clip=True,
    )
    ax.set_yscale("log")
    # keep the threshold line in view even when no seed gets near it
    ax.set_ylim(bottom=min(lowest, first.threshold) * 0.5)
    ax.set_ylabel(f"training loss ({first.config.loss}), log scale, floored at {XOR_LOSS_FLOOR:g}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(
        title="median, band = 25th-75th percentile",
        title_fontsize=8,
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    ax.set_title(title or f"XOR training loss: {_xor_setup(first)}", fontsize=10)
    if ax_slope is not None:
        for r in slope_results:
            q = np.clip(r.slope_quartiles(), -XOR_LOSS_CEILING, XOR_LOSS_CEILING)
            t = np.arange(q.shape[1])
            color = color_for(r.activation.name)
            ax_slope.fill_between(t, q[0], q[2], color=color, alpha=0.18, linewidth=0)
            ax_slope.plot(
                t,
                q[1],
                color=color,
                linewidth=1.5,
                label=f"{_xor_name(r.activation)}\nmedian, IQR band",
            )
        ax_slope.set_ylabel("learned slope")
        ax_slope.grid(True, alpha=0.3)
        ax_slope.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax_slope.set_xlabel("epoch")
    else:
        ax.set_xlabel("epoch")
    return fig


def xor_boundary_figure(results: Sequence[Any], grid: int = 121) -> Any:
    """One panel per activation: the output over [-0.5, 1.5]² for the seed with the
    median final loss, the 0.5 contour (the decision boundary) and the four XOR points."""
    import numpy as np
    from matplotlib.figure import Figure

    n = len(results)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = Figure(figsize=(2.6 * cols + 0.8, 2.6 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    u = np.linspace(-0.5, 1.5, grid)
    gx, gy = np.meshgrid(u, u)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    xor_x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    xor_y = np.array([0, 1, 1, 0])
    image = None
    for ax, r in zip(axes, results, strict=False):
        i = r.representative
        out = np.clip(r.predict(points, i).reshape(grid, grid), -0.5, 1.5)
        out = np.where(np.isfinite(out), out, 0.5)
        image = ax.imshow(
            out, extent=(-0.5, 1.5, -0.5, 1.5), origin="lower", cmap="RdBu_r", vmin=-0.5, vmax=1.5
        )
        if out.min() < 0.5 < out.max():
            ax.contour(gx, gy, out, levels=[0.5], colors=color_for(r.activation.name), linewidths=2)
        for target in (0, 1):
            at = xor_x[xor_y == target]
            ax.scatter(
                at[:, 0], at[:, 1], color=_XOR_TARGET_COLORS[target], marker="os"[target],
                edgecolors="white", linewidths=1.2, s=70, zorder=3,
                label=f"target {target}",
            )  # fmt: skip
        verdict = "solved" if r.success[i] else "not solved"
        ax.set_title(
            f"{_xor_name(r.activation)}\nseed {int(r.seeds[i])}: {verdict}",
            fontsize=9,
            color=color_for(r.activation.name),
        )
        ax.set_xticks([0, 1])
        ax.set_yticks([0, 1])
    for ax in axes[n:]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=list(axes[:n]), shrink=0.8, label="network output (clipped)")
        axes[0].legend(loc="upper right", fontsize=7, framealpha=0.8, handletextpad=0.2)
    fig.suptitle(
        "XOR decision boundaries (the line: output = 0.5) for the seed with the median final "
        f"loss\n{_xor_setup(results[0])}",
        fontsize=10,
    )
    return fig


# ---------------------------------------------------------------------------
# gradcheck
# ---------------------------------------------------------------------------

_ERROR_FLOOR = 1e-300  # log axes cannot show an exact 0


def gradcheck_figure(results: Sequence[GradcheckResult]) -> Figure:
    """Per activation: analytic vs numerical derivative (top) and per-point error (bottom).

    The bottom panel shows |analytic - numerical| (dots) against the per-point
    error bound (line) on a log scale; failed points are marked with red crosses
    and kinks with dotted vertical lines. Only points inside the check's range
    are drawn (the huge and tiny probes are checked but would squash the axes).
    """
    import numpy as np
    from matplotlib.figure import Figure

    n = len(results)
    cols = 1 if n == 1 else (2 if n <= 4 else 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(5.2 * cols, 4.6 * rows), layout="constrained")
    grid = fig.add_gridspec(2 * rows, cols, height_ratios=[3, 2] * rows)
    for i, r in enumerate(results):
        c = r.checks[0]
        row, col = divmod(i, cols)
        top = fig.add_subplot(grid[2 * row, col])
        bottom = fig.add_subplot(grid[2 * row + 1, col], sharex=top)
        lo, hi = r.x_range
        inside = (c.x >= lo) & (c.x <= hi) & np.isfinite(c.numerical)
        order = np.argsort(c.x[inside], kind="stable")
        x = c.x[inside][order]
        colour = color_for(r.activation.name)
        prime = "'" if c.order == 1 else "''"
        top.plot(x, c.analytic[inside][order], color=colour, lw=1.6, label=f"analytic f{prime}")
        top.plot(
            x,
            c.numerical[inside][order],
            ls="none",
            marker=".",
            ms=2.5,
            color="black",
            alpha=0.5,
            label="numerical",
        )
        failed = c.failed_mask & inside
        if failed.any():
            top.plot(c.x[failed], c.analytic[failed], "x", color="red", ms=6, label="failed")
        title = f"{r.activation.label} ({c.dtype})"
        if r.interrupted:  # a figure shown alone must say it covers part of the points
            title += f"\ninterrupted: {r.coverage()}"
        top.set_title(title, fontsize=10)
        top.set_ylabel(f"f{prime}(x)")
        top.legend(fontsize=7, loc="best")
        err = np.maximum(c.error[inside][order], _ERROR_FLOOR)
        bound = np.maximum(c.bound[inside][order], _ERROR_FLOOR)
        bottom.semilogy(x, bound, color="black", ls="--", lw=0.9, label="error bound")
        bottom.semilogy(x, err, ls="none", marker=".", ms=2.5, color=colour, label="|diff|")
        if failed.any():
            bottom.semilogy(
                c.x[failed],
                np.maximum(c.error[failed], _ERROR_FLOOR),
                "x",
                color="red",
                ms=6,
                label="failed",
            )
        for k in r.kink_reports(c):
            if lo <= k.x <= hi:
                for ax in (top, bottom):
                    ax.axvline(k.x, color="0.6", ls=":", lw=1)
        exact = int(np.count_nonzero(c.error[inside] == 0))
        if exact:
            # a log axis cannot show them, and an empty panel would read as "nothing checked"
            bottom.plot(
                [], [], ls="none", label=f"|diff| = 0 at {exact:,} of {int(inside.sum()):,}"
            )
        bottom.set_xlabel("x")
        bottom.set_ylabel("per-point error")
        bottom.set_ylim(bottom=max(1e-20, float(np.min(bound)) * 1e-3))
        bottom.legend(fontsize=7, loc="best")
    return fig
