"""``terraform fmt -check`` without Terraform: HCL's canonical layout in Python.

No Terraform binary (nor any ``fmt`` tool for HCL) installs from PyPI, so
this is a port of ``hclwrite.Format`` (hashicorp/hcl v2, ``format.go``: the
formatter ``terraform fmt`` runs): the same lexer token classes, the same
four passes (lines → indentation → spaces between tokens → alignment of
``=`` and trailing comments in consecutive lines). It was checked against the
Go implementation on every file of infra/terraform and on perturbed copies.
On top, like ``terraform fmt``: no interpolation-only strings (``"${x}"``),
no tabs or CRLF, one newline at the end. Heredocs are refused (use
``jsonencode``/``yamlencode``); so are multi-line ``/* */`` comments.

    python -m mindlinks_dev.deploy.hclfmt infra/terraform          # check, exit 1 on a diff
    python -m mindlinks_dev.deploy.hclfmt --write infra/terraform  # rewrite in place
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".tf", ".tfvars", ".hcl")

OPEN = {"OBrace", "OBrack", "OParen", "TemplateInterp", "TemplateControl"}
CLOSE = {"CBrace", "CBrack", "CParen", "TemplateSeqEnd"}
OPERATORS = (
    ("...", "Ellipsis"),
    ("::", "DoubleColon"),
    ("=>", "FatArrow"),
    ("==", "EqualOp"),
    ("!=", "NotEqual"),
    ("<=", "LessThanEq"),
    (">=", "GreaterThanEq"),
    ("&&", "And"),
    ("||", "Or"),
    ("{", "OBrace"),
    ("}", "CBrace"),
    ("[", "OBrack"),
    ("]", "CBrack"),
    ("(", "OParen"),
    (")", "CParen"),
    ("=", "Equal"),
    ("<", "LessThan"),
    (">", "GreaterThan"),
    ("+", "Plus"),
    ("-", "Minus"),
    ("*", "Star"),
    ("/", "Slash"),
    ("%", "Percent"),
    ("!", "Bang"),
    (".", "Dot"),
    (",", "Comma"),
    ("?", "Question"),
    (":", "Colon"),
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_INTERPOLATION_ONLY = re.compile(r'^"\$\{[^"{}]*\}"$')


class HclFormatError(ValueError):
    """The input is not HCL this formatter handles."""


@dataclass
class Token:
    type: str
    text: str
    spaces: int = 0

    def columns(self) -> int:
        return self.spaces + sum(1 for c in self.text if unicodedata.combining(c) == 0)


def _columns(tokens: Sequence[Token]) -> int:
    return sum(t.columns() for t in tokens)


def tokenize(source: str) -> list[Token]:
    """HCL native syntax → tokens with the spaces before each (hclsyntax classes)."""
    if "\r" in source:
        raise HclFormatError("CRLF line endings")
    tokens: list[Token] = []
    stack: list[str] = []  # "brace" | "interp" | "quote"
    i, spaces, n = 0, 0, len(source)

    def emit(kind: str, text: str) -> None:
        nonlocal spaces
        tokens.append(Token(kind, text, spaces))
        spaces = 0

    while i < n:
        if stack and stack[-1] == "quote":
            if source[i] == '"':
                stack.pop()
                emit("CQuote", '"')
                i += 1
                continue
            if source.startswith(("${", "%{"), i):
                stack.append("interp")
                emit("TemplateInterp" if source[i] == "$" else "TemplateControl", source[i : i + 2])
                i += 2
                continue
            start = i
            while i < n and source[i] != '"' and not source.startswith(("${", "%{"), i):
                if source[i] == "\n":
                    raise HclFormatError("newline in a quoted string")
                if source[i] == "\\":
                    i += 2
                elif source.startswith(("$${", "%%{"), i):
                    i += 3
                else:
                    i += 1
            emit("QuotedLit", source[start:i])
            continue
        char = source[i]
        if char in " \t":
            spaces += 1
            i += 1
        elif char == "\n":
            emit("Newline", "\n")
            i += 1
        elif char == "#" or source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end == -1 else end + 1
            emit("Comment", source[i:end])
            i = end
        elif source.startswith("/*", i):
            end = source.find("*/", i)
            if end == -1 or "\n" in source[i:end]:
                raise HclFormatError("multi-line /* */ comment")
            emit("Comment", source[i : end + 2])
            i = end + 2
        elif source.startswith("<<", i) and _IDENT.match(source, i + 2 + (source[i + 2] == "-")):
            raise HclFormatError("heredoc (use jsonencode/yamlencode)")
        elif char == '"':
            stack.append("quote")
            emit("OQuote", '"')
            i += 1
        elif (match := _NUMBER.match(source, i)) is not None:
            emit("NumberLit", match.group(0))
            i = match.end()
        elif (match := _IDENT.match(source, i)) is not None:
            emit("Ident", match.group(0))
            i = match.end()
        else:
            operator = next(((t, k) for t, k in OPERATORS if source.startswith(t, i)), None)
            if operator is None:
                raise HclFormatError(f"unexpected character {char!r}")
            text, kind = operator
            if kind == "OBrace":
                stack.append("brace")
            elif kind == "CBrace" and stack and stack.pop() == "interp":
                kind = "TemplateSeqEnd"
            emit(kind, text)
            i += len(text)
    if stack:
        raise HclFormatError("unbalanced braces or quotes")
    tokens.append(Token("EOF", "", spaces))
    return tokens


def _bracket_change(token: Token) -> int:
    return 1 if token.type in OPEN else -1 if token.type in CLOSE else 0


def _is_newline(token: Token) -> bool:
    return token.type == "Newline" or (token.type == "Comment" and token.text.endswith("\n"))


@dataclass
class _Line:
    lead: list[Token]
    assign: list[Token] | None = None
    comment: list[Token] | None = None


def _lines(tokens: list[Token]) -> list[_Line]:
    lines: list[_Line] = []
    current: list[Token] = []
    for token in tokens:
        if token.type == "EOF":
            break
        current.append(token)
        if _is_newline(token):
            lines.append(_Line(current))
            current = []
    lines.append(_Line(current))
    for line in lines:
        if len(line.lead) > 1 and line.lead[-1].type == "Comment":
            line.comment = line.lead[-1:]
            line.lead = line.lead[:-1]
        for index, token in enumerate(line.lead):
            if index > 0 and token.type == "Equal":
                if sum(_bracket_change(t) for t in line.lead[index:]) == 0:
                    line.assign = line.lead[index:]
                    line.lead = line.lead[:index]
                break
    return lines


def _indent(lines: list[_Line]) -> None:
    indents: list[int] = []
    for line in lines:
        if not line.lead:
            continue
        if line.lead[0].type == "Newline":
            line.lead[0].spaces = 0
            continue
        net = sum(_bracket_change(t) for t in (*line.lead, *(line.assign or ())))
        if net > 0:
            line.lead[0].spaces = 2 * len(indents)
            indents.append(net)
            continue
        closed = -net
        while closed > 0 and indents:
            if closed > indents[-1]:
                closed -= indents.pop()
            elif closed < indents[-1]:
                indents[-1] -= closed
                closed = 0
            else:
                indents.pop()
                closed = 0
        line.lead[0].spaces = 2 * len(indents)


_NEGATION_BEFORE = {
    "Nil",
    "OParen",
    "OBrace",
    "OBrack",
    "Equal",
    "Colon",
    "Comma",
    "Question",
    "Plus",
    "Star",
    "Slash",
    "Percent",
    "Minus",
    "EqualOp",
    "NotEqual",
    "GreaterThan",
    "GreaterThanEq",
    "LessThan",
    "LessThanEq",
    "And",
    "Or",
    "Bang",
}
_TEMPLATE = {"QuotedLit", "StringLit", "OQuote", "OHeredoc"}
_TEMPLATE_END = {"QuotedLit", "StringLit", "CQuote", "CHeredoc"}


def space_after(subject: Token, before: Token, after: Token) -> bool:
    """hclwrite's ``spaceAfterToken``, rule for rule."""
    s, a = subject.type, after.type
    if a in ("Newline", "Nil"):
        return False
    if s == "Ident" and a == "OParen":
        return False
    if (s == "Ident" and a == "DoubleColon") or (s == "DoubleColon" and a == "Ident"):
        return False
    if s == "Dot" or a == "Dot":
        return False
    if a in ("Comma", "Ellipsis"):
        return False
    if s == "Comma":
        return True
    if s in _TEMPLATE or a in _TEMPLATE_END:
        return False
    if s == "Ident" and subject.text == "in" and before.type == "Ident":
        return True
    if a == "OBrack" and (s in ("Ident", "NumberLit") or _bracket_change(subject) < 0):
        return False
    if s == "Bang":
        return False
    if s == "Minus":
        return before.type not in _NEGATION_BEFORE
    if s == "OBrace" or a == "CBrace":
        return not (s == "OBrace" and a == "CBrace")
    if s in ("TemplateInterp", "TemplateControl") and a == "OBrace":
        return True
    if s == "CBrace" and a == "TemplateSeqEnd":
        return True
    if s == "TemplateSeqEnd" and a in ("TemplateInterp", "TemplateControl"):
        return False
    if _bracket_change(subject) > 0:
        return False
    return not _bracket_change(after) < 0


