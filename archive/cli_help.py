"""Click's help pages in Chinese: headings, usage line, option markers, and lines wrapped by
display width (a Chinese character takes two columns; click counts it as one).

Everything goes through click's public extension points (``Context.formatter_class``,
``HelpFormatter``, ``Command.get_help_option``, ``Option.get_help_extra``); nothing in click
is patched. Click's own error messages ("No such option" …) stay as click writes them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import click

# The section names click's Command.format_options and Group.format_commands pass to section()
_HEADINGS = {"Options": "选项", "Commands": "命令"}
_NO_LINE_START = set("，。、；：！？）》」』”’…%")  # never the first character of a line
_WIDE = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
# the chunks a line may break between: spaces, a word, an opening bracket with the Chinese character it opens, one character
_CHUNKS = re.compile(rf"\s+|[\[（《「“]+[{_WIDE}]|[^\s{_WIDE}]+|.")


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _tight(left: str, right: str) -> bool:
    """Whether a line break between these characters stands for no space: between Chinese
    characters, or beside full-width punctuation."""
    wide = [width(c) == 2 for c in (left, right)]
    return all(wide) or any(w and unicodedata.category(c).startswith("P") for w, c in zip(wide, (left, right)))


def _joined(lines: list[str]) -> str:
    """A paragraph's lines as one line: no space where a Chinese line break was."""
    out = ""
    for line in (line.strip() for line in lines):
        out += line if not out or _tight(out[-1], line[:1]) else " " + line
    return out


def wrap(text: str, columns: int) -> list[str]:
    """``text`` in lines of at most ``columns`` columns, broken at spaces or between Chinese
    characters; a word longer than a line (a URL) gets a line of its own."""
    lines = [""]
    for chunk in _CHUNKS.findall(text):
        if chunk.isspace():
            if lines[-1]:
                lines[-1] += " "
        elif width(lines[-1] + chunk) <= columns or not lines[-1].strip() or chunk in _NO_LINE_START:
            lines[-1] += chunk
        else:
            lines[-1] = lines[-1].rstrip()
            lines.append(chunk)
    return [line.rstrip() for line in lines if line.strip()]


def _paragraphs(text: str) -> Iterator[tuple[int, bool, list[str]]]:
    """(indent, kept as written, lines) per paragraph; a paragraph whose first line is ``\\b``
    is kept as written, as in click."""
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.splitlines()
        indent = len(lines[0]) - len(lines[0].lstrip())
        if lines[0].strip() == "\b":
            yield indent, True, lines[1:]
        else:
            yield indent, False, lines


def help_lines(text: str, columns: int) -> list[str]:
    """Help text laid out in ``columns`` columns: paragraphs re-wrapped, ``\\b`` ones kept."""
    out: list[str] = []
    for indent, kept, lines in _paragraphs(text):
        if out:
            out.append("")
        if kept:
            out += lines
        else:
            out += [" " * indent + line for line in wrap(_joined(lines), max(columns - indent, 10))]
    return out


class HelpFormatter(click.HelpFormatter):
    """click's formatter with Chinese headings and display-width wrapping."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(_HEADINGS.get(name, name)):
            yield

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        for line in help_lines(text, self.width - self.current_indent):
            self.write(f"{indent}{line}\n" if line else "\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        first_col = min(max((width(first) for first, _ in rows), default=0), col_max) + col_spacing
        margin = " " * (first_col + self.current_indent)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            lines = help_lines(second, max(self.width - first_col - 2, 10)) if second else []
            if not lines:
                self.write("\n")
                continue
            self.write(" " * (first_col - width(first)) if width(first) <= first_col - col_spacing else "\n" + margin)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{margin}{line}\n" if line else "\n")


class Context(click.Context):
    formatter_class = HelpFormatter


class Option(click.Option):
    """An option whose help ends with Chinese markers: [环境变量：…；默认：…；范围：…；必填]."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)  # for the first column: names and metavar
        if record is None:
            return None
        extra = self.get_help_extra(ctx)
        marks = [f"环境变量：{'、'.join(extra['envvars'])}"] if "envvars" in extra else []
        marks += [f"默认：{extra['default']}"] if "default" in extra else []
        marks += [f"范围：{extra['range']}"] if "range" in extra else []
        marks += ["必填"] if "required" in extra else []
        help = self.help or ""
        if marks:
            help = f"{help}  [{'；'.join(marks)}]".strip()
        return record[0], help


option = functools.partial(click.option, cls=Option)


class _Chinese:
    """What commands and groups share: the Chinese context, usage metavar and help option."""

    context_class = Context

    def __init__(self, *args, options_metavar: str | None = "[选项]", **kwargs):
        super().__init__(*args, options_metavar=options_metavar, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        help_option = super().get_help_option(ctx)
        if help_option is not None:
            help_option.help = "显示本帮助并退出。"
        return help_option


class Command(_Chinese, click.Command):
    pass


class Group(_Chinese, click.Group):
    command_class = Command

    def __init__(self, *args, subcommand_metavar: str | None = "命令 [参数]...", **kwargs):
        super().__init__(*args, subcommand_metavar=subcommand_metavar, **kwargs)
