"""The rules file (``deploy/config/rules.yaml``): detector thresholds as data, with a version.

The file is YAML with a ``version`` and sections named like ``DetectorParams``'s; a section or
key left out keeps its default (domain.md). A bad file stops start-up with an error naming the
key and its line, so an operator can fix it without reading code. ``RulesWatcher`` lets the
worker pick up an edited file without a redeploy; a bad edit is logged and the rules in force
stay, so a typo never stops monitoring.

Example
-------
>>> params = parse_rules("version: '2026-11'\\nrate_cap:\\n  lpr: 0.031\\n")
>>> params.version, params.rate_cap.cap_for(None)
('2026-11', 0.124)
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.errors import InvalidParameter
from models.params import DetectorParams

__all__ = ["RuleError", "RulesFileError", "RulesWatcher", "load_rules", "parse_rules"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RuleError:
    """One problem in a rules file: where (line, 1-based; None when unknown) and which key."""

    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        return f"{where}: {self.key}: {self.message}"


class RulesFileError(InvalidParameter):
    """A rules file that cannot be used; ``errors`` lists every problem with its line."""

    def __init__(self, source: str, errors: list[RuleError]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(f"{source}: " + "; ".join(str(e) for e in errors))


def load_rules(path: str | Path, *, missing_ok: bool = False) -> DetectorParams:
    """Read and validate a rules file; with ``missing_ok`` an absent file means the defaults.

    Raises ``RulesFileError`` naming each bad key with its line number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return DetectorParams()
        raise RulesFileError(str(path), [RuleError(None, "(file)", "not found")]) from None
    return parse_rules(text, source=str(path))


def parse_rules(text: str, *, source: str = "<rules>") -> DetectorParams:
    """Validate the YAML text of a rules file into ``DetectorParams``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise RulesFileError(source, [RuleError(line, "(yaml)", str(exc.problem))]) from None
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        raise RulesFileError(
            source, [RuleError(line, "(document)", "must be a mapping with a `version` key")]
        )
    problems = _duplicate_keys(root, ())
    if "version" not in data:
        problems.append(RuleError(1, "version", "missing: every rules file names its version"))
    if problems:
        raise RulesFileError(source, problems)
    if isinstance(data["version"], int | float) and not isinstance(data["version"], bool):
        data["version"] = str(data["version"])  # `version: 2` means "2"
    try:
        return DetectorParams.model_validate(data)
    except ValidationError as exc:
        errors = [
            RuleError(
                _line_of(root, err["loc"], err["type"]),
                ".".join(str(part) for part in err["loc"]) or "(document)",
                f"{err['msg']} (got {err['input']!r})",
            )
            for err in exc.errors()
        ]
        raise RulesFileError(source, errors) from None


def _line_of(root: yaml.Node, loc: tuple[int | str, ...], kind: str) -> int:
    """The 1-based line of the node at ``loc``; for an unknown key, the line of the key."""
    node = root
    for i, part in enumerate(loc):
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    is_last = i == len(loc) - 1
                    child = key_node if is_last and kind == "extra_forbidden" else value_node
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
    line: int = node.start_mark.line + 1
    return line


def _duplicate_keys(node: yaml.Node, path: tuple[str, ...]) -> list[RuleError]:
    """YAML keeps the last of two equal keys silently; a rules file must not say a thing twice."""
    problems: list[RuleError] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = (*path, str(key_node.value))
            if key_node.value in seen:
                line = key_node.start_mark.line + 1
                problems.append(RuleError(line, ".".join(key), "given twice"))
            seen.add(key_node.value)
            problems.extend(_duplicate_keys(value_node, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, (*path, str(i))))
    return problems


class RulesWatcher:
    """Holds the rules in force and reloads them when the file's content changes.

    Parameters
    ----------
    path : str or Path
        The rules file. It is loaded at once; a bad file raises ``RulesFileError``.
    missing_ok : bool, default False
        An absent file means the defaults (at start-up and on reload).

    ``reload_if_changed()`` is cheap to call often: it looks at the file's mtime and size, and
    only when they moved reads the file and compares a content hash. A bad edit is logged, kept
    in ``last_error``, and the previous rules stay in force until the file changes again.
    """

    def __init__(self, path: str | Path, *, missing_ok: bool = False) -> None:
        self.path = Path(path)
        self.missing_ok = missing_ok
        self.last_error: RulesFileError | None = None
        self._stamp = self._stat()
        content = self._read()
        self._digest = _digest(content)
        self.params = self._parse(content)

    def reload_if_changed(self) -> DetectorParams | None:
        """The new rules when the file changed and is valid; None otherwise."""
        stamp = self._stat()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        content = self._read()
        digest = _digest(content)
        if digest == self._digest:
            return None
        self._digest = digest
        try:
            params = self._parse(content)
        except RulesFileError as exc:
            self.last_error = exc
            log.error("rules file not reloaded, keeping version %s: %s", self.params.version, exc)
            return None
        self.last_error = None
        if params.version == self.params.version and params != self.params:
            log.warning(
                "rules in %s changed but version stayed %s: findings cannot tell them apart",
                self.path,
                params.version,
            )
        log.info("rules reloaded from %s: version %s", self.path, params.version)
        self.params = params
        return params

    def _parse(self, content: bytes | None) -> DetectorParams:
        if content is None:
            if self.missing_ok:
                return DetectorParams()
            raise RulesFileError(str(self.path), [RuleError(None, "(file)", "not found")])
        return parse_rules(content.decode("utf-8"), source=str(self.path))

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None


def _digest(content: bytes | None) -> str | None:
    return hashlib.sha256(content).hexdigest() if content is not None else None
