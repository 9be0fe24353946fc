"""Builds source/gradcam/gradcam.ipynb (run: python authoring/build_gradcam.py)."""
from pathlib import Path

from hwtools.course.authoring import (hidden_group, locked_code, public_tests, solution_code,
                               write_notebook, written_answer)
from hwtools.course.bilingual import LANGUAGE_NOTE_EN, LANGUAGE_NOTE_FA, bilingual, hand_in_fa

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "gradcam" / "gradcam.ipynb"

CELLS = [
    bilingual("""
# Grad-CAM on MNIST

Seed 000, question 7. You load MNIST, prepare it, train the CNN given below, implement
**Grad-CAM** (`make_gradcam_heatmap`, with the signature of the Keras Grad-CAM example) and
look at what the network attends to.

* Public tests here check the basics only; **hidden tests grade your work**: your functions
  on fresh inputs, the model this notebook saves (`gradcam_model.keras`, its architecture and
  its accuracy on a test split the grader chooses), your Grad-CAM on a model with known
  weights that the grader builds, and the heatmaps this notebook saves (`gradcam_heatmaps.npz`).
* Budget: `HW_MODE=full` (yours) trains on all 60,000 images for 5 epochs (a few minutes on a
  CPU); the autograder re-runs this notebook with fewer samples and epochs and thresholds
  calibrated for them. Do not rename the saved files.
* Seeds are fixed (`seed_everything`): a re-run gives the same numbers.
""" + "\n* " + LANGUAGE_NOTE_EN, """
# Grad-CAM روی MNIST

سری ۰۰۰، پرسش ۷. MNIST را بارگذاری و آماده می‌کنید، CNN داده‌شده در پایین را آموزش می‌دهید، **Grad-CAM** را
پیاده‌سازی می‌کنید (`make_gradcam_heatmap`، با امضای مثال Grad-CAM در Keras) و می‌بینید شبکه به کجا نگاه می‌کند.

* آزمون‌های عمومی این‌جا فقط موارد پایه را بررسی می‌کنند؛ **آزمون‌های پنهان کار شما را نمره می‌دهند**: توابع شما
  روی ورودی‌های تازه، مدلی که این نوت‌بوک ذخیره می‌کند (`gradcam_model.keras`، معماری آن و دقتش روی بخشی از
  داده‌های آزمون که تصحیح‌گر انتخاب می‌کند)، Grad-CAM شما روی مدلی با وزن‌های معلوم که تصحیح‌گر می‌سازد، و
  نقشه‌های حرارتی که این نوت‌بوک ذخیره می‌کند (`gradcam_heatmaps.npz`).
* بودجه: `HW_MODE=full` (مال شما) روی هر 60,000 تصویر به مدت 5 دوره (epoch) آموزش می‌دهد (چند دقیقه روی CPU)؛
  تصحیح‌گر خودکار این نوت‌بوک را با نمونه‌ها و دوره‌های کمتر، و آستانه‌هایی که برای آن‌ها تنظیم شده، دوباره اجرا
  می‌کند. نام فایل‌های ذخیره‌شده را تغییر ندهید.
* بذرهای تصادفی (seed) ثابت‌اند (`seed_everything`): اجرای دوباره همان اعداد را می‌دهد.
""" + "\n* " + LANGUAGE_NOTE_FA),
    locked_code("setup", """
import matplotlib.pyplot as plt
import numpy as np
import keras
import tensorflow as tf

from hwtools.assignments.gradcam import (HEATMAPS_FILE, LAST_CONV_LAYER, MODEL_FILE, functional_model,
                                         load_mnist_tagged, show_digits, show_overlays)
from hwtools.budget import budget
from hwtools.checks import assert_close
from hwtools.seeding import seed_everything

BUDGET = budget("gradcam")
seed_everything()
print("budget:", dict(BUDGET))
"""),
    bilingual("""
## 1. Data (3 points, hidden tests)

MNIST is loaded with the Keras API (`keras.datasets.mnist.load_data()`, wrapped by hwtools so
that it also works offline: it says which source it used). Complete the three functions
below; the hidden tests call them on other data than this notebook's.

* `shuffle_training_set(x, y, seed=0)`: the same random permutation applied to images and
  labels (pairs stay together; the loader's order must not survive).
* `scale_images(x)`: uint8 images `(N, 28, 28)` to float32 `(N, 28, 28, 1)` in [0, 1].
* `one_hot_labels(y, num_classes=10)`: integer labels `(N,)` to one-hot rows `(N, 10)`.
""", """
## 1. داده (3 نمره، آزمون‌های پنهان)

دادهٔ MNIST با API کراس بارگذاری می‌شود (`keras.datasets.mnist.load_data()`، که hwtools آن را طوری پوشانده که بدون
اینترنت هم کار کند: می‌گوید از کدام منبع استفاده کرد). سه تابع زیر را کامل کنید؛ آزمون‌های پنهان آن‌ها را روی
داده‌هایی غیر از داده‌های این نوت‌بوک فرا می‌خوانند.

* `shuffle_training_set(x, y, seed=0)`: یک جایگشت تصادفی یکسان برای تصاویر و برچسب‌ها (جفت‌ها با هم می‌مانند؛
  ترتیب بارگذار نباید باقی بماند).
* `scale_images(x)`: تصاویر uint8 با شکل `(N, 28, 28)` به float32 با شکل `(N, 28, 28, 1)` در بازهٔ [0, 1].
* `one_hot_labels(y, num_classes=10)`: برچسب‌های صحیح `(N,)` به سطرهای one-hot با شکل `(N, 10)`.
"""),
    locked_code("load_data", """
(x_train_raw, y_train_raw), (x_test_raw, y_test_raw), data_source = load_mnist_tagged()
"""),
    solution_code("shuffle", """
def shuffle_training_set(x, y, seed=0):
    \"\"\"Images and labels in one new random order (the same permutation for both).\"\"\"
    ### BEGIN SOLUTION
    order = np.random.default_rng(seed).permutation(len(x))
    return x[order], y[order]
    ### END SOLUTION
"""),
    locked_code("show_data", """
x_train, y_train = shuffle_training_set(x_train_raw, y_train_raw)
print("training images", x_train.shape, "labels", y_train.shape)
print("test images    ", x_test_raw.shape, "labels", y_test_raw.shape)
show_digits(x_train, y_train, count=10)
plt.show()
"""),
    solution_code("prepare", """
def scale_images(x):
    \"\"\"uint8 images (N, 28, 28) -> float32 (N, 28, 28, 1) with values in [0, 1].\"\"\"
    ### BEGIN SOLUTION
    return (np.asarray(x, dtype="float32") / 255.0)[..., np.newaxis]
    ### END SOLUTION


def one_hot_labels(y, num_classes=10):
    \"\"\"Integer labels (N,) -> one-hot rows (N, num_classes).\"\"\"
    ### BEGIN SOLUTION
    return keras.utils.to_categorical(y, num_classes).astype("float32")
    ### END SOLUTION
"""),
    public_tests("public_data", """
xs, ys = shuffle_training_set(x_train_raw[:200], y_train_raw[:200])
assert xs.shape == (200, 28, 28) and ys.shape == (200,), "shuffling must keep the shapes"
assert sorted(ys.tolist()) == sorted(y_train_raw[:200].tolist()), "shuffling must keep every label"
scaled = scale_images(x_train_raw[:5])
assert scaled.shape == (5, 28, 28, 1) and scaled.dtype == np.float32, "scale_images: shape or dtype"
assert 0.0 <= scaled.min() and scaled.max() <= 1.0, "scale_images: values must lie in [0, 1]"
assert_close(one_hot_labels(np.array([3, 0])).argmax(axis=1), np.array([3, 0]), name="one-hot argmax")
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_data", 3, "shuffling is a real permutation that keeps pairs; scaling; one-hot labels"),
    locked_code("prepare_data", """
n_train = BUDGET["n_train"] or len(x_train)
x_train_ready, y_train_ready = scale_images(x_train[:n_train]), one_hot_labels(y_train[:n_train])
x_test_ready, y_test_ready = scale_images(x_test_raw), one_hot_labels(y_test_raw)
print(f"training on {len(x_train_ready)} images ({data_source} data)")
"""),
    bilingual("""
## 2. The model (8 points, hidden tests)

Build exactly this network in `build_model()` and compile it with categorical cross-entropy
and Adam:

Conv2D(32, 3x3, ReLU, padding same) -> MaxPooling2D(2x2) -> Conv2D(64, 3x3, ReLU, same) ->
MaxPooling2D(2x2) -> Conv2D(128, 3x3, ReLU, same) -> MaxPooling2D(2x2) -> Flatten ->
Dense(128, ReLU) -> Dense(10, softmax), on inputs of shape (28, 28, 1).

Name the last convolutional layer `LAST_CONV_LAYER` (`"last_conv"`): Grad-CAM needs it.
`keras.Sequential` or the functional API, as you like: the next cell makes a Sequential
model functional (`functional_model`, same layers and weights; section 3 says why), trains
it (5 epochs, batch size 64 in the full budget) and saves it; the grader loads the saved
model and measures its accuracy itself.
""", """
## 2. مدل (8 نمره، آزمون‌های پنهان)

دقیقاً این شبکه را در `build_model()` بسازید و آن را با آنتروپی متقاطع دسته‌ای (categorical cross-entropy) و
Adam کامپایل کنید، روی ورودی‌هایی با شکل (28, 28, 1):

`Conv2D(32, 3x3, ReLU, same) -> MaxPooling2D(2x2) -> Conv2D(64, 3x3, ReLU, same) -> MaxPooling2D(2x2) -> Conv2D(128, 3x3, ReLU, same) -> MaxPooling2D(2x2) -> Flatten -> Dense(128, ReLU) -> Dense(10, softmax)`

آخرین لایهٔ کانولوشنی را `LAST_CONV_LAYER` (`"last_conv"`) بنامید: Grad-CAM به آن نیاز دارد. `keras.Sequential`
یا API تابعی (functional)، هر کدام که بخواهید: سلول بعدی مدل Sequential را تابعی می‌کند (`functional_model`،
همان لایه‌ها و وزن‌ها؛ بخش 3 دلیلش را می‌گوید)، آن را آموزش می‌دهد (5 دوره، اندازهٔ دستهٔ 64 در بودجهٔ full) و
ذخیره می‌کند؛ تصحیح‌گر مدل ذخیره‌شده را بارگذاری می‌کند و دقتش را خودش اندازه می‌گیرد.
"""),
    solution_code("model", """
def build_model():
    \"\"\"The CNN of the assignment, compiled with categorical cross-entropy and Adam.\"\"\"
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, (3, 3), activation="relu", padding="same"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(64, (3, 3), activation="relu", padding="same"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(128, (3, 3), activation="relu", padding="same", name=LAST_CONV_LAYER),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
    ### END SOLUTION
"""),
    locked_code("train", """
model = functional_model(build_model())  # a Sequential model becomes functional: see section 3
model.summary()
history = model.fit(x_train_ready, y_train_ready, epochs=BUDGET["epochs"], batch_size=BUDGET["batch_size"],
                    validation_split=0.1, verbose=2)
test_loss, test_accuracy = model.evaluate(x_test_ready, y_test_ready, verbose=0)
print(f"test accuracy {test_accuracy:.4f} on {len(x_test_ready)} {data_source} test images")
model.save(MODEL_FILE)
""", tags=("training",)),
    public_tests("public_model", """
assert model.output_shape == (None, 10), f"the model must output 10 class scores, got {model.output_shape}"
assert model.get_layer(LAST_CONV_LAYER).filters == 128, "the last conv layer must have 128 filters"
layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
assert len(layers) == 9, f"9 layers expected after the input, found {len(layers)}"
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_architecture", 5, "layer order, convolutions, pooling, dense head, loss and optimizer "
                 "of the saved model"),
    hidden_group("hidden_accuracy", 3, "accuracy of the saved model on a test split the grader chooses"),
    bilingual("""
## 3. Grad-CAM (9 points, hidden tests)

Implement `make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None)` as
in the Keras Grad-CAM example: for one image batch `img_array` of shape `(1, 28, 28, 1)`,

1. compute the output of the layer `last_conv_layer_name` and the model's output;
2. take the gradient of the output for class `pred_index` (the predicted class if `None`)
   with respect to that layer's output;
3. average the gradient over the spatial positions: one weight per channel;
4. weight the layer's channels and sum them, keep the positive part (ReLU), divide by the
   maximum so the peak is 1 (leave an all-zero map as zeros);
5. return a numpy array of shape (height, width) of that layer's output.

The grader calls your function in a fresh process on **its own** functional model with
known weights whose last Dense layer outputs scores (no softmax, as in the Keras example),
on several images, for the predicted class and for other classes, and for other layer
names. Differentiate the model's output as it is.

The Keras example builds its gradient model with
`keras.Model(model.inputs, [model.get_layer(name).output, model.output])`. That needs a
functional model: Keras 3 gives a Sequential model no `model.output` ("The layer sequential
has never been called and thus has no defined output"). The grader's model is functional,
and the training cell above passes your model through `functional_model`, which returns the
same layers and weights as a functional model, so the example's pattern works on both.
Rebuilding the graph by calling the layers one by one on a new `keras.Input` works too.
""", """
## 3. Grad-CAM (9 نمره، آزمون‌های پنهان)

تابع `make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None)` را مانند مثال Grad-CAM
کراس پیاده‌سازی کنید: برای دسته‌ای تک‌تصویری `img_array` با شکل `(1, 28, 28, 1)`،

1. خروجی لایهٔ `last_conv_layer_name` و خروجی مدل را حساب کنید؛
2. گرادیان خروجی کلاس `pred_index` (اگر `None` باشد، کلاس پیش‌بینی‌شده) را نسبت به خروجی آن لایه بگیرید؛
3. از گرادیان روی موقعیت‌های مکانی میانگین بگیرید: یک وزن برای هر کانال؛
4. کانال‌های لایه را وزن بدهید و جمع بزنید، بخش مثبت را نگه دارید (ReLU) و بر بیشینه تقسیم کنید تا قله 1 شود
   (نقشهٔ تماماً صفر را صفر بگذارید)؛
5. یک آرایهٔ numpy به شکل (height, width) خروجی آن لایه برگردانید.

تصحیح‌گر تابع شما را در یک فرایند تازه روی مدل تابعی **خودش** با وزن‌های معلوم فرا می‌خواند، که آخرین لایهٔ
Dense آن امتیاز خام (بدون softmax، مانند مثال کراس) می‌دهد: روی چند تصویر، برای کلاس پیش‌بینی‌شده و کلاس‌های
دیگر، و برای نام لایه‌های دیگر. از خروجی مدل همان‌طور که هست مشتق بگیرید.

مثال کراس مدل گرادیان خود را با `keras.Model(model.inputs, [model.get_layer(name).output, model.output])`
می‌سازد. این کار مدل تابعی لازم دارد: Keras 3 به مدل Sequential هیچ `model.output` نمی‌دهد
(`The layer sequential has never been called and thus has no defined output`). مدل تصحیح‌گر تابعی است، و سلول
آموزش بالا مدل شما را از `functional_model` می‌گذراند، که همان لایه‌ها و وزن‌ها را به شکل مدل تابعی برمی‌گرداند؛
پس الگوی مثال روی هر دو کار می‌کند. ساختن دوبارهٔ گراف با فراخوانی یکی‌یکی لایه‌ها روی یک `keras.Input` تازه هم
کار می‌کند.
"""),
    solution_code("gradcam", """
def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    \"\"\"Grad-CAM heatmap (h, w) in [0, 1] of the named conv layer for a batch of one image.\"\"\"
    ### BEGIN SOLUTION
    inputs = keras.Input(shape=img_array.shape[1:])
    outputs, conv_output = inputs, None
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        outputs = layer(outputs)
        if layer.name == last_conv_layer_name:
            conv_output = outputs
    grad_model = keras.Model(inputs, [conv_output, outputs])
    with tf.GradientTape() as tape:
        conv_values, predictions = grad_model(tf.convert_to_tensor(img_array, dtype=tf.float32))
        if pred_index is None:
            pred_index = tf.argmax(predictions[0])
        class_score = predictions[:, pred_index]
    grads = tape.gradient(class_score, conv_values)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(conv_values[0] @ pooled_grads[..., tf.newaxis], axis=-1)
    heatmap = tf.maximum(heatmap, 0).numpy()
    peak = heatmap.max()
    return heatmap / peak if peak > 0 else heatmap
    ### END SOLUTION
"""),
    public_tests("public_gradcam", """
sample_heatmap = make_gradcam_heatmap(x_test_ready[:1], model, LAST_CONV_LAYER)
assert isinstance(sample_heatmap, np.ndarray), "return a numpy array (call .numpy() on a tensor)"
assert sample_heatmap.shape == (7, 7), f"the last conv layer's output is 7x7, got {sample_heatmap.shape}"
assert 0.0 <= sample_heatmap.min() and sample_heatmap.max() <= 1.0, "values must lie in [0, 1]"
print("Public tests passed. Hidden tests will also grade this.")
"""),
    hidden_group("hidden_gradcam", 7, "shape and range; agreement with a reference Grad-CAM on the grader's "
                 "model for the predicted class, for a given pred_index and for another layer"),
    bilingual("""
## 4. Heatmaps of five test images

The next cell runs your Grad-CAM on the trained model for five test images, saves the
images and heatmaps (`gradcam_heatmaps.npz`, graded: they must be the Grad-CAM of the saved
model) and shows them as overlays.
""", """
## 4. نقشه‌های حرارتی پنج تصویر آزمون

سلول بعدی Grad-CAM شما را روی مدل آموزش‌دیده برای پنج تصویر آزمون اجرا می‌کند، تصاویر و نقشه‌های حرارتی را ذخیره
می‌کند (`gradcam_heatmaps.npz`، نمره دارد: باید Grad-CAM مدل ذخیره‌شده باشند) و آن‌ها را روی تصاویر
(overlay) نشان می‌دهد.
"""),
    locked_code("overlays", """
sample_images = x_test_ready[:5]
predicted = model.predict(sample_images, verbose=0).argmax(axis=1)
heatmaps = np.stack([make_gradcam_heatmap(image[np.newaxis], model, LAST_CONV_LAYER) for image in sample_images])
np.savez(HEATMAPS_FILE, images=sample_images, heatmaps=heatmaps, predicted=predicted)
show_overlays(sample_images, heatmaps, [f"label {label}, pred {pred}" for label, pred in zip(y_test_raw[:5], predicted)])
plt.show()
"""),
    hidden_group("hidden_heatmaps", 2, "the saved heatmaps: five maps of the last conv layer, equal to the "
                 "Grad-CAM of the saved model"),
    bilingual("""
## 5. Analysis (written, graded by a TA)

What do the heatmaps show about the features the model uses to recognise digits? Look at
where the peaks fall (on the strokes, in the holes of 0, 6, 8, 9, at the ends of strokes, on
the empty background), how coarse the maps are and why (the last conv layer is 7x7), and
what the maps of a wrongly classified digit tell you. Two or three short paragraphs.
""", """
## 5. تحلیل (تشریحی، با تصحیح دستیار آموزشی)

نقشه‌های حرارتی دربارهٔ ویژگی‌هایی که مدل برای شناختن ارقام به کار می‌برد چه نشان می‌دهند؟ ببینید قله‌ها کجا
می‌افتند (روی خط‌ها، در حفره‌های 0، 6، 8 و 9، در انتهای خط‌ها، روی پس‌زمینهٔ خالی)، نقشه‌ها چقدر درشت‌اند و چرا
(آخرین لایهٔ کانولوشنی 7x7 است)، و نقشه‌های رقمی که اشتباه دسته‌بندی شده چه به شما می‌گویند. دو یا سه بند کوتاه.
"""),
    written_answer("answer_analysis", """
The heatmaps are coarse (7x7 upsampled to 28x28, each cell covering a 4x4 patch), so they
show regions, not strokes. For a well-trained model the peaks fall on the parts that
distinguish a digit from its look-alikes: the closed loop of a 0, 6, 8 or 9 and the empty
hole inside it, the crossing of a 4, the horizontal bar of a 7, the ends of strokes. The
network does not look at "the whole digit": the evidence for a class is local, and the
empty space where another class would have a stroke (the gap that separates 4 from 9) is
evidence too, so heatmaps can peak on background near the strokes.

Grad-CAM uses positive evidence only (ReLU), averaged over channels with gradient weights;
for a wrongly classified digit the heatmap shows the region that looked like the predicted
class (a 4 whose top is closed looks like a 9 there). With little training the maps are
diffuse and move from image to image; they sharpen as the model learns. Grad-CAM explains
one layer of one model: it is a hint about the features used, not proof that the model
reasons like a person.
""", points=2),
    hand_in_fa(NOTEBOOK),
]

if __name__ == "__main__":
    write_notebook(NOTEBOOK, CELLS)
