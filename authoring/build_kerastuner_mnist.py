"""Builds source/kerastuner_mnist/kerastuner_mnist.ipynb (run: python authoring/build_kerastuner_mnist.py)."""
from pathlib import Path

from hwtools.course.authoring import (bonus_answer, hidden_group, locked_code, public_tests, solution_code,
                               write_notebook, written_answer)
from hwtools.course.bilingual import LANGUAGE_NOTE_EN, LANGUAGE_NOTE_FA, bilingual, hand_in_fa

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "kerastuner_mnist" / "kerastuner_mnist.ipynb"

PUBLIC_DONE = 'print("Public tests passed. Hidden tests will also grade this.")'

INTRO = [
    bilingual("""
# A CNN for MNIST whose hyperparameters KerasTuner searches

Seed 000, question 1. You design a **search space** of convolutional networks for MNIST,
let KerasTuner search it, retrain the best network and analyse the results.

The seed's limits on the search space (the grader enforces them on every model your
`build_model` can build):

| | limit |
|---|---|
| convolutional layers | 1 to 5 (convolution + pooling required) |
| dense (hidden) layers | at most 5 (0 to 5, or 1 to 5) |
| filters per convolution | at most 256 |
| neurons per dense layer | at most 256 |
| learning rate | at most 0.001 |
| optimizer | a searched choice: Adam and at least one other |
| dropout | allowed (searched or fixed) |

* Public tests here check the basics only; **hidden tests grade your work**: your
  `prepare_splits` on the grader's data, your `build_model` built by the grader with
  hyperparameter values **it** fixes (every corner of your space must build), the tuner's
  files this notebook leaves on disk, and the best model this notebook saves (the grader
  measures its accuracy itself, on a test split it chooses).
* Budget: `HW_MODE=full` (yours) searches 10 trials of 5 epochs on all 60,000 images and
  retrains the best for up to 15 epochs (an hour or more on a CPU; target: at least 99.3 %
  test accuracy); the autograder re-runs this notebook with fewer samples, trials and epochs
  and thresholds calibrated for them. Do not rename the saved files.
* **Hand in** `kerastuner_mnist.ipynb` and `kerastuner_chosen_hyperparameters.json`, which
  your full run writes: the best hyperparameters your own search found. The autograder's
  short search (2-3 trials of one epoch) cannot tell a good space from a lucky draw, so its run
  retrains **your** recorded choice, and the accuracy graded is that model's. Without the
  file it retrains whatever its short search found.
* Seeds are fixed (`seed_everything`, the tuner's `seed`): a re-run gives the same numbers.
""" + "\n* " + LANGUAGE_NOTE_EN, """
# یک CNN برای MNIST که KerasTuner ابرپارامترهایش را جست‌وجو می‌کند

سری ۰۰۰، پرسش ۱. یک **فضای جست‌وجو** از شبکه‌های کانولوشنی برای MNIST طراحی می‌کنید، می‌گذارید KerasTuner آن را
جست‌وجو کند، بهترین شبکه را دوباره آموزش می‌دهید و نتایج را تحلیل می‌کنید.

محدودیت‌های سری بر فضای جست‌وجو (جدول بالا؛ تصحیح‌گر آن‌ها را روی هر مدلی که `build_model` شما می‌تواند بسازد
بررسی می‌کند):

- لایه‌های کانولوشنی: 1 تا 5 (کانولوشن و pooling هر دو لازم‌اند)
- لایه‌های Dense (پنهان): حداکثر 5 (0 تا 5، یا 1 تا 5)
- فیلترهای هر کانولوشن: حداکثر 256
- نورون‌های هر لایهٔ Dense: حداکثر 256
- نرخ یادگیری: حداکثر 0.001
- بهینه‌ساز: انتخابی که جست‌وجو می‌شود: Adam و دست‌کم یکی دیگر
- dropout: مجاز (جست‌وجوشده یا ثابت)

* آزمون‌های عمومی این‌جا فقط موارد پایه را بررسی می‌کنند؛ **آزمون‌های پنهان کار شما را نمره می‌دهند**:
  `prepare_splits` شما روی داده‌های تصحیح‌گر، `build_model` شما که تصحیح‌گر با مقدارهایی از ابرپارامترها که
  **خودش** تعیین می‌کند می‌سازد (هر گوشهٔ فضای شما باید ساخته شود)، فایل‌هایی که tuner این نوت‌بوک روی دیسک
  می‌گذارد، و بهترین مدلی که این نوت‌بوک ذخیره می‌کند (تصحیح‌گر دقتش را خودش روی بخشی از داده‌های آزمون که
  انتخاب می‌کند اندازه می‌گیرد).
* بودجه: `HW_MODE=full` (مال شما) 10 آزمایش (trial) پنج‌دوره‌ای روی هر 60,000 تصویر جست‌وجو می‌کند و بهترین را تا
  15 دوره دوباره آموزش می‌دهد (یک ساعت یا بیشتر روی CPU؛ هدف: دست‌کم 99.3 % دقت آزمون)؛ تصحیح‌گر خودکار این
  نوت‌بوک را با نمونه‌ها، آزمایش‌ها و دوره‌های کمتر و آستانه‌هایی که برای آن‌ها تنظیم شده دوباره اجرا می‌کند. نام
  فایل‌های ذخیره‌شده را تغییر ندهید.
* `kerastuner_mnist.ipynb` و `kerastuner_chosen_hyperparameters.json` را **تحویل دهید**؛ فایل دوم را اجرای full
  شما می‌نویسد: بهترین ابرپارامترهایی که جست‌وجوی خود شما یافت. جست‌وجوی کوتاه تصحیح‌گر خودکار (2 تا 3 آزمایش
  یک‌دوره‌ای) نمی‌تواند فضای خوب را از یک قرعهٔ خوش‌شانس تشخیص دهد، پس اجرای آن انتخاب ثبت‌شدهٔ **شما** را دوباره
  آموزش می‌دهد و دقتی که نمره می‌گیرد دقت همان مدل است. بدون این فایل، آنچه جست‌وجوی کوتاه خودش یافت را دوباره
  آموزش می‌دهد.
* بذرها ثابت‌اند (`seed_everything` و `seed` تیونر): اجرای دوباره همان اعداد را می‌دهد.
""" + "\n* " + LANGUAGE_NOTE_FA),
    bilingual("## 1. Questions (written, graded by a TA)\n\n**(a)** What is KerasTuner, and what does it automate?", """
## 1. پرسش‌ها (تشریحی، با تصحیح دستیار آموزشی)

**(الف)** KerasTuner چیست و چه کاری را خودکار می‌کند؟
"""),
    written_answer("answer_kerastuner", """
KerasTuner is a hyperparameter-optimisation library for Keras. You write a *hypermodel*, a
function `build_model(hp)` that builds and compiles a model while asking the `hp` object for
each choice (`hp.Int`, `hp.Float`, `hp.Choice`, `hp.Boolean`), which declares the search
space; a *tuner* then repeatedly samples values, builds and trains the model (a *trial*),
records the objective (here validation accuracy), and reports the best trials and
hyperparameters. It automates the trial-and-error loop over architecture and training
settings, with checkpointing so a search can resume.
""", points=1),
    bilingual("""
**(b)** Describe KerasTuner's tuners (RandomSearch, Hyperband, BayesianOptimization,
GridSearch). Which one do you use below, and why?
""", """
**(ب)** تیونرهای KerasTuner (RandomSearch، Hyperband، BayesianOptimization و GridSearch) را شرح دهید. شما در
ادامه از کدام استفاده می‌کنید و چرا؟
"""),
    written_answer("answer_tuners", """
* **RandomSearch** samples each trial's values at random from the space: simple, no
  assumptions, embarrassingly parallel, surprisingly strong when few hyperparameters matter.
* **Hyperband** trains many configurations for a few epochs and keeps the best fraction
  (successive halving, `factor`) for longer training, over several brackets that trade the
  number of configurations against epochs each: most of the budget goes to promising models.
* **BayesianOptimization** fits a Gaussian-process surrogate of the objective over the trials
  so far and picks the next values by an acquisition function (upper confidence bound): few
  trials, good for expensive trials, but sequential and weaker on large conditional spaces.
* **GridSearch** tries every combination of discrete values in order: exhaustive, only
  feasible for tiny spaces (the number of combinations explodes).

I use RandomSearch: the space is conditional (the number of layers decides which per-layer
hyperparameters exist), the budget is a fixed small number of trials with the same epochs
each, and random sampling covers such a space well with reproducible results (its `seed`).
Hyperband is the better choice when trials are long and early epochs predict the final rank.
""", points=2),
    bilingual("**(c)** What is MNIST?", """
**(ج)** MNIST چیست؟
"""),
    written_answer("answer_mnist", """
MNIST is a data set of 70,000 grey-scale 28 x 28 images of handwritten digits 0-9 (60,000 for
training, 10,000 for testing), written by US Census Bureau employees and high-school
students, size-normalised and centred; labels are the digits. It is the classic benchmark for
image classification: small CNNs reach above 99 % test accuracy.
""", points=1),
    bilingual("**(d)** How is the filter (kernel) size of a convolution chosen?", """
**(د)** اندازهٔ فیلتر (کرنل) یک لایهٔ کانولوشنی چگونه انتخاب می‌شود؟
"""),
    written_answer("answer_filter_size", """
The kernel size sets the receptive field of one layer: small odd kernels (3x3, sometimes 5x5)
are the usual choice because stacking them grows the receptive field (two 3x3 layers see 5x5)
with fewer parameters and more non-linearities than one large kernel, and odd sizes have a
centre and keep the size with symmetric 'same' padding. Larger kernels suit large inputs or
first layers that must see wide structures; on 28 x 28 digits, 3x3 (or 5x5) is enough. The
choice can itself be searched (a `Choice` of 3 and 5), balanced against cost.
""", points=1),
    bilingual("""
**(e) Bonus:** Why do dropout and pooling matter for how well the network does, and how do they
fight overfitting? A **bonus** question, as in the seed: up to 2 extra points added to your score
(a TA grades it); the assignment's maximum stays the same, and leaving it out costs nothing.
""", """
**(هـ) نمرهٔ امتیازی:** اهمیت dropout و pooling در بهبود عملکرد شبکه چیست، و چگونه با بیش‌برازش (overfitting)
مقابله می‌کنند؟ این پرسش، مانند سری تمرین، **امتیازی** است: تا 2 نمرهٔ اضافه به نمرهٔ شما افزوده می‌شود (با تصحیح
دستیار آموزشی)؛ نمرهٔ کل تمرین تغییر نمی‌کند و پاسخ ندادن به آن نمره‌ای کم نمی‌کند.
"""),
    bonus_answer("answer_regularisation", """
**Dropout** zeroes a random fraction of activations at each training step (and rescales the
rest), so units cannot co-adapt and rely on particular others; the network behaves like an
average of many thinned networks, a strong regulariser; it is off at inference. **Pooling**
summarises each neighbourhood (max or average), shrinking the maps: fewer parameters in the
layers after it (above all the first dense layer), some invariance to small shifts and
distortions, and less capacity to memorise pixel-exact details. Both lower the gap between
training and validation accuracy.
""", bonus_points=2),
]

