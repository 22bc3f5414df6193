"""Bodies of the gateway's REST API."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ecg_contracts.insights import Insights
from ecg_contracts.signal import INT32_MAX, INT32_MIN

EcgId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
]

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
"""Control, format (zero-width, bidirectional overrides), surrogate, private-use, line and
paragraph separator characters: invisible or able to disguise a lead's name."""
REFUSED_BMP_CLASS = (
    r"\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891"
    r"\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ue000-\uf8ff"
    r"\ufeff\ufff9-\ufffb"
)
"""The refused categories within the Basic Multilingual Plane, as ``\\uXXXX`` escapes of a
regular expression class for the published schema, whose readers' engines lack ``\\p{..}``.
Surrogates are left out: no engine takes them in a class, and UTF-8 JSON cannot carry one."""
MAX_LEAD_NAME = 32
MAX_LEAD_NAME_SENT = 128


def normalize_lead_name(name: str) -> str:
    """NFC first, so that one visible name is one lead however its accents were typed;
    the length limit then counts code points of the normalized name."""
    normalized = unicodedata.normalize("NFC", name)
    for char in normalized:
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES:
            raise ValueError(
                f"lead names may not contain U+{ord(char):04X} (Unicode category {category}: "
                "control, format, surrogate, private-use or separator characters)"
            )
    if len(normalized) > MAX_LEAD_NAME:
        raise ValueError(
            f"lead names have at most {MAX_LEAD_NAME} characters (code points after NFC "
            f"normalization); this one has {len(normalized)}"
        )
    return normalized


LeadName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_LEAD_NAME_SENT),
    AfterValidator(normalize_lead_name),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_LEAD_NAME_SENT,
            "pattern": f"^[^{REFUSED_BMP_CLASS}]+$",
            "description": f"Normalized to Unicode NFC, then 1-{MAX_LEAD_NAME} code points "
            "with no control, format, surrogate, private-use, line or paragraph separator "
            f"character (categories {', '.join(sorted(REFUSED_CATEGORIES))}); unique within "
            f"the ECG after normalization. At most {MAX_LEAD_NAME_SENT} code points as sent.",
        }
    ),
]
Sample = Annotated[
    StrictInt,
    Field(ge=INT32_MIN, le=INT32_MAX),
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": INT32_MIN,
            "maximum": INT32_MAX,
            "description": "A JSON integer: numbers written with a fraction or an exponent "
            "(`1.0`, `1e3`) are refused.",
        }
    ),
]
UnitsPerMv = Annotated[
    float,
    Field(
        gt=0,
        le=1e9,
        allow_inf_nan=False,
        description="The lead's gain: ADC units per millivolt (200 for MIT-BIH, 1000 for "
        "samples in microvolts). When given, the insights also report amplitudes in mV; "
        "signals and the ADC fields stay as sent.",
        examples=[200.0],
    ),
]
ISO_8601 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?"
)


def parse_iso_datetime(value: object) -> datetime:
    """ISO 8601 text only (no Unix times, no numbers), a time without offset taken as UTC,
    returned in UTC so every stored date compares with every other."""
    if not isinstance(value, str) or not ISO_8601.fullmatch(value):
        raise ValueError("must be an ISO 8601 date and time string, e.g. 2026-11-28T10:00:00Z")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError(f"is not a valid date and time: {error}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of dates UTC can represent") from None


IsoDateTime = Annotated[datetime, BeforeValidator(parse_iso_datetime)]
Role = Literal["admin", "user"]
Status = Literal["pending", "done", "failed"]


STRICT_BODY = ConfigDict(extra="forbid", strict=True)
"""Request bodies take JSON types as they are: no string-to-number or number-to-date
coercion, so what the schema says is what the server accepts."""


