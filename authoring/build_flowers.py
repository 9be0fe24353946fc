"""Builds source/flowers/flowers.ipynb (run: python authoring/build_flowers.py)."""
from pathlib import Path

from hwtools.course.authoring import (hidden_group, locked_code, public_tests, solution_code,
                               write_notebook, written_answer)
from hwtools.course.bilingual import LANGUAGE_NOTE_EN, LANGUAGE_NOTE_FA, bilingual, hand_in_fa

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "flowers" / "flowers.ipynb"

CELLS = [
    bilingual("""
# Flower classification with transfer learning (MobileNetV2)

Seed 001, question 4. Five classes: **daisy, dandelion, roses, sunflowers, tulips** (the
TensorFlow `flower_photos` set). You split the images, build a Keras input pipeline, train a
small CNN from scratch as a baseline, then MobileNetV2 pre-trained on ImageNet with a new head,
and finally fine-tune the top of its base.

The answer key this homework comes from has **real bugs**: its validation iterator read the
*test* folder, it rescaled pixels to [0, 1] although MobileNetV2 expects its own
`preprocess_input` (values in [-1, 1]), it never froze the base, and its model overfitted.
Do not repeat them: the grader checks each one.

* Data: `load_flower_photos()` fetches flower_photos with Keras (or uses your local copy:
  `HW_FLOWERS_PATH=/path/to/flower_photos`). Offline it generates a small five-class image set,
  and MobileNetV2 (no ImageNet weights) loads small OFFLINE STAND-IN weights pretrained on other
  generated flowers (budgets with alpha 0.35) or starts from random weights (the full budget's
  alpha 1.0): it says so in its output.
* Budget: `HW_MODE=full` (yours) trains at 160 px on all 3,670 images: a baseline, the head and
  fine-tuning for up to 10 epochs each (EarlyStopping usually ends them sooner), roughly half an
  hour to an hour on a laptop CPU (an estimate; minutes on a GPU). The autograder runs a smaller
  `grade` budget.
* Graded: `split_dataset` and `flower_dataset` (hidden tests call them in a fresh process), and
  what you save in `artifacts/`: the grader loads your models, inspects them and measures their
  accuracy on its own test images. Written answers are graded by a TA.
""" + "\n* " + LANGUAGE_NOTE_EN, """
# دسته‌بندی گل‌ها با یادگیری انتقالی (MobileNetV2)

سری ۰۰۱، پرسش ۴. پنج کلاس: **daisy، dandelion، roses، sunflowers، tulips** (مجموعهٔ `flower_photos` در
TensorFlow). تصاویر را تقسیم می‌کنید، یک خط لولهٔ ورودی Keras می‌سازید، یک CNN کوچک را از صفر به‌عنوان مبنا
(baseline) آموزش می‌دهید، سپس MobileNetV2 از پیش آموزش‌دیده روی ImageNet را با یک سر (head) تازه، و در پایان
لایه‌های بالایی پایهٔ آن را تنظیم دقیق (fine-tune) می‌کنید.

پاسخ‌نامه‌ای که این تمرین از آن آمده **اشکال‌های واقعی** دارد: پیمایشگر اعتبارسنجی آن پوشهٔ *آزمون* را
می‌خواند، پیکسل‌ها را به [0, 1] مقیاس می‌داد در حالی که MobileNetV2 پیش‌پردازش خودش `preprocess_input` را
می‌خواهد (مقادیر در [-1, 1])، پایه را هرگز منجمد نکرد، و مدلش بیش‌برازش (overfit) شد. آن‌ها را تکرار نکنید:
تصحیح‌گر هر کدام را بررسی می‌کند.

* داده: `load_flower_photos()` مجموعهٔ flower_photos را با Keras دریافت می‌کند (یا از نسخهٔ محلی شما استفاده
  می‌کند: `HW_FLOWERS_PATH=/path/to/flower_photos`). بدون اینترنت، یک مجموعهٔ تصویر کوچک پنج‌کلاسه می‌سازد، و
  MobileNetV2 (بدون وزن‌های ImageNet) وزن‌های کوچک جایگزین آفلاین (OFFLINE STAND-IN) را که روی گل‌های ساختگی
  دیگری پیش‌آموزش دیده‌اند بارگذاری می‌کند (بودجه‌های با alpha 0.35) یا از وزن‌های تصادفی شروع می‌کند (alpha 1.0
  در بودجهٔ full): این را در خروجی خود می‌گوید.
* بودجه: `HW_MODE=full` (مال شما) روی هر 3,670 تصویر با اندازهٔ 160 پیکسل آموزش می‌دهد: مبنا، سر و تنظیم دقیق،
  هر کدام تا 10 دوره (EarlyStopping معمولاً زودتر تمامشان می‌کند)، تقریباً نیم تا یک ساعت روی CPU یک لپ‌تاپ
  (تخمینی؛ روی GPU چند دقیقه). تصحیح‌گر خودکار بودجهٔ کوچک‌تر `grade` را اجرا می‌کند.
* آنچه نمره می‌گیرد: `split_dataset` و `flower_dataset` (آزمون‌های پنهان آن‌ها را در یک فرایند تازه فرا
  می‌خوانند)، و آنچه در `artifacts/` ذخیره می‌کنید: تصحیح‌گر مدل‌های شما را بارگذاری و بررسی می‌کند و دقتشان را روی
  تصاویر آزمون خودش اندازه می‌گیرد. پاسخ‌های تشریحی را دستیار آموزشی تصحیح می‌کند.
""" + "\n* " + LANGUAGE_NOTE_FA),
    locked_code("setup", """
import json
import random
import shutil
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

from hwtools.assignments.flowers import (ARTIFACTS, CLASS_NAMES, HEAD_MODEL_FILE, MODEL_FILE, SPLIT_RATIOS,
                                         load_flower_photos, mobilenet_v2_base, plot_history, save_datasets_record,
                                         save_split_manifest, show_misclassified, subsample_classes)
from hwtools.budget import budget, mode
from hwtools.seeding import seed_everything

BUDGET = budget("flowers")
SEED = seed_everything()
IMAGE_SIZE = (BUDGET["image_size"], BUDGET["image_size"])
print(f"budget {mode()}: {dict(BUDGET)}")
flowers_dir = load_flower_photos(fixture_images_per_class=BUDGET["fixture_images_per_class"])
source_dir = subsample_classes(flowers_dir, "flowers_subset", BUDGET["images_per_class"])
"""),
    bilingual("""
## 1. Split the images

Write `split_dataset(src, dst, ratios=(0.8, 0.1, 0.1), seed=0)`. For **each class folder** of
`src`, shuffle its image files with a generator seeded by `seed` and **copy** them into
`dst/train/<class>`, `dst/validation/<class>` and `dst/test/<class>`:

* a class of `n` images gets `round(n * ratios[1])` validation images, `round(n * ratios[2])`
  test images and the rest (at least one) for training;
* the three parts are disjoint and together hold every image exactly once;
* the same seed gives the same split; `src` is left untouched;
* running it again on the same `dst` gives the same folders (no duplicated or stale files).

Return a dict `{split: {class: number of images}}`.
""", """
## ۱. تقسیم تصاویر

تابع `split_dataset(src, dst, ratios=(0.8, 0.1, 0.1), seed=0)` را بنویسید. برای **هر پوشهٔ کلاس** در `src`،
فایل‌های تصویر آن را با مولدی که با `seed` بذرگذاری شده بُر بزنید و آن‌ها را در `dst/train/<class>`،
`dst/validation/<class>` و `dst/test/<class>` **کپی** کنید:

* کلاسی با `n` تصویر، `round(n * ratios[1])` تصویر اعتبارسنجی، `round(n * ratios[2])` تصویر آزمون و بقیه را
  (دست‌کم یکی) برای آموزش می‌گیرد؛
* سه بخش از هم جدا هستند و روی هم هر تصویر را دقیقاً یک بار دارند؛
* بذر یکسان تقسیم یکسان می‌دهد؛ `src` دست‌نخورده می‌ماند؛
* اجرای دوباره روی همان `dst` همان پوشه‌ها را می‌دهد (بدون فایل تکراری یا کهنه).

یک دیکشنری `{split: {class: number of images}}` برگردانید.
"""),
    solution_code("split", """
def split_dataset(src, dst, ratios=(0.8, 0.1, 0.1), seed=0):
    \"\"\"Copy each class's images of src into dst/{train,validation,test}/<class>.\"\"\"
    ### BEGIN SOLUTION
    src, dst = Path(src), Path(dst)
    splits = ("train", "validation", "test")
    counts = {split: {} for split in splits}
    for class_dir in sorted(p for p in src.iterdir() if p.is_dir()):
        files = sorted(p for p in class_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        random.Random(f"{seed}/{class_dir.name}").shuffle(files)
        n_validation = round(len(files) * ratios[1])
        n_test = round(len(files) * ratios[2])
        n_train = len(files) - n_validation - n_test
        parts = dict(zip(splits, (files[:n_train], files[n_train:n_train + n_validation],
                                  files[n_train + n_validation:])))
        for split, part in parts.items():
            target = dst / split / class_dir.name
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            for path in part:
                shutil.copy2(path, target / path.name)
            counts[split][class_dir.name] = len(part)
    return counts
    ### END SOLUTION
"""),
    public_tests("public_split", """
split_counts = split_dataset(source_dir, "data", SPLIT_RATIOS, seed=SEED)
for name in CLASS_NAMES:
    n = len(list((source_dir / name).iterdir()))
    assert sum(split_counts[s][name] for s in ("train", "validation", "test")) == n, f"{name}: images lost or doubled"
    assert len(list(Path("data/test", name).iterdir())) == split_counts["test"][name], f"{name}: test folder"
save_split_manifest("data")
print(split_counts)
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_split", 2, "split_dataset on the grader's own image tree: counts per class and part, "
                 "disjoint parts that use every image once, the same split for the same seed, the source left "
                 "intact, and no duplicates when run again"),
    bilingual("""
## 2. The input pipeline

Write `flower_dataset(folder, image_size, batch_size, training, seed=0)`: one part of the split
as a finished `tf.data` pipeline of `(images, labels)` batches, built with
`keras.utils.image_dataset_from_directory` (labels as integers, class names `CLASS_NAMES`, raw
pixel values in [0, 255]), shuffled only when `training`, cached and prefetched. Keep the list
of files it reads on what you return (`dataset.file_paths = raw.file_paths`): that is what
`save_datasets_record` writes down. Use only its arguments and what the setup cell imports:
the grader calls it alone, on its own folders, and checks that validation and test batches are
exactly the decoded images, the same on every pass.

Then build `train_ds`, `validation_ds` and `test_ds` from `data/train`, `data/validation` and
`data/test` (image size `IMAGE_SIZE`, batch size `BUDGET["batch_size"]`, seed `SEED`), record
them with `save_datasets_record`, and define `augmentation`, a `keras.Sequential` of random
flips and rotations: it goes inside the models, where Keras applies it to training batches
only. Never augment validation or test data: their scores must measure the images as they are.
""", """
## ۲. خط لولهٔ ورودی

تابع `flower_dataset(folder, image_size, batch_size, training, seed=0)` را بنویسید: یک بخش از تقسیم به‌صورت یک
خط لولهٔ کامل `tf.data` از دسته‌های `(images, labels)`، ساخته‌شده با `keras.utils.image_dataset_from_directory`
(برچسب‌ها عدد صحیح، نام کلاس‌ها `CLASS_NAMES`، مقادیر خام پیکسل در [0, 255])، که فقط وقتی `training` است بُر
می‌خورد، و cache و prefetch می‌شود. فهرست فایل‌هایی را که می‌خواند روی خروجی نگه دارید
(`dataset.file_paths = raw.file_paths`): همان چیزی است که `save_datasets_record` ثبت می‌کند. فقط از آرگومان‌های
آن و آنچه سلول setup وارد می‌کند استفاده کنید: تصحیح‌گر آن را به‌تنهایی روی پوشه‌های خودش فرا می‌خواند و بررسی
می‌کند که دسته‌های اعتبارسنجی و آزمون دقیقاً همان تصاویر رمزگشایی‌شده باشند، در هر گذر یکسان.

سپس `train_ds`، `validation_ds` و `test_ds` را از `data/train`، `data/validation` و `data/test` بسازید (اندازهٔ
تصویر `IMAGE_SIZE`، اندازهٔ دسته `BUDGET["batch_size"]`، بذر `SEED`)، آن‌ها را با `save_datasets_record` ثبت
کنید، و `augmentation` را تعریف کنید: یک `keras.Sequential` از وارونه‌سازی‌ها و چرخش‌های تصادفی؛ درون مدل‌ها
قرار می‌گیرد، جایی که Keras آن را فقط روی دسته‌های آموزشی اعمال می‌کند. داده‌های اعتبارسنجی یا آزمون را هرگز
افزونه (augment) نکنید: امتیازشان باید تصاویر را همان‌طور که هستند بسنجد.
"""),
    solution_code("pipeline", """
def flower_dataset(folder, image_size, batch_size, training, seed=0):
    \"\"\"One part of the split: decoded, resized batches, shuffled only for training, cached, prefetched.\"\"\"
    ### BEGIN SOLUTION
    raw = keras.utils.image_dataset_from_directory(folder, image_size=image_size, batch_size=batch_size,
                                                   label_mode="int", class_names=list(CLASS_NAMES),
                                                   shuffle=training, seed=seed)
    dataset = raw.cache()
    if training:
        dataset = dataset.shuffle(1000, seed=seed)
    dataset = dataset.prefetch(2)
    dataset.file_paths = raw.file_paths
    return dataset
    ### END SOLUTION


### BEGIN SOLUTION
train_ds = flower_dataset("data/train", IMAGE_SIZE, BUDGET["batch_size"], training=True, seed=SEED)
validation_ds = flower_dataset("data/validation", IMAGE_SIZE, BUDGET["batch_size"], training=False, seed=SEED)
test_ds = flower_dataset("data/test", IMAGE_SIZE, BUDGET["batch_size"], training=False, seed=SEED)
save_datasets_record(".", train=train_ds, validation=validation_ds, test=test_ds)
augmentation = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)],
                                name="augmentation")
