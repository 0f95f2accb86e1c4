"""The durable spool drains oldest first, stops when the database cannot take an item now, and sets
aside (keeps, never drops) an item that can never be stored, so it does not hold up the rest."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.spool import DurableSpool


def spool_of(directory: Path, *items: str) -> DurableSpool:
    spool = DurableSpool(directory)
    for item in items:
        spool.put(item, {"item": item})
    return spool


def test_an_outage_stops_the_drain_and_keeps_the_rest_in_order(tmp_path: Path) -> None:
    spool = spool_of(tmp_path / "records", "a", "b", "c")
    saved: list[str] = []

    def save(item: dict) -> None:
        if item["item"] == "b":
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        saved.append(item["item"])

    left, error = spool.drain(save)
    assert (left, saved, isinstance(error, OperationalError)) == (2, ["a"], True)
    assert [spool.load(p)["item"] for p in spool.pending()] == ["b", "c"]


def test_an_item_that_can_never_be_stored_is_set_aside_and_the_rest_go_on(tmp_path: Path) -> None:
    spool = spool_of(tmp_path / "tickets", "a", "poison", "c")
    before = REGISTRY.get_sample_value("hotline_spool_items_set_aside_total", {"spool": "tickets"}) or 0.0
    saved: list[str] = []

    def save(item: dict) -> None:
        if item["item"] == "poison":
            raise IntegrityError("INSERT", {}, Exception("violates check constraint"))
        saved.append(item["item"])

    assert spool.drain(save) == (0, None)
    assert saved == ["a", "c"] and spool.pending() == []
    [kept] = spool.failed_dir.glob("*.json")
    assert spool.load(kept) == {"item": "poison"}
    assert REGISTRY.get_sample_value("hotline_spool_items_set_aside_total", {"spool": "tickets"}) == before + 1
