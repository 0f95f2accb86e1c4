"""A CSV the csv module cannot read is an import error naming why, not a crash."""

from __future__ import annotations

import pytest

from knowledge.importer import ImportErrors, parse_csv


def test_a_field_over_the_csv_limit_is_an_import_error() -> None:
    text = "question,answer\n" + "问" * 200_000 + ",答\n"
    with pytest.raises(ImportErrors) as refused:
        parse_csv(text)
    assert "not readable as CSV" in str(refused.value)
