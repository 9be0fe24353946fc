"""The gas-consumption data: the generator is deterministic and matches the shipped CSV; the
loader accepts the schema (in any row order, with extra columns) and names what is wrong."""
import numpy as np
import pandas as pd
import pytest

from hwtools.assignments.gas_consumption import (CSV_NAME, ConsumptionDataError, generate_consumption,
                                                 load_consumption, main, model_inputs)


@pytest.fixture(scope="module")
def small():
    return generate_consumption(days=20, seed=3)


def write(frame, tmp_path, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_generator_is_deterministic_per_seed(small):
    pd.testing.assert_frame_equal(small, generate_consumption(days=20, seed=3))
    assert not generate_consumption(days=20, seed=4)["consumption"].equals(small["consumption"])


def test_shipped_csv_is_the_generator_output(repo, tmp_path):
    main([str(tmp_path / "regenerated.csv")])
    shipped = (repo.source / "gas_consumption" / CSV_NAME).read_text()
    assert (tmp_path / "regenerated.csv").read_text() == shipped
    assert shipped == (repo.release / "gas_consumption" / CSV_NAME).read_text()


def test_modelled_demand_follows_the_physics():
    frame = load_consumption_frame(generate_consumption(days=365, seed=0))
    winter = frame[frame.month.isin([1, 2])]["consumption"].mean()
    summer = frame[frame.month.isin([7, 8])]["consumption"].mean()
    assert winter > 2.5 * summer
    working = frame[(frame.date.dt.day_of_week == 5) & (frame.hour == 10)]["consumption"].mean()
    friday = frame[(frame.date.dt.day_of_week == 4) & (frame.hour == 10)]["consumption"].mean()
    assert working > friday  # the Iranian weekend


def load_consumption_frame(generated):
    frame = generated.copy()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_loader_reads_a_valid_file_in_any_order_with_extra_columns(small, tmp_path):
    shuffled = small.sample(frac=1, random_state=0).assign(station="north")
    frame = load_consumption(write(shuffled, tmp_path))
    assert len(frame) == len(small) and frame["timestamp"].is_monotonic_increasing
    assert np.allclose(frame["consumption"], small["consumption"])
    assert model_inputs(frame).shape == (len(small), 8)


def test_missing_column_is_named(small, tmp_path):
    with pytest.raises(ConsumptionDataError, match=r"missing column\(s\) \['temperature'\]"):
        load_consumption(write(small.drop(columns="temperature"), tmp_path))


def test_unparsable_date_is_located(small, tmp_path):
    broken = small.copy()
    broken.loc[5, "date"] = "2022-13-01"
    with pytest.raises(ConsumptionDataError, match=r"line 7: date '2022-13-01' is not a date in YYYY-MM-DD"):
        load_consumption(write(broken, tmp_path))


def test_non_numeric_value_is_located(small, tmp_path):
    broken = small.astype({"consumption": object})
    broken.loc[9, "consumption"] = "n/a"
    with pytest.raises(ConsumptionDataError, match=r"line 11: consumption 'n/a' is not a number"):
        load_consumption(write(broken, tmp_path))


def test_month_must_match_the_date(small, tmp_path):
    broken = small.copy()
    broken.loc[0, "month"] = 7
    with pytest.raises(ConsumptionDataError, match="is not the month of its date"):
        load_consumption(write(broken, tmp_path))


def test_gap_is_reported_with_its_place_and_size(small, tmp_path):
    with pytest.raises(ConsumptionDataError, match=r"gap in the hourly series after 2022-01-02 03:00:00: 3 hour\(s\) missing"):
        load_consumption(write(small.drop(index=[28, 29, 30]), tmp_path))


def test_duplicated_hour_is_reported(small, tmp_path):
    with pytest.raises(ConsumptionDataError, match="appears more than once"):
        load_consumption(write(pd.concat([small, small.iloc[[4]]]), tmp_path))
