"""Builds source/theory/theory.ipynb (run: python authoring/build_theory.py).

The theory questions of the two homework sets that no other notebook holds (issue 23): seed 000
questions 4 and 6-a, seed 001 questions 1 and 2, seed 004 question 2-a. Numbers are graded by
tests/hidden/theory against oracles the grader computes (torch layers, scipy's correlation,
torch's FLOP counter); written parts go to a TA. Nothing trains."""
from pathlib import Path

from hwtools.course.authoring import (hidden_group, locked_code, public_tests, solution_code, write_notebook,
                                      written_answer)
from hwtools.course.bilingual import LANGUAGE_NOTE_EN, LANGUAGE_NOTE_FA, bilingual, hand_in_fa

PUBLIC_DONE = 'print("Public tests passed. Hidden tests will also grade this.")'

INTRO = [
    bilingual(f"""
# Theory questions, checked by an oracle

Seed 000 (questions 4 and 6-a), seed 001 (questions 1 and 2) and seed 004 (question 2-a): CNNs
and RNNs, batch normalisation, a Laplacian filter, 1x1 convolutions and GoogLeNet's size.

* Use `math` and `numpy` only. No training: every cell runs in a second.
* **Hidden tests grade your numbers** against layers the grader builds (PyTorch) and
  convolutions it computes (SciPy), on the seeds' examples and on fresh random inputs. The
  public tests check the basics only.
* The grader loads your imports, functions and **constant assignments** (literal values and
  arithmetic expressions, no function calls) without running the other cells.
* {LANGUAGE_NOTE_EN}
""", f"""
# پرسش‌های نظری، بررسی‌شده با یک مرجع (oracle)

سری ۰۰۰ (پرسش‌های ۴ و ۶-الف)، سری ۰۰۱ (پرسش‌های ۱ و ۲) و سری ۰۰۴ (پرسش ۲-الف): شبکه‌های
هم‌گشتی و بازگشتی، نرمال‌سازی دسته‌ای، فیلتر لاپلاسین، کانولوشن ۱×۱ و تعداد پارامترهای GoogLeNet.

* فقط از `math` و `numpy` استفاده کنید. آموزشی در کار نیست: هر سلول در یک ثانیه اجرا می‌شود.
* **آزمون‌های پنهان اعداد شما را** با لایه‌هایی که تصحیح‌گر می‌سازد (PyTorch) و کانولوشن‌هایی که
  خودش حساب می‌کند (SciPy)، روی مثال‌های تمرین و روی ورودی‌های تصادفی تازه مقایسه می‌کنند.
  آزمون‌های عمومی فقط موارد پایه را بررسی می‌کنند.
* تصحیح‌گر فقط importها، تابع‌ها و **مقداردهی‌های ثابت** شما را (مقدار صریح یا عبارت حسابی، بدون
  فراخوانی تابع) بارگذاری می‌کند و سلول‌های دیگر را اجرا نمی‌کند.
* {LANGUAGE_NOTE_FA}
"""),
    locked_code("setup", """
import math

import numpy as np

from hwtools.checks import assert_close, assert_equal_number
"""),
]