### END SOLUTION
"""),
    public_tests("public_pipeline", """
record = json.loads(Path(ARTIFACTS, "datasets.json").read_text())
assert set(record) >= {"train", "validation", "test"}, "record the three datasets with save_datasets_record"
assert all("validation" in Path(p).parts for p in record["validation"]), "validation data must come from data/validation"
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_pipeline", 3, "the validation data comes from the validation folder (never the test "
                 "folder), the three datasets read exactly the files of your split, and flower_dataset gives "
                 "validation and test batches that are the decoded images, unaugmented, the same on every pass"),
    bilingual("""
## 3. Baseline: a small CNN from scratch

Train a small CNN (augmentation, `Rescaling(1/255)`, two or three Conv2D/MaxPooling blocks,
dropout, `Dense(5, softmax)`) for `BUDGET["baseline_epochs"]` epochs and plot its learning curves.
""", """
## ۳. مبنا: یک CNN کوچک از صفر

یک CNN کوچک (افزونه‌سازی، `Rescaling(1/255)`، دو یا سه بلوک Conv2D/MaxPooling، dropout، `Dense(5, softmax)`)
را `BUDGET["baseline_epochs"]` دوره آموزش دهید و منحنی‌های یادگیری آن را رسم کنید.
"""),
    solution_code("baseline", """
### BEGIN SOLUTION
baseline = keras.Sequential([
    keras.Input(IMAGE_SIZE + (3,)), augmentation, keras.layers.Rescaling(1 / 255),
    keras.layers.Conv2D(16, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(),
    keras.layers.Dropout(0.3), keras.layers.Flatten(), keras.layers.Dense(5, activation="softmax"),
])
baseline.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
baseline_history = baseline.fit(train_ds, validation_data=validation_ds, epochs=BUDGET["baseline_epochs"], verbose=2)
plot_history({"baseline CNN": baseline_history}, "small CNN from scratch")
plt.show()
### END SOLUTION
""", tags=("training",)),
    bilingual("""
## 4. Transfer learning: MobileNetV2 with a new head

Build the model on `keras.Input(IMAGE_SIZE + (3,))` taking raw pixels in [0, 255]:
`augmentation`, then MobileNetV2's own preprocessing as a layer (`preprocess_input` maps
[0, 255] to [-1, 1]: a `Rescaling` layer can do exactly that), then the base from
`mobilenet_v2_base(BUDGET["image_size"], BUDGET["alpha"])` called with `training=False`, then
the head: `GlobalAveragePooling2D`, `Dropout`, `Dense(5, activation="softmax")`.

**Head stage**: freeze the base, train with `BUDGET["head_learning_rate"]` and the callbacks
`EarlyStopping`, `ReduceLROnPlateau` and `ModelCheckpoint`, then save the model as
`artifacts/head_model.keras`. **Fine-tuning**: unfreeze the base from layer
`BUDGET["fine_tune_at"]` on (the layers before stay frozen), recompile with
`BUDGET["fine_tune_learning_rate"]`, train again, and save the final model as
`artifacts/model.keras`.
""", """
## ۴. یادگیری انتقالی: MobileNetV2 با یک سر تازه

مدل را روی `keras.Input(IMAGE_SIZE + (3,))` با پیکسل‌های خام در [0, 255] بسازید: `augmentation`، سپس
پیش‌پردازش خود MobileNetV2 به‌صورت یک لایه (`preprocess_input` بازهٔ [0, 255] را به [-1, 1] می‌برد: یک لایهٔ
`Rescaling` دقیقاً همین کار را می‌کند)، سپس پایه از `mobilenet_v2_base(BUDGET["image_size"], BUDGET["alpha"])`
که با `training=False` فراخوانی می‌شود، سپس سر: `GlobalAveragePooling2D`، `Dropout`،
`Dense(5, activation="softmax")`.

**مرحلهٔ سر**: پایه را منجمد کنید، با `BUDGET["head_learning_rate"]` و callbackهای `EarlyStopping`،
`ReduceLROnPlateau` و `ModelCheckpoint` آموزش دهید، سپس مدل را در `artifacts/head_model.keras` ذخیره کنید.
**تنظیم دقیق**: پایه را از لایهٔ `BUDGET["fine_tune_at"]` به بعد از انجماد خارج کنید (لایه‌های پیش از آن منجمد
می‌مانند)، با `BUDGET["fine_tune_learning_rate"]` دوباره compile کنید، باز آموزش دهید، و مدل نهایی را در
`artifacts/model.keras` ذخیره کنید.
"""),
    solution_code("transfer", """
### BEGIN SOLUTION
def callbacks(stage):
    return [keras.callbacks.EarlyStopping(patience=BUDGET["patience"], restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1),
            keras.callbacks.ModelCheckpoint(Path(ARTIFACTS, f"best_{stage}.keras"), save_best_only=True)]


def compile_model(model, learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])


base = mobilenet_v2_base(BUDGET["image_size"], BUDGET["alpha"])
base.trainable = False
inputs = keras.Input(IMAGE_SIZE + (3,))
x = augmentation(inputs)
x = keras.layers.Rescaling(1 / 127.5, offset=-1, name="mobilenet_v2_preprocessing")(x)
x = base(x, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
x = keras.layers.Dropout(0.2)(x)
outputs = keras.layers.Dense(len(CLASS_NAMES), activation="softmax")(x)
model = keras.Model(inputs, outputs)

compile_model(model, BUDGET["head_learning_rate"])
head_history = model.fit(train_ds, validation_data=validation_ds, epochs=BUDGET["head_epochs"],
                         callbacks=callbacks("head"), verbose=2)
model.save(Path(ARTIFACTS, HEAD_MODEL_FILE))

base.trainable = True
for layer in base.layers[:BUDGET["fine_tune_at"]]:
    layer.trainable = False
compile_model(model, BUDGET["fine_tune_learning_rate"])
fine_tune_history = model.fit(train_ds, validation_data=validation_ds, epochs=BUDGET["fine_tune_epochs"],
                              callbacks=callbacks("fine_tune"), verbose=2)
model.save(Path(ARTIFACTS, MODEL_FILE))
plot_history({"head": head_history, "fine-tuning": fine_tune_history}, "MobileNetV2")
plt.show()
### END SOLUTION
""", tags=("training",)),
    public_tests("public_models", """
for name in (HEAD_MODEL_FILE, MODEL_FILE):
    assert Path(ARTIFACTS, name).is_file(), f"{ARTIFACTS}/{name} was not saved"
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_model", 5, "your saved models: a MobileNetV2 base and the head (global average pooling, "
                 "dropout, 5-way softmax), MobileNetV2's preprocessing checked on known pixel values, the base "
                 "frozen in the head stage, only its top unfrozen when fine-tuning, and the final model's "
                 "accuracy on the grader's own test images"),
    bilingual("""
## 5. Evaluation: test accuracy, confusion matrix, misclassified images
""", """
## ۵. ارزیابی: دقت آزمون، ماتریس درهم‌ریختگی، تصاویر اشتباه دسته‌بندی‌شده
"""),
    solution_code("evaluation", """
### BEGIN SOLUTION
test_images = np.concatenate([images.numpy() for images, _ in test_ds])
test_labels = np.concatenate([labels.numpy() for _, labels in test_ds])
predicted = model.predict(test_images, verbose=0).argmax(axis=1)
print(f"test accuracy: {np.mean(predicted == test_labels):.3f}")
ConfusionMatrixDisplay(confusion_matrix(test_labels, predicted, labels=range(5)), display_labels=CLASS_NAMES).plot()
plt.show()
show_misclassified(test_images, test_labels, predicted)
plt.show()
### END SOLUTION
"""),
    bilingual("""
## 6. Questions (graded by a TA)

**Why is the base frozen while the new head is trained?**
""", """
## ۶. پرسش‌ها (با تصحیح دستیار آموزشی)

**چرا پایه در حالی که سر تازه آموزش می‌بیند منجمد است؟**
"""),
    written_answer("answer_frozen", """
The new head starts from random weights, so its first gradients are large and noisy; flowing back
into the base they would wreck the pre-trained ImageNet features before the head has learned
anything. Freezing the base trains only the head on fixed features (few parameters, less
overfitting on a small set, faster epochs); fine-tuning then unfreezes only the top of the base,
with a low learning rate, once the head is sensible.
""", points=1),
    bilingual("""
**Why MobileNetV2's `preprocess_input` and not rescaling to [0, 1]?**
""", """
**چرا `preprocess_input` خود MobileNetV2 و نه مقیاس‌دهی به [0, 1]؟**
"""),
    written_answer("answer_preprocessing", """
The ImageNet weights were trained on inputs scaled to [-1, 1] (`x / 127.5 - 1`). Feeding [0, 1]
shifts and squeezes every input away from the distribution the filters and batch-norm statistics
expect, so the pre-trained features degrade. The preprocessing must match the one used in
pre-training, and it sits inside the model so that training, evaluation and deployment agree.
""", points=1),
    bilingual("""
**How did you diagnose overfitting, and what reduced it?**
""", """
**بیش‌برازش را چگونه تشخیص دادید، و چه چیزی آن را کاهش داد؟**
"""),
    written_answer("answer_overfitting", """
Diagnosis: the learning curves: training accuracy keeps rising while validation accuracy stalls
and validation loss rises (measured on the real validation folder, not the test folder). Remedies:
augmentation applied to training batches only, dropout in the head, a frozen base (few trainable
parameters), early stopping with the best weights restored, a reduced learning rate on plateaus,
and fine-tuning only the top layers with a small learning rate.
""", points=2),
    hand_in_fa(NOTEBOOK),
]

if __name__ == "__main__":
    folder = Path(__file__).resolve().parents[1] / "source" / "flowers"
    folder.mkdir(parents=True, exist_ok=True)
    write_notebook(folder / "flowers.ipynb", CELLS)
