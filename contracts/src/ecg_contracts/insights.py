"""Insights computed by the analyzer: carried by ``ecg.analyzed.v1`` and served by the gateway.

Every field documents its unit. Fields that need the sampling rate are null without it,
and ``notes`` says why.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

INSIGHTS_VERSION = 1


class Stretch(BaseModel):
    """A stretch of the recording, [start_s, end_s). An object, not a pair: MongoDB-wire
    servers such as FerretDB v1 refuse nested arrays."""

    model_config = ConfigDict(frozen=True)

    start_s: float = Field(description="Start, seconds from the first sample.")
    end_s: float = Field(description="End (exclusive), seconds from the first sample.")


class LeadInsights(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Lead name as submitted.")
    number_of_samples: int = Field(description="Samples in the lead.")
    zero_crossings: int = Field(
        description=(
            "Sign changes between consecutive non-zero samples: samples equal to 0 are "
            "dropped first, so [1, 0, -1] counts 1 and [1, 0, 0, 1] counts 0."
        )
    )
    min: int = Field(description="Smallest sample (ADC units).")
    max: int = Field(description="Largest sample (ADC units).")
    mean: float = Field(description="Mean of the samples (ADC units).")
    std: float = Field(description="Population standard deviation of the samples (ADC units).")
    flat_line: bool = Field(
        default=False, description="The lead carries no usable signal (constant or nearly so)."
    )
    clipping: bool = Field(
        default=False,
        description="A noticeable share of samples sits at the lead's extreme values (saturation).",
    )
    excessive_noise: bool = Field(
        default=False, description="High-frequency noise dominates the signal."
    )
    r_amplitude: float | None = Field(
        default=None,
        description="Median deflection of this lead's QRS at the ECG's R peaks from the local "
        "baseline (the median over ±250 ms), signed: negative where the QRS is mainly "
        "negative (ADC units). Null without R peaks.",
    )
    units_per_mv: float | None = Field(
        default=None, description="The lead's gain as submitted (ADC units per mV), if given."
    )
    min_mv: float | None = Field(
        default=None, description="`min` in millivolts; null without `units_per_mv`."
    )
    max_mv: float | None = Field(
        default=None, description="`max` in millivolts; null without `units_per_mv`."
    )
    r_amplitude_mv: float | None = Field(
        default=None,
        description="`r_amplitude` in millivolts; null without `units_per_mv` or R peaks.",
    )
    unreadable: list[Stretch] | None = Field(
        default=None,
        description="Silences over 2 s of this lead in which the other leads' beats go on: "
        "it showed no QRS complex there (lost contact, saturation, noise), and the R peaks "
        "there come from the other leads. Empty when it has none; null when the lead was "
        "not used for R peaks or no other lead was.",
    )


class Insights(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: Literal[1] = Field(default=1, description="Version of this insights model.")
    leads: list[LeadInsights] = Field(description="Per-lead statistics, in submission order.")
    sampling_rate_hz: float | None = Field(default=None, description="Sampling rate used (Hz).")
    duration_s: float | None = Field(default=None, description="Recording length (s).")
    r_peak_lead: str | None = Field(
        default=None,
        description="The lead that supplied most R peaks (see `r_peak_leads`).",
    )
    r_peak_leads: list[str] | None = Field(
        default=None,
        description="Every lead that supplied R peaks, most first: each 10 s stretch takes "
        "its beats from the lead on which they stand out most.",
    )
    unusable: list[Stretch] | None = Field(
        default=None,
        description="Stretches where no lead gave trustworthy beats (noise, flat, clipped, "
        "or a silence through which every lead's baseline leaps, as when an amplifier "
        "saturates): no R peaks are reported there, and heart rate, RR and HRV leave them "
        "out (a note says how much).",
    )
    r_peaks: list[int] | None = Field(
        default=None, description="Sample indices of the detected R peaks."
    )
    heart_rate_bpm: float | None = Field(
        default=None, description="Mean heart rate, 60000 / mean RR (beats per minute)."
    )
    heart_rate_min_bpm: float | None = Field(
        default=None, description="Lowest instantaneous heart rate (beats per minute)."
    )
    heart_rate_max_bpm: float | None = Field(
        default=None, description="Highest instantaneous heart rate (beats per minute)."
    )
    rr_mean_ms: float | None = Field(default=None, description="Mean RR interval (ms).")
    rr_std_ms: float | None = Field(
        default=None, description="Standard deviation of RR intervals (ms)."
    )
    sdnn_ms: float | None = Field(
        default=None, description="HRV: standard deviation of normal-to-normal intervals (ms)."
    )
    rmssd_ms: float | None = Field(
        default=None, description="HRV: root mean square of successive RR differences (ms)."
    )
    pnn50_percent: float | None = Field(
        default=None,
        description="HRV: share of successive RR differences above 50 ms (percent).",
    )
    rhythm_regular: bool | None = Field(
        default=None, description="RR intervals are regular (no marked beat-to-beat variation)."
    )
    bradycardia: bool | None = Field(default=None, description="Mean heart rate below 60 bpm.")
    tachycardia: bool | None = Field(default=None, description="Mean heart rate above 100 bpm.")
    notes: list[str] = Field(
        default_factory=list, description="Why fields are null, or caveats of the analysis."
    )