_NIL = Token("Nil", "")


def _spaces(lines: list[_Line]) -> None:
    for line in lines:
        for cell, first in ((line.lead, False), (line.assign or [], True)):
            for index, token in enumerate(cell):
                if first and index == 0:
                    token.spaces = 1
                if index == len(cell) - 1:
                    continue
                before = cell[index - 1] if index > 0 else _NIL
                after = cell[index + 1]
                after.spaces = 1 if space_after(token, before, after) else 0


def _cells(lines: list[_Line]) -> None:
    def align(chain: list[_Line], width: int, comments: bool) -> None:
        for line in chain:
            used = _columns(line.lead) + (_columns(line.assign or []) if comments else 0)
            target = line.comment if comments else line.assign
            assert target is not None
            target[0].spaces = width - used + 1

    for comments in (False, True):
        chain: list[_Line] = []
        width = 0
        for line in lines:
            cell = line.comment if comments else line.assign
            if cell is None:
                if chain:
                    align(chain, width, comments)
                chain, width = [], 0
                continue
            chain.append(line)
            used = _columns(line.lead) + (_columns(line.assign or []) if comments else 0)
            width = max(width, used)
        if chain:
            align(chain, width, comments)


def format_hcl(source: str) -> str:
    """The canonical form of ``source`` (what ``terraform fmt`` writes)."""
    tokens = tokenize(source)
    lines = _lines(tokens)
    _indent(lines)
    _spaces(lines)
    _cells(lines)
    return "".join(" " * t.spaces + t.text for t in tokens)


