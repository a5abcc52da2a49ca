"""Value types that policy events carry: instants, sources, scopes, rates and conditions.

These are data shapes with their validation; what they *mean* (matching a scope,
computing a layer) lives in ``domain/``.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Literal, NoReturn

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    model_validator,
)

from tariff_timeline.events.instants import entry_instant, parse_when, require_offset


class Frozen(BaseModel):
    """Base for immutable, strictly-shaped values and events."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


# ---------------------------------------------------------------- text

TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
"""No control character but tab and line breaks (C0, DEL and C1 are refused)."""

Text = Annotated[
    str,
    # Lone surrogates fail this check too (they cannot be encoded, so cannot be matched).
    Field(pattern=TEXT_PATTERN),
]
"""Free text in an event: any characters but control characters (tab and line breaks are
allowed) and lone surrogates, which no store or terminal takes back intact."""


def brief(value: object, limit: int = 60) -> str:
    """A value as a message shows it: its repr, cut short (input may be huge)."""
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    return shown if len(shown) <= limit else shown[: limit - 5] + " ...)"


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    return "a list" if isinstance(value, list | tuple) else "not text"


# ---------------------------------------------------------------- time


def _refuse_time(value: object) -> NoReturn:
    """Dates and times are ISO text in the import format: a number is never read as one."""
    example = "'2025-03-01'"
    if isinstance(value, int) and not isinstance(value, bool) and 10**7 <= value < 10**8:
        # 20250301 is what people write meaning 2025-03-01: say so, if it is a real date.
        digits = str(value)
        with suppress(ValueError):
            example = repr(date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat())
    raise ValueError(
        f"{brief(value)} is {_kind(value)}; write the date as a quoted ISO string, e.g. "
        f"{example} (or a datetime with its UTC offset, e.g. '2025-03-01T00:01:00-05:00')"
    )


@lru_cache(maxsize=1 << 16)
def _effective_from_text(text: str) -> datetime:
    # An import names a few thousand distinct dates across a million events: each is parsed
    # once, and every event naming it shares one instant (the validation fold holds them all).
    return entry_instant(parse_when(text))


def _to_effective_instant(value: object) -> object:
    """A bare date D means 12:01 a.m. US Eastern on D, the usual switch of an instrument."""
    if isinstance(value, str):
        return _effective_from_text(value)
    if isinstance(value, date):
        return entry_instant(value)
    _refuse_time(value)


@lru_cache(maxsize=1 << 16)
def _known_from_text(text: str) -> date | datetime:
    return parse_when(text)


def _to_known(value: object) -> object:
    if isinstance(value, str):
        return _known_from_text(value)
    if isinstance(value, datetime):
        return require_offset(value)
    if isinstance(value, date):
        return value
    _refuse_time(value)


def _iso(value: datetime) -> str:
    return value.isoformat()


EffectiveInstant = Annotated[
    datetime,
    BeforeValidator(_to_effective_instant),
    PlainSerializer(_iso, return_type=str, when_used="json"),
    Field(
        description=(
            "When goods entered for consumption start (or stop) being affected: an ISO date, "
            "meaning 12:01 a.m. US Eastern on that date, or a datetime with its UTC offset."
        ),
        json_schema_extra={"type": "string"},
    ),
]

KnownTime = Annotated[
    datetime | date,
    BeforeValidator(_to_known),
    Field(
        description=(
            "When the action became public: a date (known from the start of that day, "
            "US Eastern) or a datetime with its UTC offset."
        ),
        json_schema_extra={"type": "string"},
    ),
]


# ---------------------------------------------------------------- identifiers

_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,119}$"

EventId = Annotated[
    str,
    Field(
        pattern=_ID_PATTERN,
        description="Stable identity of the event in the dataset (lower case, digits, . _ -).",
    ),
]
Ref = Annotated[
    str,
    Field(pattern=_ID_PATTERN, description="Identifier of a measure, exemption, quota, ..."),
]


# ---------------------------------------------------------------- origins

