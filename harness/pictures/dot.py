"""A small reader for Graphviz DOT text: enough to grade a learner's to_dot() without Graphviz.

It reads the whole language a hand-written graph uses: `strict`, `graph`/`digraph`, node, edge and
attribute statements, default attributes (`node [shape=box]`), subgraphs and clusters, chained
edges (`a -> b -> c`), ports (`a:f0`), quoted and HTML (`<...>`) IDs, and comments. It keeps what a
spec needs: every node with its attributes and every edge in order. `quote` is the writing side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KEYWORDS = {"strict", "graph", "digraph", "node", "edge", "subgraph"}
_TOKEN = re.compile(
    r"""
    (?P<skip> \s+ | //[^\n]* | /\*.*?\*/ | (?<![^\n])\#[^\n]* )   # space and comments (# only at line start)
  | (?P<quoted> "(?:[^"\\]|\\.)*" )
  | (?P<edgeop> -> | -- )
  | (?P<punct> [{}\[\];,=:] )
  | (?P<id> [A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]* | -?(?:\.\d+|\d+(?:\.\d*)?) )
    """,
    re.VERBOSE | re.DOTALL,
)


class DotError(ValueError):
    """The text is not DOT; the message says where (line) and what was expected."""


@dataclass
class Dot:
    """A parsed DOT graph: nodes in order of first mention, with their attributes, and edges."""

    directed: bool
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def label(self, node_id: str) -> str:
        """The text Graphviz shows for a node: its label attribute, or its ID when it has none."""
        return self.nodes[node_id].get("label", node_id)


@dataclass(frozen=True)
class _Token:
    kind: str  # "id" (a bare name or number), "string" (quoted or HTML), "edgeop" or "punct"
    text: str
    line: int


def quote(text: str) -> str:
    """`text` as a double-quoted DOT string (backslashes kept, so \\n still breaks lines)."""
    return '"' + text.replace('"', '\\"') + '"'


def _tokens(text: str) -> list[_Token]:
    tokens, pos, line = [], 0, 1
    while pos < len(text):
        if text[pos] == "<":  # an HTML string: balanced angle brackets
            depth, end = 0, pos
            while end < len(text):
                depth += {"<": 1, ">": -1}.get(text[end], 0)
                end += 1
                if depth == 0:
                    break
            if depth:
                raise DotError(f"line {line}: an HTML label opened with '<' is never closed with '>'")
            tokens.append(_Token("string", text[pos:end], line))
        else:
            match = _TOKEN.match(text, pos)
            if match is None:
                raise DotError(f"line {line}: unexpected character {text[pos]!r}")
            end, kind = match.end(), match.lastgroup
            if kind == "quoted":
                tokens.append(_Token("string", match.group().replace('\\"', '"')[1:-1], line))
            elif kind != "skip":
                tokens.append(_Token(kind, match.group(), line))
        line += text.count("\n", pos, end)
        pos = end
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self, ahead: int = 0) -> _Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            last = self.tokens[-1].line if self.tokens else 1
            raise DotError(f"line {last}: the text ends before the graph is closed with '}}'")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise DotError(f"line {token.line}: expected {text!r}, found {token.text!r}")

    def is_punct(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == text

    def is_keyword(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "id" and token.text.lower() == word

    def graph(self) -> Dot:
        if self.is_keyword("strict"):
            self.take()
        head = self.take()
        if head.kind != "id" or head.text.lower() not in ("graph", "digraph"):
            raise DotError(f"line {head.line}: a DOT file starts with 'digraph' (or 'graph'), not {head.text!r}")
        dot = Dot(directed=head.text.lower() == "digraph")
        if not self.is_punct("{"):
            self.take()  # the graph's name
        self.expect("{")
        self.statements(dot)
        trailing = self.peek()
        if trailing is not None:
            raise DotError(f"line {trailing.line}: {trailing.text!r} after the graph's closing '}}'")
        return dot

    def statements(self, dot: Dot) -> list[str]:
        """Statements up to and including the closing '}'; returns the node IDs they mention."""
        mentioned: list[str] = []
        while not self.is_punct("}"):
            mentioned += self.statement(dot)
            if self.is_punct(";"):
                self.take()
        self.take()
        return mentioned

    def statement(self, dot: Dot) -> list[str]:
        token = self.peek()
        if token is None:
            self.take()  # raises: the graph is never closed
        word = token.text.lower() if token.kind == "id" else ""  # keywords are bare words, never quoted
        if word in ("graph", "node", "edge") and self._next_is("["):
            self.take()
            self.attributes()  # defaults for what follows: they never make a node
            return []
        if word not in _KEYWORDS and self._next_is("="):
            self.take(), self.take(), self.identifier()  # a graph attribute: rankdir=LR
            return []
        chain = [self.endpoint(dot)]
        while self.peek() is not None and self.peek().kind == "edgeop":
            op = self.take()
            if op.text == "--" and dot.directed:
                raise DotError(f"line {op.line}: '--' is an undirected edge; a digraph's edges are written '->'")
            if op.text == "->" and not dot.directed:
                raise DotError(f"line {op.line}: '->' needs a 'digraph'; this graph is undirected")
            chain.append(self.endpoint(dot))
        attrs = self.attributes() if self.is_punct("[") else {}
        if len(chain) == 1 and word != "subgraph" and token.kind != "punct":
            dot.nodes[chain[0][0]].update(attrs)  # a node statement: its attributes are the node's
        for tail, head in zip(chain, chain[1:]):
            dot.edges += [(a, b) for a in tail for b in head]
        return [node_id for ends in chain for node_id in ends]

    def _next_is(self, text: str) -> bool:
        token = self.peek(1)
        return token is not None and token.kind == "punct" and token.text == text

    def endpoint(self, dot: Dot) -> list[str]:
        if self.is_keyword("subgraph") or self.is_punct("{"):
            if self.is_keyword("subgraph"):
                self.take()
                if not self.is_punct("{"):
                    self.take()  # the subgraph's name
            self.expect("{")
            return self.statements(dot)
        node_id = self.identifier()
        while self.is_punct(":"):  # a port: record field and/or compass point
            self.take(), self.identifier()
        dot.nodes.setdefault(node_id, {})
        return [node_id]

    def identifier(self) -> str:
        token = self.take()
        if token.kind not in ("id", "string"):
            raise DotError(f"line {token.line}: expected a name, a number or a quoted string, found {token.text!r}")
        return token.text

    def attributes(self) -> dict[str, str]:
        attrs: dict[str, str] = {}
        while self.is_punct("["):
            self.take()
            while not self.is_punct("]"):
                key = self.identifier()
                self.expect("=")
                attrs[key] = self.identifier()
                if self.is_punct(",") or self.is_punct(";"):
                    self.take()
            self.take()
        return attrs


def parse(text: str) -> Dot:
    """Parse DOT text; DotError says where and why it is not DOT."""
    return _Parser(text).graph()