def problems(source: str) -> list[str]:
    """Why ``source`` is not canonical HCL (empty when it is)."""
    try:
        formatted = format_hcl(source)
    except HclFormatError as exc:
        return [str(exc)]
    found = []
    if formatted != source:
        diff = difflib.unified_diff(
            source.splitlines(keepends=True), formatted.splitlines(keepends=True), "file", "fmt"
        )
        found.append("not formatted:\n" + "".join(diff))
    if source and not source.endswith("\n"):
        found.append("no newline at the end")
    if source.endswith("\n\n"):
        found.append("blank lines at the end")
    for number, line in enumerate(source.splitlines(), 1):
        for match in re.finditer(r'"(?:[^"\\]|\\.)*"', line):
            if _INTERPOLATION_ONLY.match(match.group(0)):
                found.append(f"line {number}: interpolation-only string {match.group(0)}")
    return found


def hcl_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.suffix in SUFFIXES and ".terraform" not in p.parts
            )
        else:
            files.append(path)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mindlinks_dev.deploy.hclfmt")
    parser.add_argument("--write", action="store_true", help="rewrite files in place")
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    failed = 0
    for file in hcl_files(args.paths):
        source = file.read_text(encoding="utf-8")
        if args.write:
            formatted = format_hcl(source)
            if formatted != source:
                file.write_text(formatted, encoding="utf-8")
                print(f"formatted {file}")
            continue
        for problem in problems(source):
            failed += 1
            print(f"{file}: {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