SETUP_AND_DATA = [
    locked_code("setup", """
import json

import keras
import keras_tuner
import matplotlib.pyplot as plt
import numpy as np

from hwtools.assignments.kerastuner_mnist import (BEST_HYPERPARAMETERS_FILE, BEST_MODEL_FILE,
                                                  CHOSEN_HYPERPARAMETERS_FILE, LIMITS, TUNER_DIRECTORY,
                                                  TUNER_PROJECT, describe_hypermodel, fixed_hyperparameters,
                                                  hyperparameters_to_retrain, load_mnist_tagged, plot_trials,
                                                  record_full_search, save_best_hyperparameters, trials_table)
from hwtools.budget import budget
from hwtools.seeding import seed_everything

BUDGET = budget("kerastuner_mnist")
SEED = seed_everything()
print("budget:", dict(BUDGET))
"""),
    bilingual("""
## 2. Data (2 points, hidden tests)

Complete `prepare_splits(x_train, y_train, x_test, y_test, n_train, validation_fraction, seed=0)`:

* shuffle the training images (with `seed`), keep the first `n_train` (all if `None`), and
  hold out `validation_fraction` of them as the **validation** set the tuner selects models
  on; the test set is **never** used for that;
* scale every image set to float32 `(N, 28, 28, 1)` in [0, 1]; labels stay integers `(N,)`;
* return `((x_fit, y_fit), (x_val, y_val), (x_test, y_test))`, the test set complete.
""", """
## 2. داده (2 نمره، آزمون‌های پنهان)

تابع `prepare_splits(x_train, y_train, x_test, y_test, n_train, validation_fraction, seed=0)` را کامل کنید:

* تصاویر آموزشی را (با `seed`) بُر بزنید، `n_train` تای اول را نگه دارید (اگر `None` باشد همه را)، و کسر
  `validation_fraction` از آن‌ها را به‌عنوان مجموعهٔ **اعتبارسنجی** کنار بگذارید که tuner مدل‌ها را با آن انتخاب
  می‌کند؛ مجموعهٔ آزمون **هرگز** برای این کار به کار نمی‌رود؛
* همهٔ مجموعه‌های تصویر را به float32 با شکل `(N, 28, 28, 1)` در بازهٔ [0, 1] مقیاس دهید؛ برچسب‌ها اعداد صحیح
  با شکل `(N,)` می‌مانند؛
* `((x_fit, y_fit), (x_val, y_val), (x_test, y_test))` را برگردانید، با مجموعهٔ آزمون کامل.
"""),
    locked_code("load_data", """
(x_train_raw, y_train_raw), (x_test_raw, y_test_raw), data_source = load_mnist_tagged()
"""),
    solution_code("prepare_splits", """
def prepare_splits(x_train, y_train, x_test, y_test, n_train, validation_fraction, seed=0):
    \"\"\"(fit, validation, test) pairs: validation drawn from the training images only.\"\"\"
    ### BEGIN SOLUTION
    def scale(x):
        return (np.asarray(x, dtype="float32") / 255.0)[..., np.newaxis]

    order = np.random.default_rng(seed).permutation(len(x_train))[:n_train]
    n_val = int(round(len(order) * validation_fraction))
    val, fit = order[:n_val], order[n_val:]
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    return (scale(x_train[fit]), y_train[fit]), (scale(x_train[val]), y_train[val]), (scale(x_test), y_test)
    ### END SOLUTION
"""),
    locked_code("split_data", """
(x_fit, y_fit), (x_val, y_val), (x_test, y_test) = prepare_splits(
    x_train_raw, y_train_raw, x_test_raw, y_test_raw, BUDGET["n_train"], BUDGET["validation_fraction"], seed=SEED)
print(f"fit {x_fit.shape}, validation {x_val.shape}, test {x_test.shape} ({data_source} data)")
"""),
    public_tests("public_splits", f"""
assert x_fit.dtype == np.float32 and x_fit.shape[1:] == (28, 28, 1), "images: float32 (N, 28, 28, 1)"
assert 0.0 <= x_fit.min() and x_fit.max() <= 1.0, "pixels must lie in [0, 1]"
assert len(x_val) > 0 and len(x_fit) + len(x_val) <= len(x_train_raw), "validation comes from the training images"
assert len(x_test) == len(x_test_raw), "the test set stays complete"
{PUBLIC_DONE}
"""),
    hidden_group("hidden_splits", 2, "scaling and shapes; validation images drawn from the training images, "
                 "apart from the fitted ones, never from the test set"),
]

