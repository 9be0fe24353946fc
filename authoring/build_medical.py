"""Builds source/medical/medical.ipynb (run: python authoring/build_medical.py)."""
from pathlib import Path

from hwtools.course.authoring import (hidden_group, locked_code, public_tests, solution_code,
                               write_notebook, written_answer)
from hwtools.course.bilingual import LANGUAGE_NOTE_EN, LANGUAGE_NOTE_FA, bilingual, hand_in_fa

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "medical" / "medical.ipynb"

CELLS = [
    bilingual("""
# A leakage-free medical classifier

Seed 000, question 2. Real patients: the Wisconsin Diagnostic Breast Cancer set (569 fine-needle
aspirates, 30 measurements each), which ships with scikit-learn. You build a Keras classifier
and report what a clinician asks for: **sensitivity** (how many cancers we catch),
**specificity**, ROC AUC and the confusion matrix, at a decision threshold you choose on
validation data.

* Labels as scikit-learn loads them: **0 = malignant, 1 = benign**. For a clinician the
  *positive* class is **malignant**. Mind this everywhere.
* Run the public tests as often as you like; **hidden tests grade your work**: they load your
  saved model, scaler, split and threshold (the last code cell saves them to `artifacts/`)
  and measure them themselves on the data, so print whatever you like, it is not what counts.
* Budget: `HW_MODE=full` (default) trains for at most a minute on a laptop CPU; the autograder
  runs the same notebook with fewer epochs.
""" + "\n* " + LANGUAGE_NOTE_EN, """
# یک دسته‌بند پزشکی بدون نشت داده

سری ۰۰۰، پرسش ۲. بیماران واقعی: مجموعهٔ Wisconsin Diagnostic Breast Cancer (569 نمونهٔ آسپیراسیون با سوزن
ظریف، هر کدام با 30 اندازه‌گیری) که همراه scikit-learn می‌آید. یک دسته‌بند Keras می‌سازید و آنچه یک پزشک
می‌خواهد را گزارش می‌کنید: **حساسیت** (چند درصد از سرطان‌ها را پیدا می‌کنیم)، **ویژگی** (specificity)، ROC AUC
و ماتریس درهم‌ریختگی، در آستانهٔ تصمیمی که روی داده‌های اعتبارسنجی انتخاب می‌کنید.

* برچسب‌ها همان‌طور که scikit-learn بارگذاری می‌کند: **0 = بدخیم (malignant)، 1 = خوش‌خیم (benign)**. برای پزشک
  کلاس *مثبت* **بدخیم** است. همه‌جا به این دقت کنید.
* آزمون‌های عمومی را هر چند بار که بخواهید اجرا کنید؛ **آزمون‌های پنهان کار شما را نمره می‌دهند**: مدل، مقیاس‌گر
  (scaler)، تقسیم و آستانهٔ ذخیره‌شدهٔ شما را بارگذاری می‌کنند (آخرین سلول کد آن‌ها را در `artifacts/` ذخیره
  می‌کند) و خودشان آن‌ها را روی داده‌ها اندازه می‌گیرند؛ پس هر چه می‌خواهید چاپ کنید، آن چیزی نیست که به حساب
  می‌آید.
* بودجه: `HW_MODE=full` (پیش‌فرض) حداکثر یک دقیقه روی CPU یک لپ‌تاپ آموزش می‌دهد؛ تصحیح‌گر خودکار همان نوت‌بوک
  را با دوره‌های کمتر اجرا می‌کند.
""" + "\n* " + LANGUAGE_NOTE_FA),
    locked_code("setup", """
import json

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix, roc_auc_score, roc_curve

from hwtools.assignments.medical import (BENIGN, MALIGNANT, TARGET_SENSITIVITY, load_diagnosis_data,
                                         save_artifacts)
from hwtools.budget import budget
from hwtools.seeding import seed_everything

BUDGET = budget("medical")
SEED = seed_everything()
SPLIT_SEED = 2024
X, y, feature_names = load_diagnosis_data()
print(f"X: {X.shape}, budget: {dict(BUDGET)}")
"""),
    bilingual("""
## 1. Explore

Class balance and feature scales. Note the ranges: some features are in the thousands, others
below 0.01. And note what a "classifier" that always answers *benign* would score.
""", """
## 1. کاوش

توازن کلاس‌ها و مقیاس ویژگی‌ها. به بازه‌ها دقت کنید: برخی ویژگی‌ها در حد هزار هستند و برخی کمتر از 0.01. و ببینید
«دسته‌بندی» که همیشه پاسخ *خوش‌خیم* می‌دهد چه امتیازی می‌گیرد.
"""),
    locked_code("explore", """
counts = np.bincount(y, minlength=2)
print(f"malignant: {counts[MALIGNANT]}, benign: {counts[BENIGN]} "
      f"({counts[MALIGNANT] / len(y):.1%} malignant)")
print(f"accuracy of always answering 'benign': {counts[BENIGN] / len(y):.1%}, "
      "with a sensitivity of 0: every cancer missed")

fig, ax = plt.subplots(figsize=(10, 4))
ax.boxplot(X, showfliers=False)
ax.set_yscale("log")
ax.set_xticks(range(1, X.shape[1] + 1), feature_names, rotation=90, fontsize=7)
ax.set_title("feature scales (log axis): standardise before training")
fig.tight_layout()
plt.show()
"""),
    bilingual("""
## 2. Split, then standardise (4 points, hidden tests)

Make a **stratified** train / validation / test split of the row indices `np.arange(len(y))`
(about 60 / 20 / 20) with the fixed seed `SPLIT_SEED`: every row in exactly one part, each part
with the data's share of malignant rows. Name the index arrays `train_idx`, `val_idx`,
`test_idx`.

Then standardise: the mean and the (population) standard deviation per feature, computed on the
**training rows only**, as `scaler_mean` and `scaler_scale`; apply them to all three parts as
`X_train`, `X_val`, `X_test`. Targets for the network: `t_train`, `t_val`, `t_test`, equal to
1.0 for **malignant** and 0.0 for benign.
""", """
## 2. اول تقسیم، سپس استانداردسازی (4 نمره، آزمون‌های پنهان)

یک تقسیم **لایه‌بندی‌شده** (stratified) آموزش / اعتبارسنجی / آزمون از اندیس‌های سطرها، `np.arange(len(y))`،
بسازید، به نسبت تقریبی (60 / 20 / 20)، با بذر ثابت `SPLIT_SEED`: هر سطر دقیقاً در یک بخش، و هر بخش با همان سهم
سطرهای بدخیم که در کل داده هست. آرایه‌های اندیس را `train_idx`، `val_idx` و `test_idx` بنامید.

سپس استانداردسازی کنید: میانگین و انحراف معیار (جمعیتی) هر ویژگی، که **فقط روی سطرهای آموزشی** محاسبه می‌شوند،
با نام‌های `scaler_mean` و `scaler_scale`؛ آن‌ها را بر هر سه بخش اعمال کنید تا `X_train`، `X_val` و `X_test`
به دست آیند. هدف‌های شبکه: `t_train`، `t_val` و `t_test`، برابر 1.0 برای **بدخیم** و 0.0 برای خوش‌خیم.
"""),
    solution_code("split_and_scale", """
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

### BEGIN SOLUTION
rows = np.arange(len(y))
train_idx, rest_idx = train_test_split(rows, test_size=0.4, stratify=y, random_state=SPLIT_SEED)
val_idx, test_idx = train_test_split(rest_idx, test_size=0.5, stratify=y[rest_idx], random_state=SPLIT_SEED)

scaler = StandardScaler().fit(X[train_idx])
scaler_mean, scaler_scale = scaler.mean_, scaler.scale_
X_train, X_val, X_test = (scaler.transform(X[part]) for part in (train_idx, val_idx, test_idx))
t_train, t_val, t_test = ((y[part] == MALIGNANT).astype("float32") for part in (train_idx, val_idx, test_idx))
### END SOLUTION
"""),
    public_tests("public_split_and_scale", """
parts = [np.asarray(p) for p in (train_idx, val_idx, test_idx)]
assert sum(len(p) for p in parts) == len(y), "the three parts must hold every row once"
assert len(np.unique(np.concatenate(parts))) == len(y), "a row appears in two parts"
for name, part in zip(("train", "validation", "test"), parts):
    print(f"{name:10s}: {len(part):3d} rows, {np.mean(y[part] == MALIGNANT):.1%} malignant")
assert np.allclose(X_train.mean(axis=0), 0, atol=1e-6), "X_train should have mean 0 per feature"
assert t_train.shape == (len(train_idx),) and set(np.unique(t_train)) <= {0.0, 1.0}
assert np.array_equal(t_test == 1, y[test_idx] == MALIGNANT), "t_* must be 1.0 for malignant rows"
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_split", 2, "every row in exactly one part; each part stratified by diagnosis"),
    hidden_group("hidden_scaler", 2, "scaler_mean and scaler_scale equal the training rows' statistics"),
    bilingual("""
## 3. Sensitivity and specificity (4 points, hidden tests)

Implement `sensitivity_specificity(y_true, y_pred, positive=MALIGNANT)` returning the tuple
`(sensitivity, specificity)` as floats: sensitivity is the share of the rows whose label is
`positive` that were predicted `positive`; specificity the share of the other rows predicted
as not `positive`. Labels are 0/1 (lists or arrays). If `y_true` has **no positive or no
negative row**, one of the two is undefined: raise a `ValueError` that says so.
""", """
## 3. حساسیت و ویژگی (4 نمره، آزمون‌های پنهان)

`sensitivity_specificity(y_true, y_pred, positive=MALIGNANT)` را پیاده‌سازی کنید که تاپل
`(sensitivity, specificity)` را به‌صورت float برگرداند: حساسیت سهم سطرهایی با برچسب `positive` است که `positive`
پیش‌بینی شده‌اند؛ ویژگی سهم سطرهای دیگر است که غیر `positive` پیش‌بینی شده‌اند. برچسب‌ها 0/1 هستند (فهرست یا
آرایه). اگر `y_true` **هیچ سطر مثبت یا هیچ سطر منفی** نداشته باشد، یکی از آن دو تعریف‌نشده است: یک `ValueError`
بدهید که همین را بگوید.
"""),
    solution_code("metrics", """
def sensitivity_specificity(y_true, y_pred, positive=MALIGNANT):
    \"\"\"(sensitivity, specificity) with `positive` as the positive label (default: malignant).\"\"\"
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels, y_pred {y_pred.size}")
    actual = y_true == positive
    predicted = y_pred == positive
    if actual.all() or not actual.any():
        raise ValueError("sensitivity and specificity need at least one positive and one negative row")
    sensitivity = np.sum(actual & predicted) / np.sum(actual)
    specificity = np.sum(~actual & ~predicted) / np.sum(~actual)
    return float(sensitivity), float(specificity)
    ### END SOLUTION
"""),
    public_tests("public_metrics", """
sens, spec = sensitivity_specificity([0, 0, 0, 1, 1], [0, 1, 0, 1, 0])
assert abs(sens - 2 / 3) < 1e-12 and abs(spec - 1 / 2) < 1e-12, (sens, spec)
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_metrics", 4, "against scikit-learn on random label vectors, for either positive label, "
                 "and the error for a degenerate y_true"),
    bilingual("""
## 4. The classifier

A small dense network whose single sigmoid output is the **probability of malignant**.
Handle the imbalance (class weights here), regularise (dropout) and stop early on the
validation part. Epochs come from the budget: `BUDGET["max_epochs"]`, `BUDGET["patience"]`.
""", """
## 4. دسته‌بند

یک شبکهٔ Dense کوچک که تنها خروجی sigmoid آن **احتمال بدخیم بودن** است. عدم توازن کلاس‌ها را مدیریت کنید (این‌جا
با وزن کلاس‌ها)، منظم‌سازی کنید (dropout) و با پایش بخش اعتبارسنجی زودهنگام متوقف شوید (early stopping). تعداد
دوره‌ها از بودجه می‌آید: `BUDGET["max_epochs"]` و `BUDGET["patience"]`.
"""),
    solution_code("train", """
### BEGIN SOLUTION
def build_model(n_features):
    \"\"\"Dense 32 -> 16 -> 1 with dropout; the output is P(malignant).\"\"\"
    model = keras.Sequential([
        keras.Input(shape=(n_features,)),
        layers.Dense(32, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(16, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc")])
    return model


n_malignant = t_train.sum()
class_weight = {1: len(t_train) / (2 * n_malignant), 0: len(t_train) / (2 * (len(t_train) - n_malignant))}
model = build_model(X_train.shape[1])
history = model.fit(X_train, t_train, validation_data=(X_val, t_val), epochs=BUDGET["max_epochs"],
                    batch_size=BUDGET["batch_size"], class_weight=class_weight, verbose=0,
                    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=BUDGET["patience"],
                                                             restore_best_weights=True)])
print(f"stopped after {len(history.history['loss'])} epochs")
### END SOLUTION
""", tags=("training",)),
    bilingual("""
## 5. ROC curve and a threshold for the clinic (2 points, hidden tests)

Plot the ROC curve on the **validation** part and print its AUC. Then choose `threshold`, a
float: a row is predicted malignant when `P(malignant) >= threshold`. Take the **highest**
threshold whose validation sensitivity reaches `TARGET_SENSITIVITY` (0.95): it reaches the
target with the best specificity available, and it is one of the validation rows' predicted
probabilities (the grader recomputes it from your model, within 1e-4). Never look at the test
part for this.
""", """
## 5. منحنی ROC و آستانه‌ای برای درمانگاه (2 نمره، آزمون‌های پنهان)

منحنی ROC را روی بخش **اعتبارسنجی** رسم کنید و AUC آن را چاپ کنید. سپس `threshold` را، یک float، انتخاب کنید:
سطری بدخیم پیش‌بینی می‌شود که `P(malignant) >= threshold`. **بالاترین** آستانه‌ای را بگیرید که حساسیت
اعتبارسنجی‌اش به `TARGET_SENSITIVITY` (0.95) برسد: با بهترین ویژگی ممکن به هدف می‌رسد، و یکی از احتمال‌های
پیش‌بینی‌شدهٔ سطرهای اعتبارسنجی است (تصحیح‌گر آن را از مدل شما، با دقت 1e-4، دوباره حساب می‌کند). برای این کار
هرگز به بخش آزمون نگاه نکنید.
"""),
    solution_code("threshold", """
### BEGIN SOLUTION
val_probabilities = model.predict(X_val, verbose=0).ravel()
fpr, tpr, _ = roc_curve(t_val, val_probabilities)
print(f"validation AUC: {roc_auc_score(t_val, val_probabilities):.4f}")
fig, ax = plt.subplots(figsize=(4, 4))
ax.plot(fpr, tpr)
ax.plot([0, 1], [0, 1], ":", color="grey")
ax.set_xlabel("1 - specificity")
ax.set_ylabel("sensitivity")
ax.set_title("ROC, validation part")
plt.show()

malignant_scores = np.sort(val_probabilities[t_val == 1])[::-1]
needed = int(np.ceil(TARGET_SENSITIVITY * len(malignant_scores) - 1e-9))
threshold = float(malignant_scores[needed - 1])
### END SOLUTION
val_pred = np.where(val_probabilities >= threshold, MALIGNANT, BENIGN)
print(f"threshold {threshold:.4f}: validation sensitivity, specificity =",
      sensitivity_specificity(y[val_idx], val_pred))
"""),
    public_tests("public_threshold", """
assert isinstance(threshold, float) and 0.0 <= threshold <= 1.0, "threshold must be a float in [0, 1]"
val_sensitivity, _ = sensitivity_specificity(y[val_idx], val_pred)
assert val_sensitivity >= TARGET_SENSITIVITY, f"validation sensitivity {val_sensitivity:.3f} is below the target"
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_threshold", 2, "the threshold is the highest one reaching the target sensitivity "
                 "on the validation rows (the grader predicts them with your model)"),
    bilingual("""
## 6. Report once on the test part (6 points, hidden tests)

Only now touch the test part: `test_probabilities` (P(malignant) for the test rows, in the
order of `test_idx`) and `test_report`, a dict with `sensitivity`, `specificity` (malignant
positive, at your threshold), `auc`, and `confusion_matrix` as scikit-learn orders it for
labels `[MALIGNANT, BENIGN]` (rows: true, columns: predicted). Then save everything.
""", """
## 6. یک بار گزارش روی بخش آزمون (6 نمره، آزمون‌های پنهان)

فقط حالا به بخش آزمون دست بزنید: `test_probabilities` (احتمال بدخیم بودن سطرهای آزمون، به ترتیب `test_idx`) و
`test_report`، یک dict با `sensitivity` و `specificity` (بدخیم مثبت است، در آستانهٔ شما)، `auc`، و
`confusion_matrix` با ترتیب scikit-learn برای برچسب‌های `[MALIGNANT, BENIGN]` (سطرها: واقعی، ستون‌ها:
پیش‌بینی‌شده). سپس همه‌چیز را ذخیره کنید.
"""),
    solution_code("report", """
### BEGIN SOLUTION
test_probabilities = model.predict(X_test, verbose=0).ravel()
test_pred = np.where(test_probabilities >= threshold, MALIGNANT, BENIGN)
test_sensitivity, test_specificity = sensitivity_specificity(y[test_idx], test_pred)
test_report = {
    "sensitivity": test_sensitivity,
    "specificity": test_specificity,
    "auc": float(roc_auc_score(t_test, test_probabilities)),
    "confusion_matrix": confusion_matrix(y[test_idx], test_pred, labels=[MALIGNANT, BENIGN]),
}
### END SOLUTION
print(json.dumps({k: np.asarray(v).tolist() for k, v in test_report.items()}, indent=1))
"""),
    locked_code("save", """
saved_to = save_artifacts(".", model=model, scaler_mean=scaler_mean, scaler_scale=scaler_scale,
                          train_idx=train_idx, val_idx=val_idx, test_idx=test_idx, threshold=threshold,
                          test_probabilities=test_probabilities, test_report=test_report)
print(f"saved to {saved_to}")
"""),
    locked_code("plot_confusion_matrix", """
matrix = np.asarray(test_report["confusion_matrix"])
if matrix.shape == (2, 2):
    ConfusionMatrixDisplay(matrix, display_labels=["malignant", "benign"]).plot(cmap="Blues", colorbar=False)
    plt.title(f"test part, threshold {threshold:.3f} (rows: true, columns: predicted)")
    plt.show()
else:
    print(f"test_report['confusion_matrix'] has shape {matrix.shape}, not (2, 2): nothing to plot")
"""),
    public_tests("public_report", """
assert {"sensitivity", "specificity", "auc", "confusion_matrix"} <= set(test_report), "test_report lacks a metric"
assert np.shape(test_report["confusion_matrix"]) == (2, 2)
assert np.shape(test_probabilities) == (len(test_idx),)
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_model", 4, "the grader's test AUC and test sensitivity of your saved model at your "
                 "saved threshold"),
    hidden_group("hidden_report", 2, "your test_probabilities and test_report agree with what the grader "
                 "measures (malignant as the positive class)"),
    bilingual("""
## 7. Questions (written, graded by a TA)

**(a)** Why does sensitivity matter more than accuracy for this screening decision? What does
a missed malignant tumour cost compared with a false alarm?
""", """
## 7. پرسش‌ها (تشریحی، با تصحیح دستیار آموزشی)

**(الف)** چرا برای این تصمیم غربالگری حساسیت از دقت (accuracy) مهم‌تر است؟ تومور بدخیمی که از دست برود در
مقایسه با یک هشدار نادرست چه هزینه‌ای دارد؟
"""),
    written_answer("answer_sensitivity", """
A false negative sends a patient with cancer home: treatment is delayed while the tumour grows,
which can cost the patient's life. A false positive costs a further test (a biopsy) and worry.
Accuracy weighs both errors equally and is dominated by the benign majority: always answering
"benign" is 63 % accurate with a sensitivity of 0. Sensitivity counts exactly the costly error.
""", points=1),
    bilingual("""
**(b)** What is data leakage? Name the places in *this* pipeline where it can hide, and how the
notebook avoids each.
""", """
**(ب)** نشت داده (data leakage) چیست؟ جاهایی از *همین* خط لوله را نام ببرید که نشت می‌تواند در آن‌ها پنهان شود،
و بگویید نوت‌بوک چگونه از هر کدام پرهیز می‌کند.
"""),
    written_answer("answer_leakage", """
Leakage is information from the evaluation data reaching the model or its choices, so the
reported performance is better than what new patients will see. Here it hides in (1) the
scaler: statistics computed on all rows carry the validation and test rows' means and spreads
into training; we fit them on the training rows only; (2) the threshold (and any other choice,
such as the epoch to stop at): tuned on the test part, the test figure is no longer an unbiased
estimate; we tune on validation and look at the test part once; (3) the split itself: a row
(or a patient with several rows) in two parts; the indices are disjoint and, with one row per
patient here, so are the patients.
""", points=2),
    bilingual("""
**(c)** What does your threshold trade, compared with the default 0.5? When would you move it?
""", """
**(ج)** آستانهٔ شما در مقایسه با مقدار پیش‌فرض 0.5 چه چیزی را فدای چه چیزی می‌کند؟ چه وقت آن را جابه‌جا می‌کنید؟
"""),
    written_answer("answer_threshold", """
Lowering the threshold below 0.5 calls more cases malignant: sensitivity rises (fewer missed
cancers) and specificity falls (more false alarms and biopsies). We chose the point on the ROC
curve that keeps sensitivity at 0.95 on validation with the best specificity left. A screening
setting with cheap follow-up tests would push sensitivity higher still; a setting where false
alarms lead to harmful procedures would accept a higher threshold.
""", points=1),
    hand_in_fa(NOTEBOOK),
]

if __name__ == "__main__":
    write_notebook(NOTEBOOK, CELLS)
