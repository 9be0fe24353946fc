"""The medical loader: scikit-learn's breast cancer set by default, an instructor's CSV when one
sits beside the notebook, and a clear error for each way a CSV can be unusable."""
import numpy as np
import pandas as pd
import pytest

from hwtools.assignments.medical import (BENIGN, MALIGNANT, DiagnosisDataError, load_diagnosis_data, load_wdbc,
                                         read_diagnosis_csv)


@pytest.fixture(scope="module")
def wdbc():
    return load_wdbc()


def wdbc_frame(wdbc, labels=None) -> pd.DataFrame:
    features, y, names = wdbc
    frame = pd.DataFrame(features, columns=names)
    frame.insert(0, "diagnosis", np.where(y == MALIGNANT, "M", "B") if labels is None else labels)
    frame.insert(0, "id", np.arange(len(y)) + 842302)
    return frame


def test_default_is_the_wisconsin_set_with_malignant_as_zero(wdbc, capsys, tmp_path):
    features, y, names = load_diagnosis_data(tmp_path)
    assert features.shape == (569, 30) and len(names) == 30
    assert np.sum(y == MALIGNANT) == 212 and np.sum(y == BENIGN) == 357
    assert "scikit-learn" in capsys.readouterr().out


def test_instructor_csv_in_the_folder_is_used_and_announced(wdbc, tmp_path, capsys):
    frame = wdbc_frame(wdbc)
    frame["Unnamed: 32"] = np.nan  # the public WDBC CSV ends every line with a comma
    frame.to_csv(tmp_path / "diagnosis.csv", index=False)
    features, y, names = load_diagnosis_data(tmp_path)
    np.testing.assert_allclose(features, wdbc[0])
    np.testing.assert_array_equal(y, wdbc[1])
    assert names == wdbc[2]
    assert "instructor's CSV" in capsys.readouterr().out


def test_numeric_labels_follow_scikit_learn(wdbc, tmp_path):
    wdbc_frame(wdbc, labels=wdbc[1]).to_csv(tmp_path / "numeric.csv", index=False)
    np.testing.assert_array_equal(read_diagnosis_csv(tmp_path / "numeric.csv")[1], wdbc[1])


@pytest.mark.parametrize("change,message", [
    (lambda f: f.drop(columns="diagnosis"), "no 'diagnosis' column"),
    (lambda f: f.assign(diagnosis=np.where(f.index % 3, "M", "X")), "must hold M/B"),
    (lambda f: f.assign(diagnosis=f.index % 3), "must be 0 (malignant) or 1"),
    (lambda f: f.assign(texture_note="rough"), "not numeric: ['texture_note']"),
    (lambda f: f.assign(**{"mean radius": f["mean radius"].where(f.index != 5)}), "missing values in columns"),
    (lambda f: f.assign(diagnosis="B").head(50), "0 malignant and 50 benign"),
])
def test_a_bad_csv_is_refused_with_its_reason(wdbc, tmp_path, change, message):
    change(wdbc_frame(wdbc)).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DiagnosisDataError) as caught:
        read_diagnosis_csv(tmp_path / "bad.csv")
    assert message in str(caught.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DiagnosisDataError, match="no such file"):
        read_diagnosis_csv(tmp_path / "absent.csv")
