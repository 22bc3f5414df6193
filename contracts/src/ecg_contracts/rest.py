"""Bodies of the gateway's REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from ecg_contracts.insights import Insights
from ecg_contracts.signal import INT32_MAX, INT32_MIN

EcgId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
]
LeadName = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[^\x00-\x1f\x7f]+$")
]
"""1-32 characters, no control characters."""
Sample = Annotated[StrictInt, Field(ge=INT32_MIN, le=INT32_MAX)]
Role = Literal["admin", "user"]
Status = Literal["pending", "done", "failed"]


class LeadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: LeadName = Field(examples=["I"])
    number_of_samples: int | None = Field(
        default=None, ge=1, description="When given, must equal the signal's length."
    )
    signal: list[Sample] = Field(
        min_length=1,
        description="Integer samples (ADC units), within int32.",
        examples=[[0, 5, -3]],
    )

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
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ECG_EXAMPLE]})

    id: EcgId | None = Field(
        default=None,
        description="Client-chosen id, unique per owner; a UUID otherwise. "
        "`events` is reserved (`GET /ecg/events` is the event stream).",
    )
    date: datetime | None = Field(default=None, description="ISO 8601; defaults to now.")
    sampling_rate_hz: float | None = Field(default=None, gt=0, le=100_000)
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
    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(strict=True)
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(strict=True)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    model_config = ConfigDict(extra="forbid")

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
