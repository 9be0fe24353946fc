"""Pretrains the OFFLINE STAND-IN weights of the flowers assignment's MobileNetV2 base
(alpha 0.35, no top) and writes hwtools/assignments/data/mobilenet_v2_0.35_standin.weights.h5.

Why: offline there are no ImageNet weights, and a frozen random base leaves the head at chance,
so the fixture could not grade accuracy. This base is pretrained, as ImageNet's is, on images
that are not the task's: flowers drawn by the fixture generator from pretext seeds
(``PRETEXT_SEED``) disjoint from the students' fixture (seed 0) and the grader's
(``GRADER_FIXTURE_SEED``), JPEG-compressed like the fixture, at the three input sizes the
budgets use (32, 64 and 96 px), and through MobileNetV2's own ``preprocess_input`` (values in
[-1, 1]), so that a model that feeds it [0, 1] instead does measurably worse, as with ImageNet
weights. Run: python authoring/make_flowers_standin_weights.py (2-4 minutes on 2 CPU cores).
Seeded: reruns here repeated the same losses to the printed digits; other machines or versions
may differ in the last bits, so recalibrate the fixture thresholds after regenerating. It prints
the saved base's accuracy at inference on held-out pretext images at each size (last run: 32 px
0.685, 64 px 0.990, 96 px 0.990).
"""
import io
import time
from pathlib import Path

import numpy as np

from hwtools.assignments.flowers import (CLASS_NAMES, GRADER_FIXTURE_SEED, STANDIN_ALPHA, STANDIN_WEIGHTS,
                                         _draw_flower, FIXTURE_IMAGE_SIZE)

PRETEXT_SEED = 770077  # never 0 (the students' fixture) nor GRADER_FIXTURE_SEED
HELD_OUT_SEED = 770078  # pretext images kept out of training, to check the saved base at inference
BN_MOMENTUM = 0.9  # Keras' MobileNetV2 uses 0.999: too slow for the moving statistics to settle in a short run
IMAGES_PER_CLASS = 400
SIZES = (32, 64, 96)
BATCH_SIZE = 32
EPOCHS = 12
LEARNING_RATE = 1e-3


def pretext_images(seed: int = PRETEXT_SEED, per_class: int = IMAGES_PER_CLASS) -> tuple[np.ndarray, np.ndarray]:
    """per_class flowers of each class from a pretext seed, through JPEG like the fixture."""
    from PIL import Image

    assert seed not in (0, GRADER_FIXTURE_SEED)
    images, labels = [], []
    for class_index in range(len(CLASS_NAMES)):
        rng = np.random.default_rng([seed, class_index])
        for _ in range(per_class):
            buffer = io.BytesIO()
            Image.fromarray(_draw_flower(rng, class_index, FIXTURE_IMAGE_SIZE)).save(buffer, "JPEG", quality=92)
            images.append(np.asarray(Image.open(buffer).convert("RGB")))
            labels.append(class_index)
    return np.stack(images), np.array(labels)


def batches(images, labels, seed: int):
    """Shuffled batches, each resized (bilinear, as image_dataset_from_directory does) to one of SIZES
    and randomly flipped, then MobileNetV2-preprocessed."""
    import tensorflow as tf
    import keras

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    for start in range(0, len(order) - BATCH_SIZE + 1, BATCH_SIZE):
        index = order[start:start + BATCH_SIZE]
        side = int(rng.choice(SIZES))
        x = tf.image.resize(images[index].astype("float32"), (side, side)).numpy()
        flip = rng.random(len(index)) < 0.5
        x[flip] = x[flip, :, ::-1]
        yield keras.applications.mobilenet_v2.preprocess_input(x), labels[index]


def main() -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(PRETEXT_SEED % 2**31)
    images, labels = pretext_images()
    base = keras.applications.MobileNetV2(input_shape=(None, None, 3), alpha=STANDIN_ALPHA, include_top=False,
                                          weights=None)
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = BN_MOMENTUM
    inputs = keras.Input((None, None, 3))
    features = keras.layers.GlobalAveragePooling2D()(base(inputs))
    model = keras.Model(inputs, keras.layers.Dense(len(CLASS_NAMES), activation="softmax")(features))
    optimizer = keras.optimizers.Adam(LEARNING_RATE)
    loss = keras.losses.SparseCategoricalCrossentropy()

    @tf.function(reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            probabilities = model(x, training=True)
            value = loss(y, probabilities)
        optimizer.apply_gradients(zip(tape.gradient(value, model.trainable_weights), model.trainable_weights))
        return value, tf.reduce_mean(tf.cast(tf.argmax(probabilities, 1) == tf.cast(y, tf.int64), tf.float32))

    for epoch in range(EPOCHS):
        started, results = time.time(), []
        for x, y in batches(images, labels, seed=epoch):
            results.append([float(v) for v in step(tf.constant(x), tf.constant(y))])
        loss_value, accuracy = np.mean(results, axis=0)
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {loss_value:.3f}, accuracy {accuracy:.3f} ({time.time() - started:.0f} s)",
              flush=True)
    held_out, held_out_labels = pretext_images(HELD_OUT_SEED, 40)
    for side in SIZES:
        x = keras.applications.mobilenet_v2.preprocess_input(tf.image.resize(held_out.astype("float32"), (side, side)))
        accuracy = np.mean(model.predict(x, verbose=0).argmax(1) == held_out_labels)
        print(f"held-out pretext accuracy at inference, {side} px: {accuracy:.3f}")
    STANDIN_WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    base.save_weights(STANDIN_WEIGHTS)
    print(f"wrote {STANDIN_WEIGHTS} ({STANDIN_WEIGHTS.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