HYPERMODEL = [
    bilingual("""
## 3. The hypermodel (8 points, hidden tests)

Write `build_model(hp)`: a compiled Keras model for inputs `(28, 28, 1)` (pixels in [0, 1])
and 10 classes (softmax probabilities, integer labels), whose choices come from `hp`,
within the limits above. The grader builds it **itself**, with values it fixes, so use these
names for the hyperparameters it controls (add any others you like, e.g. kernel sizes or
dropout rates):

| name | what |
|---|---|
| `conv_layers` | number of convolutional layers (an `hp.Int`) |
| `filters_0`, `filters_1`, ... | filters of convolution 0, 1, ... |
| `dense_layers` | number of hidden dense layers (before the 10-class output) |
| `units_0`, `units_1`, ... | neurons of dense layer 0, 1, ... |
| `optimizer` | an `hp.Choice` of optimizer names (`"adam"` and at least one other Keras optimizer) |
| `learning_rate` | the optimizer's learning rate |

Every value in your space must give a valid model: five 2x2 poolings of a 28 x 28 image do
not fit (28 -> 14 -> 7 -> 3 -> 1 -> ?), so decide where pooling goes.
""", """
## 3. هایپرمدل (8 نمره، آزمون‌های پنهان)

`build_model(hp)` را بنویسید: یک مدل کامپایل‌شدهٔ Keras برای ورودی‌های `(28, 28, 1)` (پیکسل‌ها در [0, 1]) و 10 کلاس
(احتمال‌های softmax، برچسب‌های صحیح)، که انتخاب‌هایش از `hp` می‌آیند، در محدوده‌های بالا. تصحیح‌گر آن را **خودش**
با مقدارهایی که تعیین می‌کند می‌سازد، پس برای ابرپارامترهایی که او کنترل می‌کند این نام‌ها را به کار ببرید (هر
ابرپارامتر دیگری هم که بخواهید اضافه کنید، مثلاً اندازهٔ کرنل‌ها یا نرخ‌های dropout):

* `conv_layers`: تعداد لایه‌های کانولوشنی (یک `hp.Int`)
* `filters_0`، `filters_1`، ...: فیلترهای کانولوشن 0، 1، ...
* `dense_layers`: تعداد لایه‌های Dense پنهان (پیش از خروجی 10 کلاسه)
* `units_0`، `units_1`، ...: نورون‌های لایهٔ Dense شمارهٔ 0، 1، ...
* `optimizer`: یک `hp.Choice` از نام بهینه‌سازها (`"adam"` و دست‌کم یک بهینه‌ساز دیگر Keras)
* `learning_rate`: نرخ یادگیری بهینه‌ساز

هر مقدار در فضای شما باید مدلی معتبر بدهد: پنج pooling با اندازهٔ 2x2 روی تصویر 28 x 28 جا نمی‌شود
(`28 -> 14 -> 7 -> 3 -> 1 -> ?`)، پس تصمیم بگیرید pooling کجا بیاید.
"""),
    solution_code("build_model", """
def build_model(hp):
    \"\"\"A compiled CNN whose depth, widths, dropout, optimizer and learning rate come from hp.\"\"\"
    ### BEGIN SOLUTION
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    size = 28
    for i in range(hp.Int("conv_layers", 1, 5)):
        model.add(keras.layers.Conv2D(hp.Int(f"filters_{i}", 16, 128, step=16),
                                      hp.Choice(f"kernel_size_{i}", [3, 5]), padding="same", activation="relu"))
        if size >= 4:
            model.add(keras.layers.MaxPooling2D(2))
            size //= 2
    model.add(keras.layers.Dropout(hp.Float("conv_dropout", 0.0, 0.4, step=0.1)))
    model.add(keras.layers.Flatten())
    for i in range(hp.Int("dense_layers", 0, 2)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu"))
        model.add(keras.layers.Dropout(hp.Float("dense_dropout", 0.0, 0.3, step=0.1)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    optimizer = keras.optimizers.get({
        "class_name": hp.Choice("optimizer", ["adam", "rmsprop"]),
        "config": {"learning_rate": hp.Float("learning_rate", 1e-4, 1e-3, sampling="log")},
    })
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
    ### END SOLUTION
"""),
    locked_code("describe_model", '''
def describe_model(hp_values):
    """What build_model builds with these hyperparameter values (plain data, for the grader)."""
    return describe_hypermodel(build_model, hp_values)
'''),
    public_tests("public_build_model", f"""
default_model = describe_model({{}})
names = {{entry["name"] for entry in default_model["space"]}}
for required in ("conv_layers", "filters_0", "dense_layers", "optimizer", "learning_rate"):
    assert required in names, f"build_model must register the hyperparameter {{required!r}}"
assert default_model["compiled"], "build_model must return a compiled model"
assert default_model["output"].shape == (2, 10), "the model must output 10 class probabilities"
deepest = describe_model({{"conv_layers": 5}})
assert sum(layer["type"] == "Conv2D" for layer in deepest["layers"]) == 5, "conv_layers=5: five Conv2D layers"
{PUBLIC_DONE}
"""),
    hidden_group("hidden_search_space", 4, "the required hyperparameters; every registered range and every "
                 "model at the corners of the space within the seed's limits; the corners build and compile, "
                 "with convolutions and pooling"),
    hidden_group("hidden_hp_control", 4, "values fixed by the grader give exactly that many convolutional and "
                 "dense layers, those filters and units, that optimizer and learning rate"),
]