ALL = "ALL"

ORIGIN_GROUPS: dict[str, tuple[str, ...]] = {
    # The 27 member states of the European Union since 1 February 2020.
    "EU": (
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    ),
}  # fmt: skip
"""Named groups of origins that instruments use; ALL means every origin."""


@lru_cache(maxsize=1)
def iso_alpha2_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code pycountry knows."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


def _check_origin(value: str) -> str:
    code = value.strip().upper()
    if code == ALL or code in ORIGIN_GROUPS:
        return code
    if code in iso_alpha2_codes():
        return code
    raise ValueError(
        f"unknown origin {value!r}: expected an ISO 3166-1 alpha-2 country code, "
        f"a group ({', '.join(sorted(ORIGIN_GROUPS))}) or ALL"
    )


OriginCode = Annotated[
    str,
    AfterValidator(_check_origin),
    Field(description="ISO 3166-1 alpha-2 code, a named group such as EU, or ALL."),
]


def country_code(value: str) -> str:
    """A single country of origin for a query, by its ISO 3166 alpha-2 or alpha-3 code or its
    name as pycountry knows it ('China', 'Viet Nam', 'South Korea'); groups and ALL are not
    countries."""
    try:
        code = _check_origin(value)
    except ValueError:
        try:
            code = pycountry.countries.lookup(value.strip()).alpha_2
        except LookupError:
            raise ValueError(
                f"unknown origin {value!r}: give an ISO 3166-1 alpha-2 code (CN), an alpha-3 "
                "code (CHN) or a country name (China)") from None
    if code == ALL or code in ORIGIN_GROUPS:
        raise ValueError(f"{value!r} is a group, not a country of origin")
    return code


# ---------------------------------------------------------------- products


_HTS_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)*")
"""Digits, in groups separated by single dots: '8703.23.01' or '87032301'."""


def normalise_hts(value: str) -> str:
    """An HTS prefix as bare digits ('8703.23.01' -> '87032301'); 2 to 10 digits, even length."""
    if not isinstance(value, str):
        _refuse_hts(value)
    text = value.strip()
    if text.upper() == ALL:
        return ALL
    if not _HTS_TEXT.fullmatch(text):
        raise ValueError(f"invalid HTS code {brief(value)}: only digits, separated by single "
                         "dots, are allowed (no spaces)")
    digits = text.replace(".", "")
    if len(digits) not in (2, 4, 6, 8, 10):
        raise ValueError(
            f"invalid HTS code {value!r}: {len(digits)} digits, expected 2, 4, 6, 8 or 10"
        )
    return digits


