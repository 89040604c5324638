"""The look of every figure: fonts, sizes, the colour-blind palette, titles and notes.

matplotlib is imported inside the functions here, never when this module is imported, and
figures are plain :class:`matplotlib.figure.Figure` objects drawn on their own Agg canvas:
nothing here touches pyplot or the backend of an interactive session.

Text in any script: figures use DejaVu Sans (shipped with matplotlib; Latin, Greek,
Cyrillic and more) and then any other installed font with wide coverage; a character no
installed font has is replaced by its unaccented base letter or ``?`` (the HTML page keeps
the original), so no text is drawn as empty boxes and no glyph warning is printed.
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from sim.present.format import fmt_money_axis

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

__all__ = [
    "CATEGORY_AXIS_LABELS",
    "LINE_STYLES",
    "colours",
    "finish",
    "make_text_safe",
    "money_axis",
    "new_figure",
    "note",
    "palette",
    "render",
    "safe_text",
    "style",
    "title",
    "title_width",
]

LINE_STYLES = ("-", "--", ":", "-.")
HATCHES = ("", "//", "..", "xx", "\\\\", "++")
GREY = "#bbbbbb"
CATEGORY_AXIS_LABELS = frozenset(
    {"Queue", "Team or service", "Scenario", "Option", "Route", "Cost component", "Parameter"}
)
"""Axis labels of category axes, which have no unit (every other axis names its unit in parentheses)."""
FONTS = ("DejaVu Sans", "Noto Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Liberation Sans")
"""Preferred fonts, in order; only the installed ones are used."""
_NOTE_STYLE: dict[str, Any] = {
    "ha": "center",
    "va": "center",
    "fontsize": 10,
    "color": "0.25",
    "bbox": {"boxstyle": "round,pad=0.6", "facecolor": "#fff8e1", "edgecolor": "0.6"},
}


@cache
def palette() -> tuple[str, ...]:
    """seaborn's ``colorblind`` palette; colour never carries meaning alone: a line style,
    hatch or marker carries it too."""
    import seaborn

    return tuple(seaborn.color_palette("colorblind").as_hex())


def colours(names: Sequence[str]) -> dict[str, str]:
    """A colour per name, in order (the same scenario keeps its colour in every figure)."""
    pal = palette()
    return {n: pal[i % len(pal)] for i, n in enumerate(names)}


@cache
def _fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """Installed fonts of :data:`FONTS` and every character they can draw."""
    from matplotlib import font_manager, ft2font

    installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    names = tuple(n for n in FONTS if n in installed) or ("DejaVu Sans",)
    chars: set[int] = set()
    for name in names:
        path = installed.get(name) or font_manager.findfont(name)
        chars.update(ft2font.FT2Font(path).get_charmap())
    return names, frozenset(chars)


def safe_text(text: str) -> str:
    """``text`` with every character the figure fonts cannot draw replaced (accents
    dropped where the base letter exists, else ``?``)."""
    _, chars = _fonts()
    if all(ord(c) in chars or c in "\n\t" for c in text):
        return text
    out = []
    for c in text:
        if ord(c) in chars or c in "\n\t":
            out.append(c)
            continue
        base = "".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b))
        out.append(base if base and all(ord(b) in chars for b in base) else "?")
    return "".join(out)


@contextmanager
def style() -> Iterator[None]:
    """rc settings for drawing and saving a figure (white grid, DejaVu Sans and fallbacks)."""
    import matplotlib
    import seaborn

    fonts, _ = _fonts()
    with matplotlib.rc_context(
        {
            **seaborn.axes_style("whitegrid"),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "font.family": list(fonts),
            "font.size": 9.5,
            "axes.titleweight": "bold",
            "axes.titlesize": 10.5,
            "axes.labelsize": 9.5,
            "axes.grid": True,
            "axes.axisbelow": True,
            "axes.edgecolor": "0.8",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "grid.color": "0.9",
            "xtick.labelsize": 8.5,
            "ytick.labelsize": 8.5,
            "legend.fontsize": 8,
            "legend.frameon": False,
            "figure.titlesize": 12.5,
            "figure.titleweight": "bold",
            "axes.unicode_minus": True,
            "svg.hashsalt": "ehsim",
            "svg.fonttype": "none",
        }
    ):
        yield


def new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Figure, list[Axes]]:
    """A figure (not registered with pyplot) and its axes, row by row."""
    from matplotlib.figure import Figure

    with style():
        fig = Figure(figsize=(width, height))
        grid = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, [ax for row in grid for ax in row]


TITLE_CHARS_PER_INCH = 8.5
"""Characters of a figure title a line holds per inch of figure width (bold 12.5 pt DejaVu
Sans averages about 9.7, so a wrapped title keeps a margin)."""
NOTE_CHARS_PER_INCH = 10.0
"""Characters of a note a line holds per inch of its axes' width (10 pt: about 12, less the box's padding)."""


TITLE_GAP_INCHES = 0.1
"""Space above a figure's title and between it and the panels below, in inches."""
TITLE_GID = "ehsim-title"
"""The gid of a figure's title (:func:`title`), by which :func:`finish` finds it."""


