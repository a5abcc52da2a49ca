"""The YAML that import files are read with: YAML 1.2's core schema, bounded.

PyYAML's SafeLoader types plain scalars by YAML 1.1: `2025-03-01` becomes a date, `0101` the
octal 65, `NO` false, `1:30` the sexagesimal 90. Here a plain scalar is only ever null, a
boolean (`true`/`false`), an integer, a float or a string, exactly as YAML 1.2 (and JSON) say;
no other tag is built, and a mapping may not name a key twice. The composer counts what the
document holds as it is parsed (nesting depth, aliases, the values aliases reach) and stops at
the first limit, with its line, before a parser's recursion or an alias bomb costs anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator
from typing import Any, ClassVar

import yaml
from yaml.composer import Composer
from yaml.constructor import BaseConstructor, ConstructorError
from yaml.error import MarkedYAMLError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from tariff_timeline.importing.limits import DEFAULT_LIMITS, Limits

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

_DECIMAL = re.compile(r"[-+]?[0-9]+")
_OCTAL = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_REAL = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INFINITY = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


class LimitExceeded(MarkedYAMLError):
    """A YAML document went past one of the import limits (`limits.py`) at this mark."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class CoreResolver(BaseResolver):
    """Types plain scalars by the YAML 1.2 core schema, and nothing else."""


def _implicit(tag: str, pattern: str, first: str) -> None:
    CoreResolver.add_implicit_resolver(tag, re.compile(f"^(?:{pattern})$"), list(first))


_implicit(_NULL, r"~|null|Null|NULL", "~nN")
CoreResolver.add_implicit_resolver(_NULL, re.compile(r"^$"), [""])
_implicit(_BOOL, "|".join(_TRUE + _FALSE), "tTfF")
_implicit(_INT, rf"{_DECIMAL.pattern}|{_OCTAL.pattern}|{_HEX.pattern}", "-+0123456789")
_implicit(_FLOAT, rf"{_REAL.pattern}|{_INFINITY.pattern}|{_NAN.pattern}", "-+.0123456789")


class CoreConstructor(BaseConstructor):
    """Builds only null, booleans, integers, floats, strings, lists and mappings."""

    def construct_core_null(self, node: ScalarNode) -> None:
        """`~`, `null` or nothing."""
        self.construct_scalar(node)

    def construct_core_bool(self, node: ScalarNode) -> bool:
        """`true` or `false` (not YAML 1.1's yes, no, on, off)."""
        value = self.construct_scalar(node)
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        raise ConstructorError(None, None, f"{value!r} is not true or false", node.start_mark)

    def construct_core_int(self, node: ScalarNode) -> int:
        """A decimal integer (leading zeros are decimal), 0o octal or 0x hexadecimal."""
        value = self.construct_scalar(node)
        try:
            if _OCTAL.fullmatch(value):
                return int(value[2:], 8)
            if _HEX.fullmatch(value):
                return int(value[2:], 16)
            if _DECIMAL.fullmatch(value):
                return int(value, 10)
        except ValueError as exc:  # more digits than Python converts (4,300)
            raise ConstructorError(None, None, f"integer too long: {exc}",
                                   node.start_mark) from None
        raise ConstructorError(None, None, f"{value[:40]!r} is not an integer", node.start_mark)

    def construct_core_float(self, node: ScalarNode) -> float:
        """A decimal fraction or exponent, `.inf` or `.nan`."""
        value = self.construct_scalar(node)
        if _INFINITY.fullmatch(value):
            return float("-inf") if value.startswith("-") else float("inf")
        if _NAN.fullmatch(value):
            return float("nan")
        if _REAL.fullmatch(value):
            return float(value)
        raise ConstructorError(None, None, f"{value[:40]!r} is not a number", node.start_mark)

    def construct_core_str(self, node: ScalarNode) -> str:
        """The scalar's text, as written."""
        return self.construct_scalar(node)

    def construct_core_seq(self, node: SequenceNode) -> Iterator[list[Any]]:
        """A list, built after it is handed out (so deep documents need no recursion)."""
        data: list[Any] = []
        yield data
        data.extend(self.construct_sequence(node))

    def construct_core_map(self, node: MappingNode) -> Iterator[dict[Any, Any]]:
        """A mapping whose keys are all different: a key given twice is refused, never
        silently overwritten by its last value."""
        data: dict[Any, Any] = {}
        yield data
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise ConstructorError("while reading a mapping", node.start_mark,
                                       "a key must be a plain value", key_node.start_mark)
            if key in data:
                raise ConstructorError("while reading a mapping", node.start_mark,
                                       f"the key {key!r} is given twice", key_node.start_mark)
            data[key] = self.construct_object(value_node)

    def construct_other(self, node: Node) -> None:
        """Any other tag (!!timestamp, !!binary, !!set, !!python/...): refused."""
        raise ConstructorError(None, None, f"the tag {node.tag!r} is not part of the import "
                               "format (write plain values)", node.start_mark)


    # Its own table, not BaseConstructor's: nothing registered elsewhere reaches it.
    yaml_constructors: ClassVar[dict[str | None, Callable[..., Any]]] = {
        _NULL: construct_core_null, _BOOL: construct_core_bool, _INT: construct_core_int,
        _FLOAT: construct_core_float, _STR: construct_core_str, _SEQ: construct_core_seq,
        _MAP: construct_core_map, None: construct_other,
    }