CNN_VS_RNN = [
    bilingual("""
## 1. Seed 000, question 4: CNNs and RNNs (5 points, hidden tests; 4 points, written)

**(a)** What is a convolutional network and what is a recurrent network? What is each used
for (name problems each suits)? (written, graded by a TA)
""", """
## ۱. سری ۰۰۰، پرسش ۴: شبکه‌های هم‌گشتی و بازگشتی (۵ نمره با آزمون پنهان؛ ۴ نمره تشریحی)

**(الف)** شبکهٔ هم‌گشتی (CNN) و شبکهٔ بازگشتی (RNN) چیستند؟ هر یک برای چه به کار می‌روند (مسائلی را
نام ببرید که هر کدام برایشان مناسب است)؟ (تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_cnn_rnn", """
A CNN applies small learned filters (shared weights) at every position of a grid (an image, a
spectrogram, a sequence along time) and stacks such layers with pooling, so it detects local
patterns wherever they are and builds larger ones from them: image classification and
detection, medical imaging, also 1-D signals. An RNN reads a sequence one step at a time and
keeps a hidden state h_t = f(W x_t + U h_{t-1} + b) that carries information from the past:
language (translation, text generation), speech, music, time-series forecasting.
""", points=2),
    bilingual("""
**(b)** Compare their parameters. Write, for PyTorch's layers (`nn.Conv1d`, `nn.RNN`,
`nn.LSTM`, `nn.Linear`, biases included; PyTorch's recurrent layers keep **two** bias vectors,
`b_ih` and `b_hh`, where Keras keeps one):

* `conv1d_params(c_in, c_out, kernel)`: a 1-D convolution over sequences of `c_in` channels;
* `rnn_params(input_dim, units)`: a simple (Elman, tanh) RNN layer;
* `lstm_params(input_dim, units)`: an LSTM layer (four gates);
* `dense_on_sequence_params(length, input_dim, units)`: a fully connected layer on the
  flattened sequence (`length * input_dim` inputs), for contrast.

Then assign `params_depend_on_length`, a dict `{"conv1d": ..., "rnn": ..., "lstm": ...,
"dense": ...}` of True/False: does the layer's parameter count change between sequences of
length 50 and of length 500 (8 features, 16 filters of width 3 or 16 units)?
""", """
**(ب)** تعداد پارامترهای آن‌ها را مقایسه کنید. برای لایه‌های PyTorch (`nn.Conv1d`، `nn.RNN`،
`nn.LSTM`، `nn.Linear`، با بایاس؛ لایه‌های بازگشتی PyTorch **دو** بردار بایاس دارند، `b_ih` و `b_hh`،
در حالی که Keras یکی دارد) این تابع‌ها را بنویسید:

* `conv1d_params(c_in, c_out, kernel)`: کانولوشن یک‌بعدی روی دنباله‌هایی با `c_in` کانال؛
* `rnn_params(input_dim, units)`: یک لایهٔ بازگشتی ساده (Elman با tanh)؛
* `lstm_params(input_dim, units)`: یک لایهٔ LSTM (چهار دروازه)؛
* `dense_on_sequence_params(length, input_dim, units)`: برای مقایسه، یک لایهٔ تمام‌متصل روی دنبالهٔ
  مسطح‌شده (`length * input_dim` ورودی).

سپس `params_depend_on_length` را مقداردهی کنید: دیکشنری `{"conv1d": ..., "rnn": ..., "lstm": ..., "dense": ...}`
از True/False؛ آیا تعداد پارامترهای لایه بین دنباله‌هایی به طول 50 و به طول 500 تغییر می‌کند
(8 ویژگی، 16 فیلتر به پهنای 3 یا 16 واحد)؟
"""),
    solution_code("sequence_params", '''
def conv1d_params(c_in, c_out, kernel):
    """Weights and biases of nn.Conv1d(c_in, c_out, kernel)."""
    ### BEGIN SOLUTION
    return c_out * (c_in * kernel + 1)
    ### END SOLUTION


def rnn_params(input_dim, units):
    """Weights and both bias vectors of nn.RNN(input_dim, units)."""
    ### BEGIN SOLUTION
    return units * (input_dim + units + 2)
    ### END SOLUTION


def lstm_params(input_dim, units):
    """Weights and both bias vectors of nn.LSTM(input_dim, units): four gates."""
    ### BEGIN SOLUTION
    return 4 * rnn_params(input_dim, units)
    ### END SOLUTION


def dense_on_sequence_params(length, input_dim, units):
    """nn.Linear(length * input_dim, units) on the flattened sequence."""
    ### BEGIN SOLUTION
    return (length * input_dim + 1) * units
    ### END SOLUTION
'''),
    solution_code("length_dependence", """
### BEGIN SOLUTION
params_depend_on_length = {"conv1d": False, "rnn": False, "lstm": False, "dense": True}
### END SOLUTION
"""),
    public_tests("public_sequence_params", f"""
assert_equal_number(conv1d_params(8, 16, 3), 400, name="conv1d_params(8, 16, 3)")
assert_equal_number(dense_on_sequence_params(2, 3, 1), 7, name="dense_on_sequence_params(2, 3, 1)")
assert set(params_depend_on_length) == {{"conv1d", "rnn", "lstm", "dense"}}, "four keys"
assert all(isinstance(v, bool) for v in params_depend_on_length.values()), "True or False for each"
{PUBLIC_DONE}
"""),
    hidden_group("hidden_sequence_params", 5, "the four counts on random layers against torch's layers; "
                 "params_depend_on_length against layers built for sequences of 50 and 500 steps"),
    bilingual("""
**(c)** Which of the two can compute all the time steps of a sequence in parallel, and why
cannot the other? What does that mean for the number of sequential operations and for the
longest path between two time steps (seed 000's figure 1)? (written, graded by a TA)
""", """
**(ج)** کدام یک از این دو می‌تواند همهٔ گام‌های زمانی یک دنباله را به‌صورت موازی حساب کند، و چرا
دیگری نمی‌تواند؟ این برای تعداد عملیات متوالی و برای طولانی‌ترین مسیر بین دو گام زمانی چه معنایی
دارد (شکل ۱ سری ۰۰۰)؟ (تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_parallel_over_time", """
A convolution's output at step t depends only on the inputs in its window, never on other
outputs, so all n steps are computed at once: O(1) sequential operations (O(k n d^2) work for
kernel k, width d). An RNN's h_t needs h_{t-1}: the n steps are a chain of n sequential
operations (O(n d^2) work), whatever the hardware. The longest path between two steps is
O(n / k) layers for stacked convolutions (less with strides or dilation, O(log_k n)), and
O(n) for an RNN. Neither parameter count grows with n (weights are shared over time), unlike a
dense layer on the flattened sequence.
""", points=2),
]

BATCHNORM_STATEMENTS = [
    bilingual("""
## 2. Seed 000, question 6-a: three statements on batch normalisation (3 points, hidden tests)

True or false? Assign `bn_statement_a`, `bn_statement_b` and `bn_statement_c` (True or
False). The feedback gives the reason for each.

* **(a)** Batch normalisation makes processing a single batch faster, which cuts training
  time while the number of updates stays the same.
* **(b)** Batch normalisation normalises the distribution of a layer's outputs so that it is
  more uniform across the dimensions (features).
* **(c)** Batch normalisation lets the network initialise the weights to smaller values,
  close to zero.
""", """
## ۲. سری ۰۰۰، پرسش ۶-الف: سه گزاره دربارهٔ نرمال‌سازی دسته‌ای (۳ نمره، آزمون پنهان)

درست یا نادرست؟ `bn_statement_a`، `bn_statement_b` و `bn_statement_c` را با True یا False مقداردهی
کنید. بازخورد، دلیل هر کدام را می‌گوید.

* **(الف)** نرمال‌سازی دسته‌ای پردازش یک دسته را سریع‌تر می‌کند و در حالی که تعداد به‌روزرسانی‌ها
  ثابت می‌ماند، زمان آموزش را کاهش می‌دهد.
* **(ب)** نرمال‌سازی دسته‌ای توزیع خروجی‌های یک لایه را نرمال می‌کند تا در ابعاد (ویژگی‌ها)
  یکنواخت‌تر باشد.
* **(ج)** نرمال‌سازی دسته‌ای به شبکه اجازه می‌دهد وزن‌ها را با مقادیر کوچک‌تر و نزدیک به صفر
  مقداردهی اولیه کند.
"""),
    solution_code("bn_statements", """
### BEGIN SOLUTION
bn_statement_a = False
bn_statement_b = True
bn_statement_c = False
### END SOLUTION
"""),
    public_tests("public_bn_statements", f"""
for name in ("bn_statement_a", "bn_statement_b", "bn_statement_c"):
    assert isinstance(globals()[name], bool), f"{{name}} must be True or False"
{PUBLIC_DONE}
"""),
    hidden_group("hidden_bn_statements", 3, "each statement's truth; the feedback gives the reason"),
]

LAPLACIAN = [
    bilingual("""
## 3. Seed 001, question 1: a Laplacian filter on a line (4 points, hidden tests; 1 point, written)

The 5 x 5 image is 0 everywhere except its middle column, which is 10 (a vertical line). The
filter is the 3 x 3 Laplacian `[[1, 1, 1], [1, -8, 1], [1, 1, 1]]`, applied with zero padding
so that the output is 5 x 5 too (stride 1).

Write `correlate_same(image, kernel)`: the 2-D cross-correlation of a 2-D array with an
odd-sized kernel (the kernel is not flipped), zero padding `(kh - 1) / 2` rows and
`(kw - 1) / 2` columns on each side, so the output has the image's shape. Then assign
`laplacian_line_output`, the 5 x 5 output as a list of lists of numbers (a literal: work it
out by hand and check it with your function in the public test cell).
""", """
## ۳. سری ۰۰۱، پرسش ۱: فیلتر لاپلاسین روی یک خط (۴ نمره با آزمون پنهان؛ ۱ نمره تشریحی)

تصویر ۵×۵ همه‌جا صفر است جز ستون وسط آن که 10 است (یک خط عمودی). فیلتر، لاپلاسین ۳×۳
`[[1, 1, 1], [1, -8, 1], [1, 1, 1]]` است که با لایه‌گذاری صفر (zero padding) اعمال می‌شود تا خروجی هم
۵×۵ باشد (گام 1).

تابع `correlate_same(image, kernel)` را بنویسید: هم‌بستگی متقابل (cross-correlation) دوبعدی یک آرایهٔ
دوبعدی با یک هستهٔ با ابعاد فرد (هسته وارونه نمی‌شود)، با `(kh - 1) / 2` سطر و `(kw - 1) / 2` ستون صفر در
هر طرف، تا خروجی هم‌شکل تصویر باشد. سپس `laplacian_line_output` را مقداردهی کنید: خروجی ۵×۵ به‌صورت
فهرستی از فهرست‌های عدد (مقدار صریح: با دست حساب کنید و در سلول آزمون عمومی با تابع خود بررسی کنید).
"""),
    solution_code("correlate_same", '''
def correlate_same(image, kernel):
    """Zero-padded 'same' cross-correlation of a 2-D array with an odd-sized 2-D kernel."""
    ### BEGIN SOLUTION
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh // 2, kh // 2), (kw // 2, kw // 2)))
    out = np.zeros(image.shape)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = np.sum(padded[i:i + kh, j:j + kw] * kernel)
    return out
    ### END SOLUTION
'''),
    solution_code("laplacian_line", """
### BEGIN SOLUTION
laplacian_line_output = [[0, 20, -70, 20, 0],
                         [0, 30, -60, 30, 0],
                         [0, 30, -60, 30, 0],
                         [0, 30, -60, 30, 0],
                         [0, 20, -70, 20, 0]]
### END SOLUTION
"""),
    public_tests("public_laplacian", f"""
line = np.zeros((5, 5))
line[:, 2] = 10
laplacian = np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]])
assert np.shape(correlate_same(line, laplacian)) == (5, 5), "the output keeps the image's shape"
assert np.shape(laplacian_line_output) == (5, 5), "laplacian_line_output: 5 rows of 5 numbers"
assert_close(correlate_same(line, laplacian), laplacian_line_output, name="your function against your grid")
{PUBLIC_DONE}
"""),
    hidden_group("hidden_laplacian", 4, "correlate_same on random images and kernels, and "
                 "laplacian_line_output, against scipy.signal.correlate2d"),
    bilingual("""
