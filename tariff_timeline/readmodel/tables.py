"""The read model's tables (SQLAlchemy 2.0 declarative): recorded events, subject versions,
measure pieces and the origin and product keys that find them, each with its effective, known
and recorded intervals."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tariff_timeline.store.chain import ChainState
from tariff_timeline.store.urls import sqlalchemy_url

SCHEMA = 3
"""The read model's table layout; a read model of another layout is rebuilt from the log."""


class Base(DeclarativeBase):
    """Tables of the read model (SQLAlchemy 2.0 declarative)."""


class SchemaRow(Base):
    """The layout the read model's tables were written in."""

    __tablename__ = "rm_schema"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class TrackingRow(Base):
    """How far into the notification log the read model has been brought."""

    __tablename__ = "rm_tracking"
    application_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    notification_id: Mapped[int] = mapped_column(BigInteger)
    # The hash chain as verified up to that notification, so that the next catch-up checks
    # only what was appended since (see store.chain.ChainState).
    chain_events: Mapped[int] = mapped_column(BigInteger)
    chain_link: Mapped[str] = mapped_column(String(64))
    chain_heads: Mapped[int] = mapped_column(BigInteger)
    chain_head_events: Mapped[int] = mapped_column(BigInteger)
    chain_head_link: Mapped[str] = mapped_column(String(64))
    chain_signed_from: Mapped[int] = mapped_column(BigInteger)

    def chain(self) -> ChainState:
        """The chain state verified up to this position."""
        return ChainState(self.notification_id, self.chain_events, self.chain_link,
                          self.chain_heads, self.chain_head_events, self.chain_head_link,
                          self.chain_signed_from)


class EventRow(Base):
    """A recorded event, kept so that a subject can be re-folded without reading the log."""

    __tablename__ = "rm_events"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(120), index=True)
    subject: Mapped[str | None] = mapped_column(String(140), index=True)
    target_id: Mapped[str | None] = mapped_column(String(120), index=True)
    target_subject: Mapped[str | None] = mapped_column(String(140), index=True)
    known_us: Mapped[int] = mapped_column(BigInteger)
    recorded_us: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)


class VersionRow(Base):
    """A subject's folded state over [known_from, known_until) x [rec_from, rec_until)."""

    __tablename__ = "rm_versions"
    # SQLite numbers rows itself only for an INTEGER primary key.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(140))
    kind: Mapped[str] = mapped_column(String(16))
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_from: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    first_known: Mapped[int] = mapped_column(BigInteger)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_rm_versions_subject_open", "subject", "rec_until"),
        Index("ix_rm_versions_coordinate", "rec_until", "known_until", "rec_from", "known_from"),
    )


class PieceRow(Base):
    """A measure's topmost paints over [eff_from, eff_until) x [known_from, known_until) x
    [rec_from, rec_until)."""

    __tablename__ = "rm_pieces"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(140))
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_from: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_rm_pieces_subject_open", "subject", "rec_until"),
    )


class PieceOriginRow(Base):
    """An origin (code, group or ALL) that a piece's scope names, with the piece's intervals
    (so that one index range finds the pieces of an origin at a coordinate)."""

    __tablename__ = "rm_piece_origins"
    piece_id: Mapped[int] = mapped_column(
        ForeignKey("rm_pieces.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(String(8), primary_key=True)
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_rm_piece_origins", "origin", "eff_until", "eff_from",
                            "piece_id"),)


class PieceProductRow(Base):
    """An HTS prefix (or ALL) that a piece's scope names, with the piece's intervals."""

    __tablename__ = "rm_piece_products"
    piece_id: Mapped[int] = mapped_column(
        ForeignKey("rm_pieces.id", ondelete="CASCADE"), primary_key=True)
    product: Mapped[str] = mapped_column(String(12), primary_key=True)
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_rm_piece_products", "product", "eff_until", "eff_from",
                            "piece_id"),)


class OriginKeyRow(Base):
    """An origin (code, group or ALL) that a version's scopes name."""

    __tablename__ = "rm_origin_keys"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("rm_versions.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(String(8), primary_key=True)
    __table_args__ = (Index("ix_rm_origin_keys_origin", "origin", "version_id"),)


class ProductKeyRow(Base):
    """An HTS prefix (or ALL) that a version's scopes name."""

    __tablename__ = "rm_product_keys"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("rm_versions.id", ondelete="CASCADE"), primary_key=True)
    product: Mapped[str] = mapped_column(String(12), primary_key=True)
    __table_args__ = (Index("ix_rm_product_keys_product", "product", "version_id"),)


def open_engine(url: str) -> Engine:
    """An engine on the database (and schema) of a store URL, with the read model's tables in
    the current layout: a read model written in another layout is dropped, since it is only
    ever a projection of the log and the next catch-up rebuilds it."""
    sa_url, args = sqlalchemy_url(url)
    engine = create_engine(sa_url, connect_args=args)
    current = inspect(engine).has_table(SchemaRow.__tablename__) and (
        _schema_version(engine) == SCHEMA)
    if not current:
        create_tables(engine)
    return engine


def create_tables(engine: Engine) -> None:
    """Drop the read model's tables, if any, and create them empty in the current layout."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session, session.begin():
            session.add(SchemaRow(version=SCHEMA))
    except IntegrityError:
        pass  # another process created the same tables at the same moment


def _schema_version(engine: Engine) -> int | None:
    with Session(engine) as session:
        return session.execute(select(func.max(SchemaRow.version))).scalar()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (for reports and tests)."""
    with Session(engine) as session:
        return {table.__tablename__: session.execute(
            select(func.count()).select_from(table)).scalar_one()
            for table in (EventRow, VersionRow, OriginKeyRow, ProductKeyRow, PieceRow,
                          PieceOriginRow, PieceProductRow)}
