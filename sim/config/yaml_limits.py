"""YAML with limits: the scenario loader's safe reader (size, depth, no duplicate keys, no
Python tags, no alias bombs), each problem one line naming where it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from sim.config.limits import MAX_YAML_DEPTH, MAX_YAML_NODES, _one_line
from sim.errors import FileError


def _yaml_children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _data_children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [*node.keys(), *node.values()]
    if isinstance(node, (list, tuple)):
        return list(node)
    return []


def _shape_problem(root: Any, children: Callable[[Any], list[Any]]) -> str | None:
    """What is wrong with the size or shape of a tree whose shared branches (YAML aliases) are
    counted each time they are used, or None. Memoised, so an alias bomb costs time linear in
    the file, not in its expansion; iterative, so depth costs no recursion."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            kids = children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[key] > MAX_YAML_NODES:
                return (
                    f"expands to more than {MAX_YAML_NODES:,} values (aliases, *name, are expanded where "
                    "they are used); a scenario holds a few hundred"
                )
            if depth[key] > MAX_YAML_DEPTH:
                return f"nested more than {MAX_YAML_DEPTH} levels deep; a scenario nests a few levels"
            continue
        if key in size:
            continue
        if key in on_path:
            return "contains itself (a recursive alias or reference)"
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in children(node) if id(k) not in size)
    return None


class _YamlLimitError(yaml.YAMLError):
    """A YAML document over one of the loader's limits (not malformed, but refused)."""

    def __init__(self, problem: str, mark: Any = None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _ScenarioLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (by default the last one silently wins),
    nesting deeper than :data:`MAX_YAML_DEPTH` and documents that expand, through their
    aliases, beyond :data:`MAX_YAML_NODES` nodes."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _YamlLimitError(
                    f"nested more than {MAX_YAML_DEPTH} levels deep; a scenario nests a few levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            problem = _shape_problem(node, _yaml_children)
            if problem:
                raise _YamlLimitError(problem)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # a list or mapping as a key (``? [a, b]``)
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a plain value, got {type(key).__name__}", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_date_or_text(self, node: yaml.ScalarNode) -> Any:
        """A date-like scalar that is no date (``2023-02-30``) stays text, so the field it is
        given to names itself in the error, instead of the loader failing without a field."""
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, AttributeError):
            return self.construct_scalar(node)


_ScenarioLoader.add_constructor("tag:yaml.org,2002:timestamp", _ScenarioLoader.construct_date_or_text)


def _yaml_problem(exc: yaml.YAMLError, malformed: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    if isinstance(exc, _YamlLimitError):
        return f"{at.strip()}: {exc.problem}" if at else exc.problem
    if isinstance(exc, yaml.reader.ReaderError):
        return f"{malformed}: character {exc.character!r} at position {exc.position} is not allowed in YAML"
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    return _one_line(f"{malformed}{at}: {problem}")


def _parse_yaml(text: str, malformed: str) -> tuple[Any, str | None]:
    """YAML text parsed with the scenario loader's limits and no problem, or None and the problem."""
    try:
        return yaml.load(text, Loader=_ScenarioLoader), None  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        return None, _yaml_problem(exc, malformed)
    except RecursionError:  # belt and braces: the depth limit stops well before this
        return None, "nested too deeply"
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError) as exc:
        # PyYAML's constructors let these through for a tagged or date-like value they cannot
        # build (``2023-02-30``, ``!!int abc``, ``!!bool maybe``, ``!!map [1]``)
        return None, f"{malformed}: a value could not be read ({exc})"


def safe_yaml_load(text: str, where: str, malformed: str = "malformed YAML") -> Any:
    """Parse YAML text with the scenario loader's limits (:data:`MAX_YAML_DEPTH`,
    :data:`MAX_YAML_NODES`, no duplicate keys, no Python tags), raising :class:`FileError`
    whose message starts with ``where``, the file the text was read from."""
    data, problem = _parse_yaml(text, malformed)
    if problem is not None:
        raise FileError([f"{where}: {problem}"])
    return data
