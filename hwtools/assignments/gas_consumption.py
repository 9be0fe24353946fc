"""Gas consumption (seed 000, Q3): the budget, the schema-checked CSV loader, the model inputs,
the artifact format the grader reads, and the seeded generator of the shipped (modelled) data.

Regenerate the shipped CSV with ``python -m hwtools.assignments.gas_consumption OUT.csv``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("date", "hour", "month", "temperature", "consumption")
CSV_NAME = "gas_consumption.csv"
ARTIFACTS = "artifacts"
LOOKBACK = 24  # hours of history in one window
HORIZON = 1  # predict the next hour
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)  # train, validation, test, in time order
NAIVE_LAG = 24  # seasonal-naive baseline: the same hour of the previous day

# Calibration (the source notebook's fixed pipeline, seeds 0..5 via HW_SEED, test R^2 on all test
# rows; "alice" is the sample class's correct MinMax-scaled variant, which trains slower):
#   ci    (LSTM 16, 2 epochs, 3000 train windows): reference 0.978..0.983 (6 seeds), alice 0.933..0.942
#         (4 seeds); threshold 0.92 (margin 0.013 to the slowest correct style)
#   grade (LSTM 32, 3 epochs, 4000 train windows): reference 0.987..0.990 (5 seeds), alice 0.955..0.979
#         (3 seeds); threshold 0.93 (margin 0.025)
#   full  (LSTM 64, <= 30 epochs, early stopping, all ~12k windows): trains longer than grade, so the
#         grade threshold is kept (the spec's target, R^2 >= 0.9, is met with margin); not re-measured.
# Every mode: the seasonal-naive baseline scores 0.905 on the test part (a check of its own); the given
# pipeline scores about -1.9 (scaled predictions against raw consumption) and an untrained LSTM < 0.
BUDGET = {
    "full": {"lstm_units": 64, "epochs": 30, "patience": 3, "max_train_windows": None,
             "max_validation_windows": None, "batch_size": 32, "learning_rate": 2e-3, "ablation_epochs": 5,
             "r2_min": 0.93, "hidden_call_timeout_s": 60},
    "grade": {"lstm_units": 32, "epochs": 3, "patience": 2, "max_train_windows": 4000,
              "max_validation_windows": 1000, "batch_size": 32, "learning_rate": 5e-3, "ablation_epochs": 1,
              "r2_min": 0.93, "hidden_call_timeout_s": 60},
    "ci": {"lstm_units": 16, "epochs": 2, "patience": 1, "max_train_windows": 3000,
           "max_validation_windows": 500, "batch_size": 32, "learning_rate": 5e-3, "ablation_epochs": 1,
           "r2_min": 0.92, "hidden_call_timeout_s": 60},
}


class ConsumptionDataError(ValueError):
    """The CSV does not follow the schema; the message says what to fix and where."""


# ---------------------------------------------------------------------------------- loader
def load_consumption(path) -> pd.DataFrame:
    """Read and validate a consumption CSV (columns date, hour, month, temperature, consumption).

    Returns the rows sorted in time with a ``timestamp`` column added. Raises
    ConsumptionDataError naming the problem: missing columns, unparsable dates or numbers,
    hours or months out of range, duplicated or missing hours.
    """
    path = Path(path)
    if not path.is_file():
        raise ConsumptionDataError(f"{path}: no such file")
    frame = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ConsumptionDataError(f"{path.name}: missing column(s) {missing}; "
                                   f"expected {list(COLUMNS)}, found {list(frame.columns)}")
    frame = frame[list(COLUMNS)].copy()
    dates = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    _reject(path, frame, dates.isna(), "date", "is not a date in YYYY-MM-DD form")
    for column in ("hour", "month", "temperature", "consumption"):
        values = pd.to_numeric(frame[column], errors="coerce")
        _reject(path, frame, values.isna(), column, "is not a number")
        frame[column] = values
    _reject(path, frame, (frame["hour"] % 1 != 0) | ~frame["hour"].between(0, 23), "hour", "is not an hour 0..23")
    _reject(path, frame, frame["month"] != dates.dt.month, "month", "is not the month of its date")
    frame["date"] = dates
    frame["hour"] = frame["hour"].astype(int)
    frame["month"] = frame["month"].astype(int)
    frame["timestamp"] = dates + pd.to_timedelta(frame["hour"], unit="h")
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    _check_hourly(path, frame["timestamp"])
    return frame


def _reject(path: Path, frame: pd.DataFrame, bad: pd.Series, column: str, problem: str) -> None:
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConsumptionDataError(f"{path.name}, line {first + 2}: {column} {frame[column].iloc[first]!r} {problem} "
                                   f"({int(bad.sum())} such row(s))")


def _check_hourly(path: Path, timestamps: pd.Series) -> None:
    steps = timestamps.diff().iloc[1:]
    duplicated = steps == pd.Timedelta(0)
    if duplicated.any():
        raise ConsumptionDataError(f"{path.name}: hour {timestamps[duplicated.idxmax()]} appears more than once")
    gaps = steps != pd.Timedelta(hours=1)
    if gaps.any():
        after = timestamps[gaps.idxmax() - 1]
        missing = int(steps[gaps].iloc[0] / pd.Timedelta(hours=1)) - 1
        raise ConsumptionDataError(f"{path.name}: gap in the hourly series after {after}: {missing} hour(s) missing "
                                   f"({int(gaps.sum())} gap(s) in all); fill or interpolate them first")


# ---------------------------------------------------------------------------------- model inputs
INPUT_NAMES = ("temperature", "hour_sin", "hour_cos", "month_sin", "month_cos", "thursday", "friday", "consumption")


def model_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """The LSTM's inputs per hour: temperature, hour and month on the circle, the Iranian
    weekend (Thursday, Friday) from the date, and the consumption itself (its past is known)."""
    hour_angle = 2 * np.pi * frame["hour"].to_numpy() / 24
    month_angle = 2 * np.pi * (frame["month"].to_numpy() - 1) / 12
    weekday = frame["date"].dt.day_of_week.to_numpy()
    return pd.DataFrame({
        "temperature": frame["temperature"].to_numpy(float),
        "hour_sin": np.sin(hour_angle), "hour_cos": np.cos(hour_angle),
        "month_sin": np.sin(month_angle), "month_cos": np.cos(month_angle),
        "thursday": (weekday == 3).astype(float), "friday": (weekday == 4).astype(float),
        "consumption": frame["consumption"].to_numpy(float),
    }, columns=list(INPUT_NAMES))


# ---------------------------------------------------------------------------------- artifacts
def scaler_statistics(scaler) -> tuple[list, list]:
    """(center, scale) of a fitted scikit-learn StandardScaler or MinMaxScaler: scaled = (x - center) / scale."""
    if hasattr(scaler, "data_min_"):
        return list(map(float, scaler.data_min_)), list(map(float, scaler.data_range_))
    if hasattr(scaler, "mean_"):
        return list(map(float, scaler.mean_)), list(map(float, scaler.scale_))
    raise TypeError(f"expected a fitted StandardScaler or MinMaxScaler, got {type(scaler).__name__}")


def save_artifacts(folder, *, model, feature_center, feature_scale, target_center, target_scale,
                   train_rows, validation_rows, test_rows, test_target_rows, test_predictions, test_r2,
                   extra_metrics: dict | None = None) -> Path:
    """Write what the grader reads into ``folder/artifacts``: the model, the scaling, the split
    rows, the test predictions in consumption units and the reported test R^2."""
    out = Path(folder) / ARTIFACTS
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    scaling = {"inputs": list(INPUT_NAMES), "feature_center": list(map(float, feature_center)),
               "feature_scale": list(map(float, feature_scale)), "target_center": float(target_center),
               "target_scale": float(target_scale)}
    (out / "scaling.json").write_text(json.dumps(scaling, indent=1))
    np.savez(out / "split.npz", train=np.asarray(train_rows, int), validation=np.asarray(validation_rows, int),
             test=np.asarray(test_rows, int))
    np.savez(out / "test_predictions.npz", rows=np.asarray(test_target_rows, int),
             prediction=np.asarray(test_predictions, float).reshape(-1))
    (out / "metrics.json").write_text(json.dumps(dict(extra_metrics or {}, test_r2=float(test_r2)), indent=1))
    return out


# ---------------------------------------------------------------------------------- generator
def _holidays(dates: pd.DatetimeIndex) -> np.ndarray:
    """Nowruz (20-24 March) and Nature Day (2 April), the longest Iranian public holidays."""
    month, day = dates.month.to_numpy(), dates.day.to_numpy()
    return ((month == 3) & (day >= 20) & (day <= 24)) | ((month == 4) & (day == 2))


def generate_consumption(start: str = "2022-01-01", days: int = 730, seed: int = 0) -> pd.DataFrame:
    """Modelled hourly city-gate gas demand (10^3 m^3 per hour) for a Tehran-like climate.

    Temperature: an annual cycle (coldest mid-January), a daily cycle (warmest 15:00), and
    weather spells as a daily AR(1) anomaly. Demand: space heating proportional to the heating
    degrees (18 C minus the building temperature, which follows the air with a 12-hour thermal
    inertia) shaped by a morning and evening heating profile; cooking and hot water with meal
    peaks; commerce and industry on working days, half on Thursday, little on Friday and
    holidays; multiplicative AR(1) noise and measurement noise.
    """
    rng = np.random.default_rng(seed)
    times = pd.date_range(start, periods=24 * days, freq="h")
    hour = times.hour.to_numpy()
    day_of_year = times.day_of_year.to_numpy() + hour / 24
    spells = np.zeros(days)
    for d in range(1, days):
        spells[d] = 0.8 * spells[d - 1] + rng.normal(0, 1.8)
    weather = np.interp(np.arange(24 * days) / 24, np.arange(days) + 0.5, spells)
    temperature = (17 - 13 * np.cos(2 * np.pi * (day_of_year - 15) / 365.25)
                   - 5 * np.cos(2 * np.pi * (hour - 15) / 24) + weather + rng.normal(0, 0.4, len(times)))
    building = np.empty_like(temperature)
    building[0] = temperature[0]
    for t in range(1, len(times)):
        building[t] = building[t - 1] + (temperature[t] - building[t - 1]) / 12
    heating_degrees = np.maximum(0.0, 18 - building)
    bump = lambda centre, width: np.exp(-0.5 * ((hour - centre) / width) ** 2)
    heating = 28 * heating_degrees * (0.85 + 0.3 * bump(7, 1.5) + 0.35 * bump(20, 2.5))
    household = 40 + 15 * bump(7, 1.2) + 25 * bump(13, 1.5) + 35 * bump(20, 1.8)
    weekday = times.day_of_week.to_numpy()
    work = np.where(weekday == 4, 0.1, np.where(weekday == 3, 0.5, 1.0))
    work = np.where(_holidays(times), 0.1, work)
    commerce = 90 * work * (0.3 + 0.7 * ((hour >= 7) & (hour <= 18)))
    drift = np.zeros(len(times))
    for t in range(1, len(times)):
        drift[t] = 0.95 * drift[t - 1] + rng.normal(0, 0.01)
    consumption = (heating + household + commerce) * np.exp(drift) + rng.normal(0, 4, len(times))
    return pd.DataFrame({"date": times.strftime("%Y-%m-%d"), "hour": hour, "month": times.month,
                         "temperature": np.round(temperature, 1), "consumption": np.round(np.maximum(consumption, 0), 1)})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the modelled gas consumption CSV.")
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args(argv)
    generate_consumption(days=args.days, seed=args.seed).to_csv(args.output, index=False)
    print(f"wrote {args.output} ({24 * args.days} hourly rows, seed {args.seed})")


if __name__ == "__main__":
    main()