class LeadIn(BaseModel):
    model_config = STRICT_BODY

    name: LeadName = Field(examples=["I"])
    number_of_samples: int | None = Field(
        default=None, ge=1, description="When given, must equal the signal's length."
    )
    signal: list[Sample] = Field(
        min_length=1,
        description="Integer samples (ADC units), within int32.",
        examples=[[0, 5, -3]],
    )
    units_per_mv: UnitsPerMv | None = None

    @model_validator(mode="after")
    def _count_matches(self) -> LeadIn:
        if self.number_of_samples is not None and self.number_of_samples != len(self.signal):
            raise ValueError(
                f"number_of_samples is {self.number_of_samples} "
                f"but the signal has {len(self.signal)} samples"
            )
        return self


ECG_EXAMPLE: dict[str, Any] = {
    "id": "visit-42",
    "date": "2026-11-28T10:00:00Z",
    "sampling_rate_hz": 500,
    "leads": [{"name": "I", "signal": [1, -2, 3, 0, -1]}],
}


RESERVED_ECG_IDS = frozenset({"events"})


class EcgCreate(BaseModel):
    model_config = STRICT_BODY | ConfigDict(json_schema_extra={"examples": [ECG_EXAMPLE]})

    id: EcgId | None = Field(
        default=None,
        description="Client-chosen id, unique per owner; a UUID otherwise. "
        "`events` is reserved (`GET /ecg/events` is the event stream).",
    )
    date: IsoDateTime | None = Field(
        default=None,
        description="ISO 8601 date and time; without an offset it is taken as UTC; "
        "defaults to now.",
    )
    sampling_rate_hz: float | None = Field(default=None, gt=0, le=100_000, allow_inf_nan=False)
    leads: list[LeadIn] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, ecg_id: str | None) -> str | None:
        if ecg_id in RESERVED_ECG_IDS:
            raise ValueError(f"{ecg_id!r} is reserved: GET /ecg/{ecg_id} is the event stream")
        return ecg_id

    @field_validator("leads")
    @classmethod
    def _unique_names(cls, leads: list[LeadIn]) -> list[LeadIn]:
        seen: set[str] = set()
        for lead in leads:
            if lead.name in seen:
                raise ValueError(f"lead name {lead.name!r} appears more than once")
            seen.add(lead.name)
        return leads


class EcgAccepted(BaseModel):
    id: str
    status: Status


class LeadOut(BaseModel):
    name: str
    number_of_samples: int
    signal: list[int]
    units_per_mv: UnitsPerMv | None = None


class EcgOut(BaseModel):
    id: str
    date: datetime
    sampling_rate_hz: float | None
    status: Status
    submitted_at: datetime
    leads: list[LeadOut]


class EcgSummary(BaseModel):
    id: str
    date: datetime
    sampling_rate_hz: float | None
    status: Status
    submitted_at: datetime
    lead_names: list[str]


class EcgPage(BaseModel):
    items: list[EcgSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class InsightsOut(BaseModel):
    ecg_id: str
    status: Status
    insights: Insights | None
    error: str | None


class EcgLinks(BaseModel):
    ecg: str = Field(description="`GET` the ECG.")
    insights: str = Field(description="`GET` its status and insights.")


class EcgStatusNotice(BaseModel):
    """The data of one `status` event of `GET /ecg/events`."""

    id: str = Field(description="The ECG's id.")
    status: Status
    links: EcgLinks


class TokenRequest(BaseModel):
    """Extra fields are ignored: OAuth2 password-flow clients send ``grant_type``."""

    model_config = ConfigDict(extra="ignore", strict=True)

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(strict=True)
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(strict=True)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class UserCreate(BaseModel):
    model_config = STRICT_BODY

    username: Annotated[
        str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    ] = Field(strict=True)
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)] = Field(strict=True)
    role: Role = "user"


class UserOut(BaseModel):
    id: str
    username: str
    role: Role
    disabled: bool = False


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


class UserPatch(BaseModel):
    model_config = STRICT_BODY

    disabled: bool = Field(strict=True)


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None
