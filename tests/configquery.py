"""AWS Config's advanced-query language, as documented, parsed strictly: what the stored queries and the
aggregator scan send must be a query Config accepts.

The grammar is the Developer Guide's "Query components" (https://docs.aws.amazon.com/config/latest/
developerguide/query-components.html)::

    SELECT property [, ...] [ WHERE condition ] [ GROUP BY property ] [ ORDER BY property [ ASC | DESC ] [, ...] ]

with the comparison operators ``=``, ``IN`` and ``BETWEEN``, the logic operators ``AND``, ``OR`` and ``NOT``, and
the aggregate functions ``AVG``, ``COUNT``, ``MAX``, ``MIN`` and ``SUM`` (querying-AWS-resources.html, "Features").
No FROM: the resource is chosen by ``resourceType`` in the condition. Strings are single-quoted. Properties are
checked against the resource schema of every ``resourceType`` the condition names
(tests/fixtures/config-resource-schema/properties.json, from awslabs/aws-config-resource-schema); a selected
property may also be an object above listed ones (``configuration``, ``configuration.ipPermissions``).

``parse`` returns a small tree the fake aggregator (tests/fakes/configaggregator.py) evaluates.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "config-resource-schema" / "properties.json").read_text())
# Every resource type has these (the schemas repeat them for each type).
COMMON = {"accountId", "arn", "availabilityZone", "awsRegion", "configurationItemCaptureTime",
          "configurationItemStatus", "configurationStateId", "resourceCreationTime", "resourceId", "resourceName",
          "resourceType", "version", "tags.key", "tags.value", "tags.tag", "relationships.resourceId",
          "relationships.resourceName", "relationships.resourceType"}
KEYWORDS = {"SELECT", "WHERE", "GROUP", "ORDER", "BY", "ASC", "DESC", "AND", "OR", "NOT", "IN", "BETWEEN",
            "TRUE", "FALSE"}
AGGREGATES = {"AVG", "COUNT", "MAX", "MIN", "SUM"}
_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w.]*)"
                    r"|(?P<symbol>[=(),*]))")


class QueryError(ValueError):
    """Not a query Config's documented grammar accepts; the message says where."""


@dataclass(frozen=True)
class Query:
    select: tuple[str, ...]
    where: Any  # ("and"|"or", [..]) | ("not", x) | ("=", prop, value) | ("in", prop, [values]) | ("between", prop, lo, hi)
    group_by: tuple[str, ...] = ()
    order_by: tuple[tuple[str, str], ...] = ()


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise QueryError(f"unexpected text at character {position + 1}: {text[position:position + 20]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = value[1:-1].replace("''", "'")
        elif kind == "number":
            value = float(value) if "." in value else int(value)
        elif kind == "name" and value.upper() in KEYWORDS | AGGREGATES:
            kind, value = "keyword", value.upper()
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self, kind=None, value=None) -> bool:
        if self.position >= len(self.tokens):
            return False
        token_kind, token_value = self.tokens[self.position]
        return (kind is None or token_kind == kind) and (value is None or token_value == value)

    def take(self, kind=None, value=None):
        if not self.peek(kind, value):
            found = self.tokens[self.position] if self.position < len(self.tokens) else ("end", "of query")
            raise QueryError(f"expected {value or kind}, found {found[1]!r}")
        self.position += 1
        return self.tokens[self.position - 1][1]

    def query(self) -> Query:
        self.take("keyword", "SELECT")
        select = [self.selected()]
        while self.peek("symbol", ","):
            self.take()
            select.append(self.selected())
        where = None
        if self.peek("keyword", "WHERE"):
            self.take()
            where = self.disjunction()
        group_by, order_by = [], []
        if self.peek("keyword", "GROUP"):
            self.take(), self.take("keyword", "BY")
            group_by.append(self.take("name"))
        if self.peek("keyword", "ORDER"):
            self.take(), self.take("keyword", "BY")
            while True:
                name = self.take("name")
                direction = self.take() if self.peek("keyword", "ASC") or self.peek("keyword", "DESC") else "ASC"
                order_by.append((name, direction))
                if not self.peek("symbol", ","):
                    break
                self.take()
        if self.position != len(self.tokens):
            raise QueryError(f"unexpected {self.tokens[self.position][1]!r} after the query")
        return Query(tuple(select), where, tuple(group_by), tuple(order_by))

    def selected(self) -> str:
        if self.peek("keyword") and self.tokens[self.position][1] in AGGREGATES:
            function = self.take()
            self.take("symbol", "(")
            argument = self.take() if self.peek("symbol", "*") else self.take("name")
            self.take("symbol", ")")
            return f"{function}({argument})"
        return self.take("name")

    def disjunction(self):
        terms = [self.conjunction()]
        while self.peek("keyword", "OR"):
            self.take()
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else ("or", terms)

    def conjunction(self):
        terms = [self.negation()]
        while self.peek("keyword", "AND"):
            self.take()
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else ("and", terms)

    def negation(self):
        if self.peek("keyword", "NOT"):
            self.take()
            return ("not", self.negation())
        if self.peek("symbol", "("):
            self.take()
            inner = self.disjunction()
            self.take("symbol", ")")
            return inner
        return self.comparison()

    def literal(self):
        if self.peek("keyword", "TRUE") or self.peek("keyword", "FALSE"):
            return self.take() == "TRUE"
        if self.peek("string") or self.peek("number"):
            return self.take()
        raise QueryError(f"expected a value, found {self.tokens[self.position][1] if self.peek() else 'the end'!r}")

    def comparison(self):
        prop = self.take("name")
        if self.peek("symbol", "="):
            self.take()
            return ("=", prop, self.literal())
        if self.peek("keyword", "IN"):
            self.take(), self.take("symbol", "(")
            values = [self.literal()]
            while self.peek("symbol", ","):
                self.take()
                values.append(self.literal())
            self.take("symbol", ")")
            return ("in", prop, values)
        if self.peek("keyword", "BETWEEN"):
            self.take()
            low = self.literal()
            self.take("keyword", "AND")
            return ("between", prop, low, self.literal())
        raise QueryError(f"{prop}: expected =, IN or BETWEEN (the documented comparison operators)")


