"""Tables of the __Title__ plugin (prefix ``__plugin___``)."""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.timeutil import utcnow


class Note(db.Model):
    __tablename__ = "__plugin___note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
