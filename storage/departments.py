"""The department tree as stored: replaced whole by an import, read whole by triage."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from routing.departments import Department
from storage.tables import DepartmentRow


def replace_departments(session: Session, departments: Iterable[Department]) -> int:
    """Replaces the stored tree with `departments` (already validated as a tree), parents first."""
    ordered = sorted(departments, key=lambda d: d.level)
    session.execute(delete(DepartmentRow).where(DepartmentRow.level == 3))
    session.execute(delete(DepartmentRow))
    for dept in ordered:
        session.add(
            DepartmentRow(
                code=dept.code,
                name=dept.name,
                duties=dept.duties,
                parent_code=dept.parent,
                keywords=list(dept.keywords),
                level=dept.level,
                phone=dept.phone,
            )
        )
        session.flush()
    return len(ordered)


def list_departments(session: Session) -> list[Department]:
    rows = session.scalars(select(DepartmentRow).order_by(DepartmentRow.level, DepartmentRow.code))
    return [
        Department(
            code=r.code,
            name=r.name,
            duties=r.duties,
            parent=r.parent_code,
            keywords=tuple(r.keywords),
            level=r.level,
            phone=r.phone,
        )
        for r in rows
    ]


def department_phone(session: Session, code: str) -> str | None:
    """The unit's phone extension, if the directory has one."""
    return session.scalar(select(DepartmentRow.phone).where(DepartmentRow.code == code))
