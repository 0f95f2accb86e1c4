"""The city's districts and streets (街道/镇/乡), found in what a caller says: the place of a request, for dispatch
and for spotting repeats from the same place.

Names and aliases are matched on the text without spaces (a recogniser writes '鼓楼 区 东街 街道'); where names
overlap the longest wins ('鼓楼区' over '鼓楼', '东街街道' over '东街').
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from routing.text import join_cjk, normalise

# Two characters at least: a one-character alias would match in most sentences.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StreetSpec(_Spec):
    name: Name
    aliases: list[Name] = []


class DistrictSpec(_Spec):
    name: Name
    aliases: list[Name] = []
    streets: list[StreetSpec] = []


class GazetteerFile(_Spec):
    """The JSON file's shape."""

    city: Name
    districts: list[DistrictSpec] = Field(min_length=1)


class InvalidGazetteer(ValueError):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid gazetteer:\n" + "\n".join(f"  - {e}" for e in errors))


@dataclass(frozen=True)
class Place:
    district: str  # canonical names
    street: str | None
    matched: tuple[str, ...]  # the names or aliases heard, in order


def _key(text: str) -> str:
    return normalise(join_cjk(text))


def _where(data: object, loc: tuple[int | str, ...]) -> str:
    """A pydantic error location with the names of the entries on the way: 'districts[0] (鼓楼区).streets[2].name'."""
    where, node = "", data
    for key in loc:
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            where += f"[{key}]" + (f" ({name.strip()})" if isinstance(name, str) and name.strip() else "")
        else:
            node = node.get(key) if isinstance(node, dict) else None
            where += f".{key}" if where else key
    return where or "gazetteer"


def _names(label: str, spec: StreetSpec | DistrictSpec) -> Iterator[tuple[str, str]]:
    """(where, name) for the name and each alias of an entry."""
    yield f"{label}.name", spec.name
    for i, alias in enumerate(spec.aliases):
        yield f"{label}.aliases[{i}]", alias


def _duplicate_errors(spec: GazetteerFile) -> list[str]:
    """A district name or alias used twice, or by a street; a street name or alias used twice in one district.
    The same street name in two districts is allowed: `find` settles it by the district the caller names."""
    errors: list[str] = []
    district_names: dict[str, str] = {}
    for d, district in enumerate(spec.districts):
        for where, name in _names(f"districts[{d}] ({district.name})", district):
            if (first := district_names.setdefault(_key(name), where)) != where:
                errors.append(f"{where}: '{name}' already names {first}")
    for d, district in enumerate(spec.districts):
        street_names: dict[str, str] = {}
        for s, street in enumerate(district.streets):
            for where, name in _names(f"districts[{d}] ({district.name}).streets[{s}] ({street.name})", street):
                if _key(name) in district_names:
                    errors.append(f"{where}: '{name}' already names {district_names[_key(name)]}")
                elif (first := street_names.setdefault(_key(name), where)) != where:
                    errors.append(f"{where}: '{name}' already names {first}")
    return errors


class Gazetteer:
    """Built once from a checked file; `find` is one regex pass over the text."""

    def __init__(self, spec: GazetteerFile):
        self.city = spec.city
        self._district_of: dict[str, str] = {}
        self._streets_of: dict[str, list[tuple[str, str]]] = {}  # one name may be a street in several districts
        for district in spec.districts:
            for name in (district.name, *district.aliases):
                self._district_of[_key(name)] = district.name
            for street in district.streets:
                for name in dict.fromkeys(_key(n) for n in (street.name, *street.aliases)):
                    self._streets_of.setdefault(name, []).append((district.name, street.name))
        forms = sorted((*self._district_of, *self._streets_of), key=len, reverse=True)
        # A lookahead finds overlapping names too, the longest at each position; `find` then keeps the longest.
        self._pattern = re.compile("(?=(" + "|".join(map(re.escape, forms)) + "))")

    @classmethod
    def from_data(cls, data: object) -> Gazetteer:
        """Checks parsed JSON; raises InvalidGazetteer (a ValueError) naming each entry and field at fault."""
        if not isinstance(data, dict):
            raise InvalidGazetteer([f"expected an object with 'city' and 'districts', got {type(data).__name__}"])
        try:
            spec = GazetteerFile.model_validate(data)
        except ValidationError as exc:
            raise InvalidGazetteer([f"{_where(data, err['loc'])}: {err['msg']}" for err in exc.errors()]) from None
        if errors := _duplicate_errors(spec):
            raise InvalidGazetteer(errors)
        return cls(spec)

    def find(self, text: str) -> Place | None:
        """The street named (which implies its district), else the district named, else None.

        A street name several districts share counts only with one of those districts named too. Of several
        streets, one in a district also named wins, then the longest name, then the first heard; of several
        districts, the longest name, then the first heard."""
        heard = self._heard(_key(text))
        districts = [self._district_of[form] for _, form in heard if form in self._district_of]
        best: tuple[tuple[bool, int], str, str] | None = None
        for _, form in heard:
            places = self._streets_of.get(form, [])
            if len(places) > 1:
                places = [place for place in places if place[0] in districts]
            if len(places) == 1:
                (district, street), rank = places[0], (places[0][0] in districts, len(form))
                if best is None or rank > best[0]:
                    best = (rank, district, street)
        if best is not None:
            _, district, street = best
            matched = [
                form
                for _, form in heard
                if self._district_of.get(form) == district or (district, street) in self._streets_of.get(form, ())
            ]
            return Place(district, street, tuple(dict.fromkeys(matched)))
        if districts:
            form = max((form for _, form in heard if form in self._district_of), key=len)
            district = self._district_of[form]
            matched = [form for _, form in heard if self._district_of.get(form) == district]
            return Place(district, None, tuple(dict.fromkeys(matched)))
        return None

    def _heard(self, text: str) -> list[tuple[int, str]]:
        """(position, name) of the names in `text`, in order; of overlapping ones only the longest."""
        found = [(m.start(), m.group(1)) for m in self._pattern.finditer(text)]
        found.sort(key=lambda f: (-len(f[1]), f[0]))
        taken = [False] * len(text)
        heard = []
        for start, form in found:
            end = start + len(form)
            if not any(taken[start:end]):
                taken[start:end] = [True] * len(form)
                heard.append((start, form))
        return sorted(heard)


def load_gazetteer(path: Path) -> Gazetteer:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidGazetteer([f"{path}: cannot read JSON: {exc}"]) from None
    return Gazetteer.from_data(data)