SEARCH = [
    bilingual("""
## 4. The search (2 points, hidden tests)

Write `make_tuner(hypermodel, settings)`: a KerasTuner tuner of your choice (justify it in
1(b)) for `hypermodel`, with objective `"val_accuracy"`, `directory=TUNER_DIRECTORY`,
`project_name=TUNER_PROJECT`, `overwrite=True` and `seed=SEED`, whose size follows the budget
`settings` (`settings["max_trials"]` trials for RandomSearch or BayesianOptimization; for
Hyperband, `max_epochs` from `settings["search_epochs"]`). The next cell searches with early
stopping on the validation set; the grader reads the tuner's files
(`kerastuner_search/mnist_cnn/`): at least `settings["min_completed_trials"]` completed trials
on `val_accuracy`, and the saved best hyperparameters must be the best trial's.
""", """
## 4. جست‌وجو (2 نمره، آزمون‌های پنهان)

`make_tuner(hypermodel, settings)` را بنویسید: یک tuner از KerasTuner به انتخاب خودتان (در پرسش 1 (ب) توجیهش
کنید) برای `hypermodel`، با هدف `"val_accuracy"`، `directory=TUNER_DIRECTORY`، `project_name=TUNER_PROJECT`،
`overwrite=True` و `seed=SEED`، که اندازه‌اش از بودجهٔ `settings` پیروی کند (`settings["max_trials"]` آزمایش برای
RandomSearch یا BayesianOptimization؛ برای Hyperband، `max_epochs` از `settings["search_epochs"]`). سلول بعدی با
توقف زودهنگام روی مجموعهٔ اعتبارسنجی جست‌وجو می‌کند؛ تصحیح‌گر فایل‌های tuner را می‌خواند
(`kerastuner_search/mnist_cnn/`): دست‌کم `settings["min_completed_trials"]` آزمایش کامل‌شده روی
`val_accuracy`، و بهترین ابرپارامترهای ذخیره‌شده باید مال بهترین آزمایش باشند.
"""),
    solution_code("make_tuner", """
def make_tuner(hypermodel, settings):
    \"\"\"The tuner that searches hypermodel's space within the budget settings.\"\"\"
    ### BEGIN SOLUTION
    return keras_tuner.RandomSearch(hypermodel, objective="val_accuracy", max_trials=settings["max_trials"],
                                    directory=TUNER_DIRECTORY, project_name=TUNER_PROJECT, overwrite=True,
                                    seed=SEED)
    ### END SOLUTION
"""),
    locked_code("search", """
tuner = make_tuner(build_model, BUDGET)
tuner.search_space_summary()
stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
tuner.search(x_fit, y_fit, validation_data=(x_val, y_val), epochs=BUDGET["search_epochs"],
             batch_size=BUDGET["batch_size"],
             callbacks=[stop_early], verbose=2)
""", tags=("training",)),
    locked_code("results", """
tuner.results_summary(num_trials=3)
table = trials_table(tuner)
print(table.to_string())
best_hp = tuner.get_best_hyperparameters(1)[0]
print("best hyperparameters:", best_hp.values)
plot_trials(table)
plt.show()
"""),
    hidden_group("hidden_search", 2, "the tuner's files: completed trials on val_accuracy within the budget; the "
                 "saved best hyperparameters are the best trial's"),
]

