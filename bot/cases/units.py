"""The units table follows the hall's published units (units.csv and the 事项清单): added, never deleted."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.model import HallData

from .models import Unit


def hall_unit_names(hall: HallData) -> list[str]:
    names = [u.unit for u in hall.hall.units]
    names += sorted({e.unit for e in hall.listing.values()} - set(names))
    return names


def sync_units(session: Session, hall: HallData) -> int:
    """Add the hall's units the table does not have yet (phones from units.csv); returns how many were added."""
    existing = {u.name: u for u in session.scalars(select(Unit))}
    added = 0
    for name in hall_unit_names(hall):
        contact = hall.hall.unit(name)
        phone = contact.booking_phone if contact else None
        if name not in existing:
            session.add(Unit(name=name, phone=phone))
            added += 1
        elif phone and not existing[name].phone:
            existing[name].phone = phone
    session.flush()
    return added