def _refuse_hts(value: object) -> NoReturn:
    """HTS codes are text: as a number, '0101' would be 101 (or 65, read as octal)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        raise ValueError(
            f"{brief(value)} is a number; write HTS codes as quoted strings, e.g. '0101.10' "
            "(unquoted, leading zeros and dots are lost)")
    raise ValueError(f"{brief(value)} is {_kind(value)}; an HTS code is a quoted string of "
                     "digits, e.g. '8703.23.01', or ALL")


def _hts_text(value: object) -> object:
    if not isinstance(value, str):
        _refuse_hts(value)
    return value


HtsPrefix = Annotated[
    str,
    BeforeValidator(_hts_text),
    AfterValidator(normalise_hts),
    Field(description="HTS prefix of 2, 4, 6, 8 or 10 digits, with or without dots; or ALL."),
]


@lru_cache(maxsize=65536)
def format_hts(digits: str) -> str:
    """Digits as the usual dotted HTS form ('87032301' -> '8703.23.01')."""
    # Cached: a diff of two schedules formats the same few thousand codes tens of thousands
    # of times.
    if digits == ALL or len(digits) <= 4:
        return digits
    parts = [digits[:4]] + [digits[i : i + 2] for i in range(4, min(len(digits), 8), 2)]
    if len(digits) > 8:
        parts.append(digits[8:])
    return ".".join(parts)


# ---------------------------------------------------------------- sources and provenance


class Source(Frozen):
    """A public citation for an event: instrument, title and address."""

    title: Text = Field(min_length=3)
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    instrument: Text | None = Field(
        default=None,
        description="Legal instrument, e.g. 'Executive Order 14257' or 'Proclamation 10896'.",
    )
    federal_register: Text | None = None
    via: Text | None = Field(
        default=None, description="Where a list was read from, e.g. a data set."
    )


Confidence = Literal["verified", "partly", "unverified"]


# ---------------------------------------------------------------- scopes


class Scope(Frozen):
    """Origins times products: which goods an action covers.

    Both are always given, ALL included: a scope that leaves one out, or names nothing, is a
    mistake to refuse, not everything to assume.
    """

    origins: tuple[OriginCode, ...]
    origins_except: tuple[OriginCode, ...] = ()
    products: tuple[HtsPrefix, ...]
    products_except: tuple[HtsPrefix, ...] = ()
    products_complete: StrictBool = Field(
        default=True,
        description="False when the instrument's product list is known to be only partly listed.",
    )
    products_note: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _names_both(cls, data: object) -> object:
        if isinstance(data, dict):
            missing = [name for name in ("origins", "products") if name not in data]
            if missing:
                # Names only what is missing, so that the message points at the scope itself.
                raise ValueError(f"{' and '.join(missing)} not given: a scope must say which "
                                 "goods it covers (write [ALL] for every one)")
        return data

    @model_validator(mode="after")
    def _all_is_alone(self) -> Scope:
        if not self.origins or not self.products:
            raise ValueError("a scope names at least one origin and one product (or ALL)")
        if ALL in self.origins and len(self.origins) > 1:
            raise ValueError("origins: ALL cannot be combined with other origins")
        if ALL in self.products and len(self.products) > 1:
            raise ValueError("products: ALL cannot be combined with HTS codes")
        if ALL in self.origins_except or ALL in self.products_except:
            raise ValueError("ALL cannot be excluded")
        return self


EVERYWHERE = Scope(origins=(ALL,), products=(ALL,))
"""Every origin and every product: what an event's scope is when the event gives none."""


# ---------------------------------------------------------------- rates

Heading = Annotated[
    str,
    Field(pattern=r"^99\d\d\.\d\d\.\d\d$",
          description="A Chapter 99 heading as printed, e.g. 9903.88.03."),
]

Percent = Annotated[
    Decimal,
    Field(ge=0, le=1000, description="Percent ad valorem, 0 to 1000."),
]


class Rate(Frozen):
    """How a layer of duty is computed.

    additive: percent on top of MFN. ceiling: all-in rate inclusive of MFN, so the layer is
    max(0, percent - MFN). replacement: percent that takes the place of the listed measures of
    the same program while this one applies (Japan's 24% replaced the 10% baseline). A ceiling
    may also name measures it replaces (the EU's 15% all-in took the place of the baseline).
    """

    percent: Percent
    kind: Literal["additive", "ceiling", "replacement"] = "additive"
    replaces: tuple[Ref, ...] = ()
    content_fact: str | None = Field(
        default=None,
        description=(
            "When set, the layer applies to the share of value given by this fact about the "
            "goods (e.g. copper_content_share)."
        ),
    )
    heading: Heading | None = Field(
        default=None,
        description=(
            "The Chapter 99 heading under which goods are entered at this rate, where the "
            "instrument or its product list gives one (e.g. 9903.88.03)."
        ),
    )

    @model_validator(mode="after")
    def _replacement_names_what(self) -> Rate:
        if self.kind == "replacement" and not self.replaces:
            raise ValueError("a replacement rate must name the measures it replaces")
        if self.kind == "additive" and self.replaces:
            raise ValueError("only a replacement or ceiling rate names measures it replaces")
        if self.content_fact is not None and FACTS.get(self.content_fact, ("",))[0] != "share":
            raise ValueError(f"content_fact {self.content_fact!r} is not a share fact")
        return self