class BoundedComposer(Composer):
    """Composes nodes while counting nesting depth, aliases and the values aliases reach.

    An alias is composed as the very node its anchor names, so a document of nested aliases
    stays small as nodes; it grows only when its values are built and validated, once per path
    through the aliases. The composer therefore records, for each anchor, how many values its
    node holds and how deep it goes, and charges them again at every alias.
    """

    peek_event: Callable[[], yaml.Event]  # the parser's, in the loader

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits
        self._depth = 0
        self._deepest = 0
        self._count = 0
        self._aliases = 0
        self._through_aliases = 0
        self._shapes: dict[str, tuple[int, int]] = {}

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        """The next node, refused at the first limit it passes."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._alias(event)
            return super().compose_node(parent, index)
        depth = self._depth + 1
        if depth > self.limits.depth:
            raise LimitExceeded(f"nested more than {self.limits.depth} levels deep (the "
                                "nesting limit, MAX_DEPTH)", event.start_mark)
        self._depth, outer, self._deepest = depth, self._deepest, depth
        first = self._count
        self._count += 1
        node = super().compose_node(parent, index)
        anchor = event.anchor if isinstance(event, yaml.NodeEvent) else None
        if anchor is not None:
            self._shapes[anchor] = (self._count - first, self._deepest - depth + 1)
        self._depth = depth - 1
        self._deepest = max(outer, self._deepest)
        return node

    def _alias(self, event: yaml.AliasEvent) -> None:
        anchor = event.anchor
        shape = self._shapes.get(anchor) if anchor is not None else None
        if shape is None:
            if anchor in self.anchors:
                raise LimitExceeded(f"the alias *{anchor} is inside the value it names (a "
                                    "value cannot contain itself)", event.start_mark)
            return  # an undefined alias: the composer says so
        self._aliases += 1
        if self._aliases > self.limits.aliases:
            raise LimitExceeded(f"more than {self.limits.aliases} aliases (the alias limit, "
                                "MAX_ALIASES)", event.start_mark)
        size, height = shape
        self._through_aliases += size
        if self._through_aliases > self.limits.alias_nodes:
            raise LimitExceeded(f"aliases reach more than {self.limits.alias_nodes} values (the "
                                "alias expansion limit, MAX_ALIAS_NODES)", event.start_mark)
        self._count += size
        reach = self._depth + height
        if reach > self.limits.depth:
            raise LimitExceeded(f"the alias *{anchor} nests more than {self.limits.depth} "
                                "levels deep (the nesting limit, MAX_DEPTH)", event.start_mark)
        self._deepest = max(self._deepest, reach)


class ImportLoader(Reader, Scanner, Parser, BoundedComposer, CoreConstructor, CoreResolver):
    """Reads one YAML document of an import file: core schema, within the limits."""

    def __init__(self, text: str, limits: Limits = DEFAULT_LIMITS) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        BoundedComposer.__init__(self, limits)
        CoreConstructor.__init__(self)
        CoreResolver.__init__(self)


def load(text: str, limits: Limits = DEFAULT_LIMITS) -> tuple[Node | None, Any]:
    """The document's root node (None for an empty document) and its value.

    Raises yaml.YAMLError (LimitExceeded for a limit) with the mark of the problem.
    """
    loader = ImportLoader(text, limits)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()