What does the response say about the line and its edges? Why does the Laplacian respond at
the line's two sides and at its two ends, and not in the flat parts? (written, graded by a TA)
""", """
پاسخ فیلتر دربارهٔ خط و لبه‌های آن چه می‌گوید؟ چرا لاپلاسین در دو طرف خط و در دو سر آن پاسخ می‌دهد
و در بخش‌های یکنواخت نه؟ (تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_laplacian_edges", """
The Laplacian is a second derivative: its weights sum to 0, so it gives 0 wherever the image
is constant (the flat zeros far from the line). Where the intensity changes sharply it
responds strongly: negative on the bright line itself (a maximum of intensity: -60, and -70 at
the two ends, which have one bright neighbour fewer), positive on both sides of it (+30, +20 at
the corners). The zero crossings between the two mark the edges: a one-pixel line becomes three
non-zero columns, so the filter finds edges and is sensitive to sharp changes (and to noise).
""", points=1),
]

ONE_BY_ONE = [
    bilingual("""
## 4. Seed 001, question 2: 1x1 convolutions (network in network) (4 points, hidden tests; 2 points, written)

Write `conv_cost(h, w, c_in, c_out, k, bias=True)`, the cost of a stride-1 `k x k`
convolution with 'same' padding (`k` odd) on an `h x w x c_in` input: return
`(parameters, multiply_accumulates)`, where the multiply-accumulates (MACs) are the
multiplications of weights by inputs for the whole output (bias additions not counted; one
MAC is two FLOPs).

Seed 001's example: a 6 x 6 x 32 input and five 1 x 1 x 32 filters: assign `one_by_one_shape`,
the output's `(height, width, channels)`.

The saving on a given layer: a 28 x 28 x 192 input goes to 32 channels through a 5x5
convolution ('same', biases included). Assign `direct_cost`, its `(parameters, MACs)`, and
`bottleneck_cost`, the `(parameters, MACs)` of a 1x1 convolution to 16 channels followed by the
5x5 convolution to 32 channels (literal values or arithmetic expressions).
""", """
## ۴. سری ۰۰۱، پرسش ۲: کانولوشن ۱×۱ (شبکه در شبکه) (۴ نمره با آزمون پنهان؛ ۲ نمره تشریحی)

تابع `conv_cost(h, w, c_in, c_out, k, bias=True)` را بنویسید: هزینهٔ یک کانولوشن `k x k` با گام 1 و
لایه‌گذاری 'same' (`k` فرد) روی ورودی `h x w x c_in`؛ خروجی `(parameters, multiply_accumulates)` است که
در آن ضرب‌-انباشت‌ها (MACها) ضرب‌های وزن‌ها در ورودی‌ها برای کل خروجی هستند (جمع بایاس شمرده نمی‌شود؛
هر MAC دو FLOP است).

مثال سری ۰۰۱: ورودی ۶×۶×۳۲ و پنج فیلتر ۱×۱×۳۲؛ `one_by_one_shape` را با `(height, width, channels)`
خروجی مقداردهی کنید.

صرفه‌جویی روی یک لایهٔ مشخص: ورودی ۲۸×۲۸×۱۹۲ با یک کانولوشن ۵×۵ ('same'، با بایاس) به 32 کانال
می‌رود. `direct_cost` را با `(parameters, MACs)` آن، و `bottleneck_cost` را با `(parameters, MACs)`
یک کانولوشن ۱×۱ به 16 کانال و سپس همان کانولوشن ۵×۵ به 32 کانال مقداردهی کنید (مقدار صریح یا
عبارت حسابی).
"""),
    solution_code("conv_cost", '''
def conv_cost(h, w, c_in, c_out, k, bias=True):
    """(parameters, multiply-accumulates) of a stride-1 'same' k x k convolution on h x w x c_in."""
    ### BEGIN SOLUTION
    weights = k * k * c_in * c_out
    return weights + (c_out if bias else 0), h * w * weights
    ### END SOLUTION
'''),
    solution_code("one_by_one_answers", """
### BEGIN SOLUTION
one_by_one_shape = (6, 6, 5)
direct_cost = (5 * 5 * 192 * 32 + 32, 28 * 28 * 5 * 5 * 192 * 32)
bottleneck_cost = (192 * 16 + 16 + 5 * 5 * 16 * 32 + 32, 28 * 28 * (192 * 16 + 5 * 5 * 16 * 32))
### END SOLUTION
"""),
    public_tests("public_one_by_one", f"""
assert_equal_number(conv_cost(6, 6, 32, 5, 1)[0], 165, name="parameters of five 1x1x32 filters")
assert len(direct_cost) == 2 and len(bottleneck_cost) == 2, "(parameters, MACs) pairs"
assert len(one_by_one_shape) == 3, "(height, width, channels)"
print(f"saving: {{direct_cost[1] / bottleneck_cost[1]:.1f}}x fewer MACs")
{PUBLIC_DONE}
"""),
    hidden_group("hidden_one_by_one", 4, "conv_cost on random layers against torch (parameters) and "
                 "torch's FLOP counter (MACs); the seed's shape and the two costs of the given layer"),
    bilingual("""
What does a 1x1 convolution do to the channels of its input (is it only a multiplication by a
number)? Where does the saving above come from, and why is a 1x1 convolution the same as a
fully connected layer applied at every pixel (network in network)? (written, graded by a TA)
""", """
کانولوشن ۱×۱ با کانال‌های ورودی خود چه می‌کند (آیا فقط ضرب در یک عدد است)؟ صرفه‌جویی بالا از کجا می‌آید،
و چرا کانولوشن ۱×۱ همان یک لایهٔ تمام‌متصل است که روی هر پیکسل اعمال می‌شود (شبکه در شبکه)؟
(تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_one_by_one", """
Each output channel of a 1x1 convolution is a learned weighted sum of all the input channels at
the same pixel (plus a bias): it is a fully connected layer c_in -> c_out applied at every
position with shared weights, and with a non-linearity after it, a small MLP per pixel (NiN).
It multiplies by a number only when there is one input channel. It changes the number of
channels: with fewer filters than input channels it compresses the depth (6x6x32 -> 6x6x5), so
the expensive 5x5 convolution then runs on 16 channels instead of 192: about 10x fewer
parameters and MACs above, at the price of a bottleneck.
""", points=2),
]

GOOGLENET = [
    bilingual("""
## 5. Seed 004, question 2-a: GoogLeNet's parameter count (4 points, hidden tests; 1 point, written)

`GOOGLENET_INCEPTIONS` below is table 1 of the GoogLeNet paper (Szegedy et al., 2014): for
each inception block its input channels and its `#1x1`, `#3x3 reduce`, `#3x3`,
`#5x5 reduce`, `#5x5` and `pool proj` filters. An inception block has four branches that see
the same input: a 1x1 convolution; a 1x1 reduction then a 3x3 convolution; a 1x1 reduction
then a 5x5 convolution; a 3x3 max pooling then a 1x1 projection. The whole network is: a 7x7
convolution (3 -> 64, stride 2), a 1x1 convolution (64 -> 64), a 3x3 convolution (64 -> 192),
the nine inception blocks (max pooling and local response normalisation between them have no
parameters), global average pooling, dropout and one fully connected layer 1024 -> 1000 (no
auxiliary classifiers).

Write `inception_params(c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, bias=True)` and
`googlenet_params(bias=True)`, the whole network's parameters (use `GOOGLENET_INCEPTIONS` and
your `inception_params`).

**Which figure is which.** Seed 004 says GoogLeNet has "about 4 million" parameters: no count
of this network gives that. The paper's table lists each block's parameters: they add up to
about 6.8 M, counting weights only (no biases) in thousands of 1024 and rounded. torchvision's
`googlenet` has 6,624,904 (its documentation): it replaces the biases by batch normalisation
and uses 3x3 kernels in the branch the paper gives 5x5. Your `googlenet_params()` counts the
network of the table as described here.
""", """
## ۵. سری ۰۰۴، پرسش ۲-الف: تعداد پارامترهای GoogLeNet (۴ نمره با آزمون پنهان؛ ۱ نمره تشریحی)

`GOOGLENET_INCEPTIONS` در زیر، جدول ۱ مقالهٔ GoogLeNet است (Szegedy و همکاران، 2014): برای هر بلوک
inception، کانال‌های ورودی و تعداد فیلترهای `#1x1`، `#3x3 reduce`، `#3x3`، `#5x5 reduce`، `#5x5` و
`pool proj`. هر بلوک inception چهار شاخه دارد که همه یک ورودی را می‌بینند: یک کانولوشن ۱×۱؛ کاهش ۱×۱ و
سپس کانولوشن ۳×۳؛ کاهش ۱×۱ و سپس کانولوشن ۵×۵؛ max pooling ۳×۳ و سپس تصویر (projection) ۱×۱. کل شبکه:
یک کانولوشن ۷×۷ (3 به 64، گام 2)، یک کانولوشن ۱×۱ (64 به 64)، یک کانولوشن ۳×۳ (64 به 192)، نُه بلوک
inception (max pooling و نرمال‌سازی پاسخ محلی میان آن‌ها پارامتری ندارند)، global average pooling،
dropout و یک لایهٔ تمام‌متصل 1024 به 1000 (بدون طبقه‌بندهای کمکی).

تابع‌های `inception_params(c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, bias=True)` و
`googlenet_params(bias=True)` (پارامترهای کل شبکه، با استفاده از `GOOGLENET_INCEPTIONS` و
`inception_params` خودتان) را بنویسید.

**کدام عدد کدام است.** سری ۰۰۴ می‌گوید GoogLeNet «حدود ۴ میلیون» پارامتر دارد: هیچ شمارشی از این
شبکه چنین عددی نمی‌دهد. جدول مقاله پارامترهای هر بلوک را می‌آورد: جمع آن‌ها حدود ۶٫۸ میلیون است،
فقط با شمردن وزن‌ها (بدون بایاس)، به هزارهای 1024تایی و گردشده. `googlenet` در torchvision
دارای 6,624,904 پارامتر است (طبق مستندات آن): به جای بایاس‌ها نرمال‌سازی دسته‌ای دارد و در شاخه‌ای
که مقاله ۵×۵ می‌گوید از هستهٔ ۳×۳ استفاده می‌کند. `googlenet_params()` شما شبکهٔ جدول را همان‌طور که
این‌جا توصیف شد می‌شمارد.
"""),
    locked_code("googlenet_table", """
# (name, c_in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj): table 1 of the paper
GOOGLENET_INCEPTIONS = [
    ("3a", 192, 64, 96, 128, 16, 32, 32),
    ("3b", 256, 128, 128, 192, 32, 96, 64),
    ("4a", 480, 192, 96, 208, 16, 48, 64),
    ("4b", 512, 160, 112, 224, 24, 64, 64),
    ("4c", 512, 128, 128, 256, 24, 64, 64),
    ("4d", 512, 112, 144, 288, 32, 64, 64),
    ("4e", 528, 256, 160, 320, 32, 128, 128),
    ("5a", 832, 256, 160, 320, 32, 128, 128),
    ("5b", 832, 384, 192, 384, 48, 128, 128),
]
"""),
    solution_code("googlenet", '''
def inception_params(c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, bias=True):
    """Parameters of one inception block (four branches, 'same' padding)."""
    ### BEGIN SOLUTION
    def conv(a, b, k):
        return k * k * a * b + (b if bias else 0)
    return (conv(c_in, c1, 1) + conv(c_in, c3_reduce, 1) + conv(c3_reduce, c3, 3)
            + conv(c_in, c5_reduce, 1) + conv(c5_reduce, c5, 5) + conv(c_in, pool_proj, 1))
    ### END SOLUTION


def googlenet_params(bias=True):
    """Parameters of the whole network of table 1 (no auxiliary classifiers)."""
    ### BEGIN SOLUTION
    extra = 1 if bias else 0
    stem = (7 * 7 * 3 + extra) * 64 + (64 + extra) * 64 + (3 * 3 * 64 + extra) * 192
    blocks = sum(inception_params(*row[1:], bias=bias) for row in GOOGLENET_INCEPTIONS)
    return stem + blocks + (1024 + extra) * 1000
    ### END SOLUTION
'''),
    public_tests("public_googlenet", f"""
assert_equal_number(inception_params(192, 64, 96, 128, 16, 32, 32, bias=False), 163328,
                    name="inception (3a) without biases (the paper's table: 159K, in thousands of 1024)")
print(f"GoogLeNet: {{googlenet_params():,}} parameters")
{PUBLIC_DONE}
"""),
    hidden_group("hidden_googlenet", 4, "inception_params on random blocks, and googlenet_params with and "
                 "without biases, against the networks built in torch"),
    bilingual("""
Your count, the table's 6.8 M and torchvision's 6.6 M: say in a few lines why each differs
from the others, and why GoogLeNet has about 9 times fewer parameters than AlexNet (62 M).
(written, graded by a TA)
""", """
عدد شما، ۶٫۸ میلیونِ جدول و ۶٫۶ میلیونِ torchvision: در چند خط بگویید چرا هر کدام با دیگری فرق دارد،
و چرا GoogLeNet حدود ۹ برابر کمتر از AlexNet (۶۲ میلیون) پارامتر دارد. (تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_googlenet_figures", """
About 7.0 M with biases (6,998,552), 6,990,272 without: the table's column is the weights only,
in units of 1024 and rounded per block (and a few of its entries do not match its own filter
counts), hence about 6.8 M. torchvision replaces biases by batch normalisation (two parameters
per channel) and uses 3x3 kernels in the 5x5 branch, which removes more than it adds: 6.6 M.
The "4 M" of the seed matches none. Against AlexNet, GoogLeNet has no large fully connected
layers (global average pooling, one 1024 x 1000 layer) and its 1x1 reductions keep the 3x3 and
5x5 convolutions on few channels.
""", points=1),
]

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "theory" / "theory.ipynb"
CELLS = [*INTRO, *CNN_VS_RNN, *BATCHNORM_STATEMENTS, *LAPLACIAN, *ONE_BY_ONE, *GOOGLENET, hand_in_fa(NOTEBOOK)]

if __name__ == "__main__":
    write_notebook(NOTEBOOK, CELLS)