# ---------------------------------------------------------------- facts about the goods

FACTS: dict[str, tuple[Literal["bool", "text", "share"], str]] = {
    "usmca_qualifying": ("bool", "the goods qualify for USMCA preference"),
    "in_quota": ("bool", "the goods enter within a tariff-rate or absolute quota"),
    "in_transit": ("bool", "loaded and in transit before an instrument's cut-off"),
    "civil_aircraft_use": (
        "bool",
        "the goods are civil aircraft, or engines, parts or components for use in civil aircraft "
        "(any aircraft but military and unmanned), as a civil-aircraft exemption requires",
    ),
    "section_301_list": (
        "text",
        "the Section 301 list (1, 2, 3 or 4A) whose U.S. note 20 description the goods match, "
        "where a line is named on more than one list",
    ),
    "described_goods": (
        "bool",
        "the goods are those an exclusion or heading describes more narrowly than their HTS "
        "line (a Section 301 product exclusion's description, for example)",
    ),
    "end_use": ("text", "declared end use (e.g. us_data_center, repair_replacement)"),
    "company": ("text", "importer or producer named by an instrument"),
    "steel_content_share": ("share", "share of value that is steel content, 0 to 1"),
    "aluminium_content_share": ("share", "share of value that is aluminium content, 0 to 1"),
    "copper_content_share": ("share", "share of value that is copper content, 0 to 1"),
    "metal_content_share": (
        "share",
        "share of the article that is steel, aluminium and copper together, 0 to 1 (by weight "
        "where the instrument says so)",
    ),
    "us_content_share": ("share", "share of value that is US content, 0 to 1"),
    "bifacial_panel": ("bool", "the goods are bifacial solar panels made only of bifacial cells, "
                       "as the Section 201 solar safeguard's bifacial exclusion defines them"),
}
"""Facts about the goods that exemptions, quotas and content rules may test."""


class Condition(Frozen):
    """A test on one fact about the goods; exactly one comparison is given."""

    fact: str
    equals: StrictBool | Text | None = None
    one_of: tuple[Text, ...] = ()
    at_least: Decimal | None = None
    below: Decimal | None = None

    @model_validator(mode="after")
    def _one_comparison(self) -> Condition:
        if self.fact not in FACTS:
            raise ValueError(
                f"unknown fact {self.fact!r}; known facts: {', '.join(sorted(FACTS))}"
            )
        given = [
            self.equals is not None,
            bool(self.one_of),
            self.at_least is not None,
            self.below is not None,
        ]
        if sum(given) != 1:
            raise ValueError("give exactly one of equals, one_of, at_least, below")
        kind = FACTS[self.fact][0]
        if kind == "bool" and not isinstance(self.equals, bool):
            raise ValueError(f"fact {self.fact!r} is true/false: use equals: true|false")
        if kind == "share" and self.at_least is None and self.below is None:
            raise ValueError(f"fact {self.fact!r} is a share: use at_least or below")
        return self

    def describe(self) -> str:
        """The condition in words, e.g. 'usmca_qualifying = true'."""
        if self.equals is not None:
            value = str(self.equals).lower() if isinstance(self.equals, bool) else self.equals
            return f"{self.fact} = {value}"
        if self.one_of:
            return f"{self.fact} in ({', '.join(self.one_of)})"
        if self.at_least is not None:
            return f"{self.fact} >= {self.at_least}"
        return f"{self.fact} < {self.below}"


class Selector(Frozen):
    """Picks measures by id, program or authority (for exemptions and stacking rules)."""

    measures: tuple[Ref, ...] = ()
    programs: tuple[Ref, ...] = ()
    authorities: tuple[Text, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> Selector:
        if not (self.measures or self.programs or self.authorities):
            raise ValueError("name at least one measure, program or authority")
        return self

    def describe(self) -> str:
        """The selection in words."""
        parts = [*self.measures, *(f"program {p}" for p in self.programs)]
        parts += [f"authority {a}" for a in self.authorities]
        return ", ".join(parts)
