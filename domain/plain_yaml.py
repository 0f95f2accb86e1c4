"""YAML as admins write it: plain data, no anchors or aliases, days as text, nested a few levels. An alias lets
a few hundred bytes expand into millions of nodes (a "billion laughs" document), so documents that use them are
refused before they are built; so are documents nested deeper than MAX_DEPTH (the composer recurses per level)."""

from __future__ import annotations

import yaml
from yaml.composer import ComposerError

MAX_DEPTH = 32  # admins' documents nest a handful of levels


class NestedTooDeep(ComposerError):
    """A document nested deeper than MAX_DEPTH."""


class _PlainLoader(yaml.SafeLoader):
    # Days stay text ("2026-13-01" would otherwise raise from inside the parser): fields that are
    # days parse them, with an error that says where.
    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # types-PyYAML leaves Parser.peek_event unannotated
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ComposerError(
                None, None, "anchors and aliases (&name, *name) are not accepted: write the data out", event.start_mark
            )
        if self._depth >= MAX_DEPTH:
            raise NestedTooDeep(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1


def load_plain_yaml(text: str) -> object:
    """The data of a YAML (or JSON) document; raises yaml.YAMLError for bad syntax, anchors and aliases, and
    NestedTooDeep (a yaml.YAMLError) for nesting deeper than MAX_DEPTH."""
    return yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader subclass