TITLE_MAX_CHARS = 100
"""The most characters of a title line, however wide the figure."""


def title_width(fig: Figure) -> int:
    """Characters a line of ``fig``'s title holds (:func:`title` wraps it there)."""
    return min(TITLE_MAX_CHARS, int(fig.get_figwidth() * TITLE_CHARS_PER_INCH))


def title(fig: Figure, text: str) -> None:
    """The figure's title: the finding, in a sentence, wrapped to the figure's width
    (:func:`finish` wraps it again if a line drawn is still wider, and keeps its height clear
    of the panels whatever its lines)."""
    width = title_width(fig)
    y = 1 - TITLE_GAP_INCHES / fig.get_figheight()
    fig.suptitle(textwrap.fill(text, width), x=0.01, y=y, ha="left", va="top", gid=TITLE_GID)


def note(ax: Axes, text: str, x: float = 0.5, y: float = 0.5) -> None:
    """A boxed note on an axes (why there is nothing to draw, or a caveat), wrapped to the
    axes' width so that it covers no axis label."""
    width = min(60, int(ax.bbox.width / ax.figure.dpi * NOTE_CHARS_PER_INCH))
    ax.text(x, y, textwrap.fill(text, max(width, 20)), transform=ax.transAxes, **_NOTE_STYLE)


def footnote(fig: Figure, text: str) -> None:
    fig.text(0.01, 0.005, textwrap.fill(text, 170), fontsize=8, color="0.3", va="bottom")


def money_axis(axis: Axis, ticks: int = 4) -> None:
    """Short money ticks (``£1.2m``, ``−£350k``: the minus sign always drawn), few enough
    that they never overlap."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=ticks, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(fmt_money_axis))


def legend_beside(ax: Axes, title: str) -> None:
    """The legend to the right of ``ax``, outside it: it never covers a bar or a whisker
    (:func:`finish`'s layout makes room for it)."""
    ax.legend(title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def _fit_title(fig: Figure) -> float:
    """Wrap the figure's title until every line fits the figure's width; its height in inches
    (0 with no title)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    sup = next((t for t in fig.texts if t.get_gid() == TITLE_GID), None)
    if sup is None or not sup.get_text().strip():
        return 0.0
    renderer = FigureCanvasAgg(fig).get_renderer()
    room = fig.bbox.width * (1 - 2 * sup.get_position()[0])
    text = " ".join(sup.get_text().split())
    width = max(len(line) for line in sup.get_text().splitlines())
    while sup.get_window_extent(renderer).width > room and width > 20:
        width -= 5
        sup.set_text(textwrap.fill(text, width))
    sup.set_in_layout(False)  # its room is reserved by finish, measured here
    return float(sup.get_window_extent(renderer).height) / fig.dpi


def finish(fig: Figure, bottom: float = 0.0, top: float = 1.0) -> Figure:
    """Lay the figure out, leaving ``bottom`` (inches) for a footnote and the title's height
    (however many lines it has) above the panels."""
    make_text_safe(fig)  # before any text is measured
    with style():
        height = fig.get_figheight()
        reserved = _fit_title(fig)
        if reserved:
            top = min(top, 1 - (reserved + 2 * TITLE_GAP_INCHES) / height)
        fig.tight_layout(rect=(0, bottom / height, 1, top))
    return fig


def _safe_formatter(inner: Any) -> Any:
    """``inner`` with every tick label passed through :func:`safe_text`."""
    from matplotlib.ticker import Formatter

    class SafeFormatter(Formatter):
        def __call__(self, x: Any, pos: Any = None) -> str:
            return safe_text(str(inner(x, pos)))

        def format_ticks(self, values: Any) -> list[str]:
            return [safe_text(str(t)) for t in inner.format_ticks(values)]

        def set_axis(self, axis: Any) -> None:
            super().set_axis(axis)
            inner.set_axis(axis)

        def set_locs(self, locs: Any) -> None:
            inner.set_locs(locs)

        def get_offset(self) -> str:
            return safe_text(str(inner.get_offset()))

    out = SafeFormatter()
    out.wrapped = True  # type: ignore[attr-defined]
    return out


def make_text_safe(fig: Figure) -> None:
    """Every text of the figure, tick labels included, through :func:`safe_text` (call it
    before any text is measured or drawn)."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_text(safe_text(text.get_text()))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if not getattr(fmt, "wrapped", False):
                axis.set_major_formatter(_safe_formatter(fmt))


def render(fig: Figure) -> tuple[bytes, bytes]:
    """The figure as PNG and SVG bytes (no dates or software names: the same figure gives
    the same bytes)."""
    make_text_safe(fig)
    png, svg = io.BytesIO(), io.BytesIO()
    with style():
        fig.savefig(png, format="png", metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()