BEST_MODEL = [
    bilingual("""
## 5. The best model (4 points, hidden tests)

The next cell rebuilds the best hyperparameters' model, retrains it with early stopping on
the validation set, evaluates it **once** on the test set and saves it with its
hyperparameters. The grader loads the saved model, checks that it is your hypermodel at those
values and measures its accuracy on a test split it chooses.

In the full budget it also records this search's choice in `kerastuner_chosen_hyperparameters.json`:
hand that file in. The autograder's run searches too (its trials are graded), but it retrains
the choice your full search recorded, not the winner of its own 2-3 one-epoch trials.
""", """
## 5. بهترین مدل (4 نمره، آزمون‌های پنهان)

سلول بعدی مدل بهترین ابرپارامترها را دوباره می‌سازد، آن را با توقف زودهنگام روی مجموعهٔ اعتبارسنجی دوباره آموزش
می‌دهد، **یک بار** روی مجموعهٔ آزمون ارزیابی می‌کند و آن را همراه ابرپارامترهایش ذخیره می‌کند. تصحیح‌گر مدل
ذخیره‌شده را بارگذاری می‌کند، بررسی می‌کند که همان هایپرمدل شما با آن مقدارهاست و دقتش را روی بخشی از داده‌های
آزمون که خودش انتخاب می‌کند اندازه می‌گیرد.

در بودجهٔ full، انتخاب این جست‌وجو را هم در `kerastuner_chosen_hyperparameters.json` ثبت می‌کند: آن فایل را تحویل
دهید. اجرای تصحیح‌گر خودکار هم جست‌وجو می‌کند (آزمایش‌هایش نمره می‌گیرند)، اما انتخابی را دوباره آموزش می‌دهد که
جست‌وجوی full شما ثبت کرده، نه برندهٔ 2 تا 3 آزمایش یک‌دوره‌ای خودش را.
"""),
    locked_code("retrain", """
record_full_search(best_hp.values, table)  # HW_MODE=full only: hand in CHOSEN_HYPERPARAMETERS_FILE
retrain_values, chosen_by = hyperparameters_to_retrain(best_hp.values)
print(f"retraining {retrain_values}: {chosen_by}")
best_model = build_model(fixed_hyperparameters(retrain_values))
best_model.fit(x_fit, y_fit, validation_data=(x_val, y_val), epochs=BUDGET["final_epochs"],
               batch_size=BUDGET["batch_size"],
               callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)],
               verbose=2)
test_loss, test_accuracy = best_model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy of the best model: {test_accuracy:.4f} on {len(x_test)} {data_source} test images")
best_model.save(BEST_MODEL_FILE)
save_best_hyperparameters(best_hp.values)
""", tags=("training",)),
    hidden_group("hidden_best_model", 4, "the saved model is build_model at the saved best hyperparameters, within "
                 "the limits; its accuracy on the grader's test split"),
    bilingual("""
## 6. Analysis (written, graded by a TA)

Analyse the search: which hyperparameters the best trials share (depth, widths, optimizer,
learning rate, dropout), how far apart the trials' validation accuracies are, how the best
model's test accuracy compares with its validation accuracy and what that says about
overfitting to the validation set, and what you would search next with more budget.
""", """
## 6. تحلیل (تشریحی، با تصحیح دستیار آموزشی)

جست‌وجو را تحلیل کنید: بهترین آزمایش‌ها در کدام ابرپارامترها مشترک‌اند (عمق، پهنا، بهینه‌ساز، نرخ یادگیری،
dropout)، دقت‌های اعتبارسنجی آزمایش‌ها چقدر از هم فاصله دارند، دقت آزمون بهترین مدل در مقایسه با دقت
اعتبارسنجی‌اش چگونه است و این دربارهٔ بیش‌برازش به مجموعهٔ اعتبارسنجی چه می‌گوید، و با بودجهٔ بیشتر چه چیزی را
جست‌وجو می‌کردید.
"""),
    written_answer("answer_analysis", """
(Depends on the run; a good answer reads the trials table and the plot.) In the full budget
the best trials use two or three convolutional layers with 64-256 filters, pooling after the
first convolutions, a little dropout, zero or one dense layer and Adam at a learning rate
near the top of the range (3e-4 to 1e-3): deeper stacks gain nothing on 28 x 28 digits and
tiny learning rates have not converged in a few epochs. The trials span a few points of
validation accuracy; the worst are the single-convolution or low-learning-rate ones. The
best model's test accuracy (about 99.3-99.4 %) is close to its validation accuracy: the
selection overfits the validation set only slightly, because the test set was never used for
choosing. With more budget: more trials or Hyperband to spend epochs on promising models,
batch normalisation and data augmentation in the space, a learning-rate schedule, and
retraining the winner on training + validation data.
""", points=2),
]

CELLS = [*INTRO, *SETUP_AND_DATA, *HYPERMODEL, *SEARCH, *BEST_MODEL, hand_in_fa(NOTEBOOK)]

if __name__ == "__main__":
    write_notebook(NOTEBOOK, CELLS)
