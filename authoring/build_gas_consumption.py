"""Builds source/gas_consumption/consumption.ipynb and its data (run: python authoring/build_gas_consumption.py)."""
from pathlib import Path

from hwtools.assignments.gas_consumption import CSV_NAME, generate_consumption
from hwtools.course.authoring import (hidden_group, locked_code, public_tests, solution_code,
                               write_notebook, written_answer)
from hwtools.course.bilingual import LANGUAGE_NOTE_EN, LANGUAGE_NOTE_FA, bilingual, hand_in_fa

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "gas_consumption" / "consumption.ipynb"

CELLS = [
    bilingual("""
# Gas consumption with an LSTM: why is R² negative?

Seed 000, question 3. The inputs are the **date, hour, Gregorian month and temperature**; the
output is the **gas consumption** of the next hour. The LSTM pipeline given below runs, but its
R² on the test part is **negative**: worse than predicting the mean. Find out why and fix it.

* **The data is modelled, not measured**: `gas_consumption.csv` (two years, hourly) was made by a
  documented, seeded physical model (`hwtools/assignments/gas_consumption.py`: heating degrees
  with thermal inertia, daily and weekly usage with the Iranian weekend, Nowruz, noise). An
  instructor's real CSV with the same columns (`date, hour, month, temperature, consumption`)
  works unchanged: the loader checks the schema and says what is wrong with a bad file.
* Budget: `HW_MODE=full` (yours, a few minutes on a laptop CPU); the autograder runs a smaller
  `grade` budget, with thresholds calibrated for it.
* What is graded: your `make_windows` and `chronological_split` (hidden tests on fresh inputs),
  and what your fixed pipeline **saves in `artifacts/`**: the grader loads your model and
  scalers and measures R² itself on the test part. Written answers are graded by a TA.
""" + "\n* " + LANGUAGE_NOTE_EN, """
# مصرف گاز با LSTM: چرا R² منفی است؟

سری ۰۰۰، پرسش ۳. ورودی‌ها **تاریخ، ساعت، ماه میلادی و دما** هستند و خروجی **مصرف گاز** ساعت بعد. خط لولهٔ LSTM
که در زیر آمده اجرا می‌شود، اما R² آن روی بخش آزمون **منفی** است: بدتر از پیش‌بینی میانگین. علت را پیدا کنید و
آن را اصلاح کنید.

* **داده مدل‌سازی شده است، نه اندازه‌گیری‌شده**: `gas_consumption.csv` (دو سال، ساعتی) با یک مدل فیزیکی مستند و
  بذرگذاری‌شده ساخته شده است (`hwtools/assignments/gas_consumption.py`: درجه‌های گرمایش با لختی گرمایی، الگوی
  مصرف روزانه و هفتگی با تعطیلی آخر هفتهٔ ایران، نوروز، نویز). فایل CSV واقعی یک مدرس با همین ستون‌ها
  (`date, hour, month, temperature, consumption`) بدون تغییر کار می‌کند: بارگذار، ساختار فایل را بررسی می‌کند
  و می‌گوید فایل نادرست چه ایرادی دارد.
* بودجه: `HW_MODE=full` (مال شما، چند دقیقه روی CPU یک لپ‌تاپ)؛ تصحیح‌گر خودکار بودجهٔ کوچک‌تر `grade` را با
  آستانه‌هایی که برای آن تنظیم شده اجرا می‌کند.
* آنچه نمره می‌گیرد: `make_windows` و `chronological_split` شما (آزمون‌های پنهان روی ورودی‌های تازه)، و آنچه خط
  لولهٔ اصلاح‌شدهٔ شما **در `artifacts/` ذخیره می‌کند**: تصحیح‌گر مدل و scalerهای شما را بارگذاری می‌کند و R² را
  خودش روی بخش آزمون اندازه می‌گیرد. پاسخ‌های تشریحی را دستیار آموزشی تصحیح می‌کند.
""" + "\n* " + LANGUAGE_NOTE_FA),
    locked_code("setup", """
import json

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from hwtools.assignments.gas_consumption import (CSV_NAME, HORIZON, INPUT_NAMES, LOOKBACK, NAIVE_LAG,
                                                 SPLIT_FRACTIONS, load_consumption, model_inputs,
                                                 save_artifacts, scaler_statistics)
from hwtools.budget import budget, mode
from hwtools.seeding import seed_everything

BUDGET = budget("gas_consumption")
SEED = seed_everything()
frame = load_consumption(CSV_NAME)
inputs = model_inputs(frame).to_numpy()
consumption = frame["consumption"].to_numpy(float)
print(f"budget {mode()}: {dict(BUDGET)}")
print(f"{len(frame)} hours from {frame.timestamp.iloc[0]} to {frame.timestamp.iloc[-1]}; inputs {INPUT_NAMES}")
"""),
    locked_code("model", """
def build_lstm(n_inputs, units=BUDGET["lstm_units"], learning_rate=BUDGET["learning_rate"]):
    \"\"\"One LSTM layer and a linear output: windows of LOOKBACK hours -> one value.\"\"\"
    model = keras.Sequential([keras.Input((LOOKBACK, n_inputs)), keras.layers.LSTM(units), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model
"""),
    bilingual("""
## 1. The given pipeline (run it, do not change it)

This is the code handed to you. It trains an LSTM and reports a negative R².
""", """
## ۱. خط لولهٔ داده‌شده (اجرا کنید، تغییر ندهید)

این همان کدی است که به شما داده شده: یک LSTM آموزش می‌دهد و R² منفی گزارش می‌کند.
"""),
    locked_code("given_pipeline", """
def given_windows(features, target, lookback):
    \"\"\"Windows of `lookback` rows, each with its target.\"\"\"
    X = np.stack([features[i:i + lookback] for i in range(len(features) - lookback + 1)])
    y = target[lookback - 1:]
    return X, y


X, y = given_windows(inputs, consumption, LOOKBACK)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=SPLIT_FRACTIONS[2], shuffle=True,
                                                    random_state=SEED)
n_inputs = X.shape[2]
x_scaler = MinMaxScaler().fit(X_train.reshape(-1, n_inputs))
X_train = x_scaler.transform(X_train.reshape(-1, n_inputs)).reshape(X_train.shape)
X_test = MinMaxScaler().fit_transform(X_test.reshape(-1, n_inputs)).reshape(X_test.shape)
y_scaler = MinMaxScaler().fit(y_train.reshape(-1, 1))
y_train = y_scaler.transform(y_train.reshape(-1, 1))

given_model = build_lstm(n_inputs)
given_model.fit(X_train[:BUDGET["max_train_windows"]], y_train[:BUDGET["max_train_windows"]],
                epochs=BUDGET["epochs"], batch_size=BUDGET["batch_size"], verbose=2)
given_r2 = r2_score(y_test, given_model.predict(X_test, verbose=0))
print(f"given pipeline: R^2 on the test part = {given_r2:.3f}")
""", tags=("training",)),
    bilingual("""
## 2. Diagnosis (written, graded by a TA)

List **every** fault of the given pipeline you find. For each: what it does wrong, why it
matters for a time series, and which way it pushes R² (down, or up dishonestly).
""", """
## ۲. عیب‌یابی (تشریحی، با تصحیح دستیار آموزشی)

**همهٔ** ایرادهای خط لولهٔ داده‌شده را که پیدا می‌کنید فهرست کنید. برای هر کدام: چه کار نادرستی می‌کند، چرا برای
یک سری زمانی اهمیت دارد، و R² را به کدام سو می‌برد (پایین، یا به‌طور غیرصادقانه بالا).
"""),
    written_answer("answer_diagnosis", """
1. **R² on mixed units (the negative R²).** The target is scaled to [0, 1] for training, so the
   model predicts scaled values, but `r2_score` compares them with the raw consumption (hundreds of
   10³ m³/h). The residuals are about the size of the values themselves, far larger than their
   spread around the mean, so R² is hugely negative. Predictions must be inverse-transformed first.
2. **Scaler fitted on the test part itself.** `MinMaxScaler().fit_transform(X_test)` rescales the
   test inputs with the test part's own minimum and maximum (using future information), so the same
   temperature or consumption maps to a different number than in training. Scalers are fitted on the
   training rows only and applied unchanged to validation and test.
3. **Shuffled split.** `train_test_split(shuffle=True)` scatters test windows between training
   windows; overlapping neighbours share 23 of 24 hours, so the test part is not unseen and the score
   is optimistic. A forecaster must be trained on the past and tested on a later period: a
   chronological train / validation / test split.
4. **Target leak in the windows.** `given_windows` pairs each window with the value of its own last
   row, and the consumption is one of the inputs: the model copies its input and "predicts" the
   present, not the future. The window for the target at time t must end at t - horizon.
5. No validation part and no early stopping: nothing tells when to stop training.
""", points=3),
    bilingual("""
## 3. The fixed pipeline

Complete the two functions below, then the pipeline.

* `chronological_split(n_rows, train_fraction, validation_fraction)` returns three integer arrays
  of row positions (train, validation, test), contiguous and in time order, with
  `round(n_rows * train_fraction)` training rows and `round(n_rows * (train_fraction +
  validation_fraction))` rows before the test part.
* `make_windows(features, target, lookback, horizon)` takes `features` of shape (T, F) and
  `target` of shape (T,) and returns `X` of shape (N, lookback, F) and `y` of shape (N,), with
  N = T - lookback - horizon + 1: the window of the target at time t holds exactly the rows
  t - horizon - lookback + 1 ... t - horizon (never t or later).
""", """
## ۳. خط لولهٔ اصلاح‌شده

دو تابع زیر و سپس خط لوله را کامل کنید.

* `chronological_split(n_rows, train_fraction, validation_fraction)` سه آرایهٔ عدد صحیح از شمارهٔ سطرها
  برمی‌گرداند (آموزش، اعتبارسنجی، آزمون)، پیوسته و به ترتیب زمان، با `round(n_rows * train_fraction)` سطر
  آموزشی و `round(n_rows * (train_fraction + validation_fraction))` سطر پیش از بخش آزمون.
* `make_windows(features, target, lookback, horizon)` ورودی `features` با شکل `(T, F)` و `target` با شکل `(T,)`
  می‌گیرد و `X` با شکل `(N, lookback, F)` و `y` با شکل `(N,)` برمی‌گرداند، که در آن
  `N = T - lookback - horizon + 1`: پنجرهٔ هدف زمان t دقیقاً سطرهای `t - horizon - lookback + 1` تا
  `t - horizon` را دارد (هرگز t یا پس از آن را).
"""),
    solution_code("functions", """
def chronological_split(n_rows, train_fraction, validation_fraction):
    \"\"\"Row positions of the train, validation and test parts, contiguous and in time order.\"\"\"
    ### BEGIN SOLUTION
    train_end = int(round(n_rows * train_fraction))
    validation_end = int(round(n_rows * (train_fraction + validation_fraction)))
    rows = np.arange(n_rows)
    return rows[:train_end], rows[train_end:validation_end], rows[validation_end:]
    ### END SOLUTION


def make_windows(features, target, lookback, horizon):
    \"\"\"(X, y): X[i] holds rows i .. i + lookback - 1, y[i] is the target at i + lookback + horizon - 1.\"\"\"
    ### BEGIN SOLUTION
    features = np.asarray(features, dtype=float)
    target = np.asarray(target, dtype=float)
    n_windows = len(features) - lookback - horizon + 1
    if n_windows <= 0:
        return np.empty((0, lookback, features.shape[1])), np.empty(0)
    windows = np.lib.stride_tricks.sliding_window_view(features, lookback, axis=0)[:n_windows]
    return windows.transpose(0, 2, 1).copy(), target[lookback + horizon - 1:].copy()
    ### END SOLUTION
"""),
    public_tests("public_functions", """
X_check, y_check = make_windows(np.arange(20.0).reshape(10, 2), np.arange(10.0), lookback=3, horizon=1)
assert np.shape(X_check) == (7, 3, 2) and np.shape(y_check) == (7,), "shapes of make_windows"
train_check, validation_check, test_check = chronological_split(100, 0.7, 0.15)
assert (len(train_check), len(validation_check), len(test_check)) == (70, 15, 15), "sizes of the parts"
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_windows", 3, "make_windows: shapes, and every window holds exactly the hours "
                 "before its target (checked on a series whose values are their own time index)"),
    bilingual("""
Now the pipeline, with every fault fixed: chronological split (fractions `SPLIT_FRACTIONS`),
scalers fitted on the training rows only and applied to all rows, windows from `make_windows`
(`LOOKBACK`, `HORIZON`; a window may reach back before its part, the past is known), an LSTM
from `build_lstm` trained with early stopping on the validation part, predictions
inverse-transformed before R². `run_pipeline` takes one switch per fault so the ablation below
can fix them one at a time; the fully fixed run is saved with `save_artifacts`.
""", """
اکنون خط لوله، با اصلاح همهٔ ایرادها: تقسیم زمانی (نسبت‌های `SPLIT_FRACTIONS`)، scalerهایی که فقط روی سطرهای
آموزشی برازش می‌شوند و روی همهٔ سطرها اعمال می‌شوند، پنجره‌هایی از `make_windows` (`LOOKBACK`، `HORIZON`؛ یک
پنجره می‌تواند به پیش از بخش خود برسد، گذشته معلوم است)، یک LSTM از `build_lstm` که با توقف زودهنگام روی بخش
اعتبارسنجی آموزش می‌بیند، و پیش‌بینی‌هایی که پیش از R² به مقیاس اصلی برگردانده می‌شوند. `run_pipeline` برای هر
ایراد یک کلید دارد تا آزمایش حذفی (ablation) زیر بتواند آن‌ها را یکی‌یکی اصلاح کند؛ اجرای کاملاً اصلاح‌شده با
`save_artifacts` ذخیره می‌شود.
"""),
    solution_code("pipeline", """
### BEGIN SOLUTION
def scaled_copies(train_rows, test_rows, fix_scaling):
    \"\"\"Inputs and target scaled for training, inputs as scaled for testing, and the scalers.\"\"\"
    feature_scaler = StandardScaler().fit(inputs[train_rows])
    target_scaler = StandardScaler().fit(consumption[train_rows, None])
    test_scaler = feature_scaler if fix_scaling else StandardScaler().fit(inputs[test_rows])
    return (feature_scaler.transform(inputs), target_scaler.transform(consumption[:, None])[:, 0],
            test_scaler.transform(inputs), feature_scaler, target_scaler)


def sample(rows, limit, rng):
    return rows if limit is None or len(rows) <= limit else np.sort(rng.choice(rows, limit, replace=False))


def run_pipeline(fix_split=True, fix_scaling=True, fix_units=True, fix_windows=True, epochs=BUDGET["epochs"]):
    \"\"\"Train one variant of the pipeline (each switch fixes one fault); returns its results.\"\"\"
    rng = np.random.default_rng(SEED)
    n_rows = len(inputs)
    train_rows, validation_rows, test_rows = chronological_split(n_rows, *SPLIT_FRACTIONS[:2])
    if not fix_split:
        train_rows, validation_rows, test_rows = np.split(rng.permutation(n_rows), [len(train_rows), len(train_rows) + len(validation_rows)])
    features, target, test_features, feature_scaler, target_scaler = scaled_copies(train_rows, test_rows, fix_scaling)
    if fix_windows:
        X, y = make_windows(features, target, LOOKBACK, HORIZON)
        X_for_test, _ = make_windows(test_features, target, LOOKBACK, HORIZON)
        target_rows = np.arange(LOOKBACK + HORIZON - 1, n_rows)
    else:
        X, y = given_windows(features, target, LOOKBACK)
        X_for_test, _ = given_windows(test_features, target, LOOKBACK)
        target_rows = np.arange(LOOKBACK - 1, n_rows)
    window_of_row = np.full(n_rows, -1)
    window_of_row[target_rows] = np.arange(len(target_rows))
    train = window_of_row[sample(np.intersect1d(train_rows, target_rows), BUDGET["max_train_windows"], rng)]
    validation = window_of_row[sample(np.intersect1d(validation_rows, target_rows), BUDGET["max_validation_windows"], rng)]
    test_target_rows = np.intersect1d(test_rows, target_rows)
    test = window_of_row[test_target_rows]

    model = build_lstm(X.shape[2])
    stop = keras.callbacks.EarlyStopping(patience=BUDGET["patience"], restore_best_weights=True)
    model.fit(X[train], y[train], validation_data=(X[validation], y[validation]), epochs=epochs,
              batch_size=BUDGET["batch_size"], callbacks=[stop], verbose=0)
    predicted = model.predict(X_for_test[test], verbose=0)
    if fix_units:
        predicted = target_scaler.inverse_transform(predicted)
    predicted = predicted[:, 0]
    return {"r2": r2_score(consumption[test_target_rows], predicted), "model": model, "prediction": predicted,
            "feature_scaler": feature_scaler, "target_scaler": target_scaler, "train_rows": train_rows,
            "validation_rows": validation_rows, "test_rows": test_rows, "test_target_rows": test_target_rows}
### END SOLUTION
"""),
    solution_code("train_fixed", """
### BEGIN SOLUTION
fixed = run_pipeline()
naive_r2 = r2_score(consumption[fixed["test_target_rows"]], consumption[fixed["test_target_rows"] - NAIVE_LAG])
feature_center, feature_scale = scaler_statistics(fixed["feature_scaler"])
target_center, target_scale = scaler_statistics(fixed["target_scaler"])
save_artifacts(".", model=fixed["model"], feature_center=feature_center, feature_scale=feature_scale,
               target_center=target_center[0], target_scale=target_scale[0], train_rows=fixed["train_rows"],
               validation_rows=fixed["validation_rows"], test_rows=fixed["test_rows"],
               test_target_rows=fixed["test_target_rows"], test_predictions=fixed["prediction"],
               test_r2=fixed["r2"], extra_metrics={"given_r2": float(given_r2), "naive_r2": float(naive_r2)})
print(f"fixed pipeline: R^2 = {fixed['r2']:.3f}; seasonal naive (same hour yesterday): R^2 = {naive_r2:.3f}")
### END SOLUTION
""", tags=("training",)),
    public_tests("public_artifacts", """
from pathlib import Path

for name in ("model.keras", "scaling.json", "split.npz", "test_predictions.npz", "metrics.json"):
    assert Path("artifacts", name).is_file(), f"artifacts/{name} was not saved (use save_artifacts)"
reported = json.loads(Path("artifacts/metrics.json").read_text())["test_r2"]
assert reported > 0, f"the saved test R^2 is {reported:.3f}: still not fixed"
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_split", 2, "chronological_split on fresh sizes, and the saved split: contiguous, "
                 "disjoint, in time order, proportions as asked"),
    hidden_group("hidden_scaling", 3, "scalers fitted on the training rows only; saved predictions in "
                 "consumption units; the reported R^2 computed in consumption units"),
    hidden_group("hidden_quality", 3, "R^2 of your saved model on the grader's test windows above the "
                 "budget's threshold, and better than the seasonal-naive baseline"),
    bilingual("""
## 4. Ablation: what does each fault cost?

Each row fixes **one** fault only (the others stay as given), then all of them together.
To save time these variants train for `BUDGET["ablation_epochs"]` epochs.
""", """
## ۴. آزمایش حذفی: هر ایراد چه هزینه‌ای دارد؟

هر سطر **فقط یک** ایراد را اصلاح می‌کند (بقیه همان‌طور که داده شده‌اند می‌مانند)، و سپس همه را با هم. برای صرفه‌جویی
در زمان، این حالت‌ها `BUDGET["ablation_epochs"]` دوره (epoch) آموزش می‌بینند.
"""),
    solution_code("ablation", """
### BEGIN SOLUTION
faults = ("fix_split", "fix_scaling", "fix_units", "fix_windows")
ablation = {"given (no fix)": given_r2}
for fault in faults:
    ablation[f"only {fault}"] = run_pipeline(**{f: f == fault for f in faults}, epochs=BUDGET["ablation_epochs"])["r2"]
ablation["all fixes"] = fixed["r2"]
ablation["seasonal naive"] = naive_r2
for name, value in ablation.items():
    print(f"{name:22s} R^2 = {value:10.3f}")
### END SOLUTION
""", tags=("training",)),
    bilingual("""
**What does the ablation table show? Which fix turns R² positive, and which fixes make the
number honest rather than larger?** (written, graded by a TA)
""", """
**جدول آزمایش حذفی چه نشان می‌دهد؟ کدام اصلاح R² را مثبت می‌کند، و کدام اصلاح‌ها عدد را صادق می‌کنند نه
بزرگ‌تر؟** (تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_ablation", """
Only the units fix makes R² positive on its own, and with the shuffled split and the leaking
windows still in place it is dishonestly high: the test windows overlap training windows and
the target sits inside its own window. The split and window fixes alone leave R² hugely
negative (the units are still mixed), yet they are what makes the final number honest.
Together the fixes give a model that beats the seasonal-naive baseline.
""", points=1),
    bilingual("""
## 5. A test week: predicted and actual consumption
""", """
## ۵. یک هفتهٔ آزمون: مصرف پیش‌بینی‌شده و واقعی
"""),
    solution_code("plot_week", """
### BEGIN SOLUTION
week = slice(0, 7 * 24)
rows = fixed["test_target_rows"][week]
plt.figure(figsize=(11, 3.5))
plt.plot(frame.timestamp.iloc[rows], consumption[rows], label="actual")
plt.plot(frame.timestamp.iloc[rows], fixed["prediction"][week], label="LSTM")
plt.plot(frame.timestamp.iloc[rows], consumption[rows - NAIVE_LAG], ":", label="same hour yesterday")
plt.ylabel("consumption (10^3 m^3/h)")
plt.legend()
plt.tight_layout()
plt.show()
### END SOLUTION
"""),
    hand_in_fa(NOTEBOOK),
]

if __name__ == "__main__":
    folder = Path(__file__).resolve().parents[1] / "source" / "gas_consumption"
    folder.mkdir(parents=True, exist_ok=True)
    generate_consumption().to_csv(folder / CSV_NAME, index=False)
    write_notebook(folder / "consumption.ipynb", CELLS)