def _conditions(node):
    if node is None:
        return
    if node[0] in ("and", "or"):
        for term in node[1]:
            yield from _conditions(term)
    elif node[0] == "not":
        yield from _conditions(node[1])
    else:
        yield node


def resource_types(query: Query) -> set[str]:
    found = set()
    for condition in _conditions(query.where):
        if condition[1] == "resourceType":
            found |= set(condition[2]) if condition[0] == "in" else {condition[2]}
    return found


def _known(prop: str, types: set[str], selecting: bool) -> bool:
    if prop in COMMON or (selecting and prop in ("configuration", "supplementaryConfiguration", "tags", "relationships")):
        return True
    for resource_type in types:
        properties = SCHEMA["resourceTypes"].get(resource_type)
        if properties is None:
            continue  # a type whose schema the fixture does not copy: only the common properties are checked
        if prop in properties or (selecting and any(name.startswith(prop + ".") for name in properties)):
            return True
    return False


def parse(text: str) -> Query:
    """The query, or QueryError naming what the documented grammar or the resource schemas refuse."""
    if len(text) > 4096:  # SelectResourceConfig Expression: 1 to 4096 characters (API reference)
        raise QueryError("longer than 4096 characters")
    query = _Parser(text).query()
    types = resource_types(query)
    if not types:
        raise QueryError("no resourceType in the condition: every stored query here names its resource types")
    for prop in query.select:
        inner = prop[prop.index("(") + 1:-1] if "(" in prop else prop
        if inner != "*" and not _known(inner, types, selecting=True):
            raise QueryError(f"{inner}: not a property of {', '.join(sorted(types))}")
    for condition in _conditions(query.where):
        if not _known(condition[1], types, selecting=False):
            raise QueryError(f"{condition[1]}: not a property of {', '.join(sorted(types))}")
    return query


def _values(document: Any, path: list[str]) -> list:
    """Every value at the dotted path, looking into arrays (Config matches a condition against any element)."""
    if not path:
        return document if isinstance(document, list) else [document]
    if isinstance(document, list):
        return [value for element in document for value in _values(element, path)]
    if isinstance(document, dict) and path[0] in document:
        return _values(document[path[0]], path[1:])
    return []


def matches(node, row: dict) -> bool:
    """Whether a row (an advanced-query row: top-level properties and ``configuration``) meets the condition."""
    if node is None:
        return True
    kind = node[0]
    if kind == "and":
        return all(matches(term, row) for term in node[1])
    if kind == "or":
        return any(matches(term, row) for term in node[1])
    if kind == "not":
        return not matches(node[1], row)
    values = _values(row, node[1].split("."))
    if kind == "=":
        return node[2] in values
    if kind == "in":
        return any(value in node[2] for value in values)
    return any(node[2] <= value <= node[3] for value in values if isinstance(value, (int, float)))


def project(query: Query, row: dict) -> dict:
    """The selected properties of a row, as SelectResourceConfig returns them (nested objects kept nested)."""
    selected: dict = {}
    for prop in query.select:
        values = _values(row, prop.split("."))
        if not values and prop.split(".")[0] not in row:
            continue
        target = selected
        *parents, last = prop.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        value = row
        for part in prop.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        target[last] = value
    return selected
