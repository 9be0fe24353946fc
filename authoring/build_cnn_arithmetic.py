"""Builds source/cnn_arithmetic/cnn_arithmetic.ipynb (run: python authoring/build_cnn_arithmetic.py).

Each student answers for their own numbers (``hwtools.variants``). The source's worked answers
are those of ``REFERENCE_STUDENT``'s variant, the id under which the tests and the sample class
hand the source in; ``answer_cells`` writes them for any variant.
"""
from fractions import Fraction
from pathlib import Path

from hwtools import variants
from hwtools.course.authoring import (hidden_group, locked_code, public_tests, solution_code,
                               write_notebook, written_answer)
from hwtools.course.bilingual import LANGUAGE_NOTE_EN, LANGUAGE_NOTE_FA, bilingual, hand_in_fa

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "cnn_arithmetic" / "cnn_arithmetic.ipynb"
PUBLIC_DONE = 'print("Public tests passed. Hidden tests will also grade this.")'
REFERENCE_STUDENT = "reference_solution"


# The answers of a variant, as a student writes them (literals and arithmetic) --------------

def _conv_size(n, kernel, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def q5_answers(q5) -> tuple[list, list, list]:
    """(output shapes, parameter expressions, the size each layer receives) of the network."""
    size, channels = q5["input"][0], q5["input"][2]
    shapes, params, received = [], [], []
    for layer in q5["layers"]:
        received.append(size)
        if layer["kind"] == "maxpool":
            size = _conv_size(size, layer["pool"], layer["stride"])
            params.append("0")
        else:
            k = layer["kernel"]
            padding = (k - 1) // 2 if layer["padding"] == "same" else 0
            size = _conv_size(size, k, layer["stride"], padding, layer["dilation"])
            params.append(f"{layer['filters']} * ({k} * {k} * {channels} + 1)")
            channels = layer["filters"]
        shapes.append((size, size, channels))
    return shapes, params, received


def _lines(items, indent) -> str:
    """A list literal over lines of at most 100 characters."""
    lines, line = [], ""
    for item in items:
        if line and len(indent) + len(line) + len(item) > 96:
            lines.append(line.rstrip())
            line = ""
        line += item + ", "
    lines.append(line[:-2])
    return "[" + ("\n" + indent).join(lines) + "]"


def _fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator} / {value.denominator}"


def answer_cells(values: dict) -> dict:
    """grade_id -> source of the answer cells for a variant's VALUES (with solution markers)."""
    q5, q3, fc_bn, gap = values["q5"], values["q3"], values["fc_bn"], values["gap"]
    shapes, params, received = q5_answers(q5)
    layer8, dilation = q5["layers"][7], q5["misprinted_layer8_dilation"]
    effective = dilation * (layer8["kernel"] - 1) + 1
    n, stride, c_in = q3["input"][0], q3["stride"], q3["input"][2]
    conv_size = (n + stride - 1) // stride
    pool_size = conv_size // q3["pool"]
    x, f = gap["x"], gap["f"]
    rows, cols = len(x) - len(f) + 1, len(x[0]) - len(f[0]) + 1
    output = [[sum(x[i + m][j + q] * f[m][q] for m in range(len(f)) for q in range(len(f[0])))
               for j in range(cols)] for i in range(rows)]
    gradient = [[_fraction_text(Fraction(sum(x[i + m][j + q] for i in range(rows) for j in range(cols)), rows * cols))
                 for q in range(len(f[0]))] for m in range(len(f))]
    solution = "### BEGIN SOLUTION\n{}\n### END SOLUTION\n"
    return {
        "q5_table": solution.format(
            "q5_output_shapes = " + _lines([str(s) for s in shapes], " " * 20) + "\n"
            + "q5_params = " + _lines(params, " " * 13)),
        "q5_dilation8": solution.format(
            f"q5_d8_effective_kernel = {dilation} * ({layer8['kernel']} - 1) + 1\n"
            f"q5_d8_fits = {effective <= received[7]}"),
        "fc_batchnorm": solution.format(
            f"fc_bn_trainable_params = {fc_bn['inputs']} * {fc_bn['units']} + {fc_bn['units']} + 2 * {fc_bn['units']}"),
        "seed001_q3": solution.format("\n".join([
            f"q3_conv_shape = ({conv_size}, {conv_size}, {q3['filters']})",
            f"q3_conv_params = {q3['filters']} * ({q3['kernel']} * {q3['kernel']} * {c_in} + 1)",
            f"q3_pool_shape = ({pool_size}, {pool_size}, {q3['filters']})",
            f"q3_flatten_size = {pool_size} * {pool_size} * {q3['filters']}",
            f"q3_dense_params = {q3['units']} * ({pool_size * pool_size * q3['filters']} + 1)"])),
        "gap_example": solution.format("\n".join([
            f"example_output = {output}",
            f"example_gap = ({' + '.join(f'({v})' if v < 0 else str(v) for row in output for v in row)}) / {rows * cols}",
            f"example_dL_dF = [{', '.join('[' + ', '.join(row) + ']' for row in gradient)}]"])),
    }


REFERENCE_ANSWERS = answer_cells(variants.for_student("cnn_arithmetic", REFERENCE_STUDENT).values)

LAYER_ARITHMETIC = [
    bilingual("""
## 1. Layer arithmetic (7 points, hidden tests)

All sizes are along **one** spatial axis (height or width; square inputs and kernels use the
same number twice). Conventions are PyTorch's and Keras's: no `ceil_mode`, output sizes are
**rounded down**, a dilated kernel of size `k` and dilation `d` spans `d * (k - 1) + 1`
input positions.

The hidden tests call your functions on fresh random layer configurations and compare them
with real layers, so a formula that only fits the seed's numbers is not enough.
""", """
## ۱. حساب لایه‌ها (۷ نمره، آزمون پنهان)

همهٔ اندازه‌ها در راستای **یک** محور فضایی‌اند (ارتفاع یا عرض؛ ورودی‌ها و هسته‌های مربعی همان عدد را دو بار
به کار می‌برند). قراردادها همان قراردادهای PyTorch و Keras است: بدون `ceil_mode`، اندازه‌های خروجی **به پایین
گرد می‌شوند**، و یک هستهٔ متسع (dilated) با اندازهٔ `k` و نرخ اتساع `d` روی `d * (k - 1) + 1` موقعیت ورودی
گسترده می‌شود.

آزمون‌های پنهان تابع‌های شما را روی پیکربندی‌های تصادفی تازه فرا می‌خوانند و با لایه‌های واقعی مقایسه
می‌کنند؛ پس فرمولی که فقط با اعداد تمرین جور درآید کافی نیست.
"""),
    solution_code("conv_output_size", '''
def conv_output_size(n, kernel, stride=1, padding=0, dilation=1):
    """Output size of a convolution over n positions (padding added on both sides)."""
    ### BEGIN SOLUTION
    effective_kernel = dilation * (kernel - 1) + 1
    return (n + 2 * padding - effective_kernel) // stride + 1
    ### END SOLUTION
'''),
    solution_code("pool_output_size", '''
def pool_output_size(n, pool, stride=None, padding=0):
    """Output size of max or average pooling; the stride defaults to the pool size."""
    ### BEGIN SOLUTION
    stride = pool if stride is None else stride
    return (n + 2 * padding - pool) // stride + 1
    ### END SOLUTION
'''),
    solution_code("conv_params", '''
def conv_params(c_in, c_out, kernel, bias=True):
    """Trainable parameters of a 2-D convolution; kernel is an int (square) or (kh, kw)."""
    ### BEGIN SOLUTION
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return c_out * (kh * kw * c_in + (1 if bias else 0))
    ### END SOLUTION
'''),
    solution_code("same_padding", '''
def same_padding(f):
    """Padding on each side that keeps the size for an odd filter f at stride 1 (seed 000, 5-b)."""
    ### BEGIN SOLUTION
    return (f - 1) // 2
    ### END SOLUTION
'''),
    public_tests("public_layer_arithmetic", f"""
assert_equal_number(conv_output_size(256, 3, stride=1, padding=1), 256, name="layer 1 of seed 000 Q5")
assert_equal_number(conv_output_size(28, 5), 24, name="5x5 valid conv on 28")
assert_equal_number(pool_output_size(24, 2), 12, name="2x2 pooling on 24")
assert_equal_number(conv_params(3, 64, 3), 1792, name="Conv(64, 3x3) on RGB")
assert_equal_number(same_padding(3), 1, name="same padding of a 3x3 filter")
{PUBLIC_DONE}
"""),
    hidden_group("hidden_conv_output_size", 3, "the seed's layers and random (n, kernel, stride, padding, "
                 "dilation) against torch.nn.Conv2d"),
    hidden_group("hidden_pool_output_size", 1, "random (n, pool, stride, padding) against torch pooling"),
    hidden_group("hidden_conv_params", 2, "random convolutions, with and without bias, against torch"),
    hidden_group("hidden_same_padding", 1, "odd filters, against the padding that keeps torch's size"),
]

SEED000_Q5 = [
    bilingual("""
## 2. Seed 000, question 5: a network with dilated convolutions (5 points, hidden tests)

Seed 000's network had nine layers: three blocks of a 'same' convolution, a dilated 'valid'
convolution with a stride and a 2x2 max pooling. **Your network** has the same plan with
your own numbers (input size, filters, kernels, strides and dilations), printed by the cell
below; the hidden tests grade the answers for your network.

Assign `q5_output_shapes`, a list of nine `(height, width, channels)` tuples, and
`q5_params`, a list of nine ints (the parameters of each layer, biases included).

**Assign literal values or arithmetic expressions** (`64 * (3 * 3 * 3 + 1)`), not calls of
your functions: the grader reads these variables without running your notebook. Check them
with your functions in the public test cell.
""", """
## ۲. سری ۰۰۰، پرسش ۵: شبکه‌ای با کانولوشن‌های متسع (۵ نمره، آزمون پنهان)

شبکهٔ سری ۰۰۰ نُه لایه داشت: سه بلوک، هر کدام یک کانولوشن 'same'، یک کانولوشن متسع 'valid' با گام، و یک
max pooling ۲×۲. **شبکهٔ شما** همین طرح را با اعداد خودتان دارد (اندازهٔ ورودی، تعداد فیلترها، هسته‌ها، گام‌ها و
اتساع‌ها) که سلول زیر آن را نشان می‌دهد؛ آزمون‌های پنهان پاسخ‌ها را برای شبکهٔ شما تصحیح می‌کنند.

`q5_output_shapes` را با فهرستی از نُه تاپل `(height, width, channels)` و `q5_params` را با فهرستی از نُه عدد
صحیح (پارامترهای هر لایه، با بایاس) مقداردهی کنید.

**مقدار صریح یا عبارت حسابی بنویسید** (`64 * (3 * 3 * 3 + 1)`)، نه فراخوانی تابع‌هایتان: تصحیح‌گر این
متغیرها را بدون اجرای نوت‌بوک شما می‌خواند. آن‌ها را با تابع‌هایتان در سلول آزمون عمومی بررسی کنید.
"""),
    locked_code("variant_q5", 'variant.show("q5")'),
    solution_code("q5_table", REFERENCE_ANSWERS["q5_table"]),
    public_tests("public_q5_table", f"""
assert len(q5_output_shapes) == 9 and all(len(shape) == 3 for shape in q5_output_shapes), \\
    "q5_output_shapes: nine (height, width, channels) tuples"
assert len(q5_params) == 9 and all(isinstance(p, int) for p in q5_params), "q5_params: nine ints"
assert_equal_number(q5_output_shapes[0][0],
                    conv_output_size(variant["q5"]["input"][0], variant["q5"]["layers"][0]["kernel"],
                                     padding=same_padding(variant["q5"]["layers"][0]["kernel"])),
                    name="layer 1 size of your network")
{PUBLIC_DONE}
"""),
    bilingual("""
The seed first printed **dilation 8** for layer 8 and corrected it to 2. Your layer 8 was
misprinted too: its dilation is printed under your table. With that dilation, how many input
positions does layer 8's kernel span along one axis, and does it fit the map it receives?
Assign `q5_d8_effective_kernel` (an int) and `q5_d8_fits` (True or False).
""", """
تمرین نخست برای لایهٔ ۸ **اتساع 8** نوشته بود و سپس آن را به 2 اصلاح کرد. اتساع لایهٔ ۸ شبکهٔ شما هم اشتباه چاپ
شده است: عدد آن زیر جدول شما آمده است. با آن اتساع، هستهٔ لایهٔ ۸ در راستای یک محور روی چند موقعیت ورودی گسترده
می‌شود، و آیا در نقشه‌ای که دریافت می‌کند جا می‌گیرد؟ `q5_d8_effective_kernel` (عدد صحیح) و `q5_d8_fits` (True یا
False) را مقداردهی کنید.
"""),
    solution_code("q5_dilation8", REFERENCE_ANSWERS["q5_dilation8"]),
    hidden_group("hidden_q5_table", 5, "every layer's output shape and parameters of your network, and the "
                 "misprinted dilation, against the network built in torch"),
    bilingual("""
What happens to your layer 8 with the misprinted dilation, in numbers and in a framework (what
does Keras or PyTorch do with it)? (written, graded by a TA)
""", """
با اتساعِ اشتباه چاپ‌شده برای لایهٔ ۸ شبکهٔ شما چه پیش می‌آید، به عدد و در یک چارچوب (Keras یا PyTorch با آن چه
می‌کنند)؟ (تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_dilation8", """
The kernel spans d * (k - 1) + 1 positions. In seed 000's network, dilation 8 makes layer 8's
5x5 kernel span 8 * (5 - 1) + 1 = 33 positions, but layer 8 receives an 11 x 11 map:
(11 - 33) // 2 + 1 is negative, so no output exists with 'valid' padding. PyTorch raises
"Kernel size can't be greater than actual input size"; Keras refuses the layer as well
(a negative output dimension). The network would need padding, a smaller dilation (2, the
correction) or a larger input. (For a TA: where a student's kernel fits their map, the answer
gives the output size, (n - span) // s + 1, and says the layer then sees most of its input.)
""", points=1),
]

OTHER_SEED_COUNTS = [
    bilingual("""
## 3. Parameter counts from the other seeds (5 points, hidden tests)

**(a) Seed 000, 6-e.** Trainable parameters of a fully connected layer followed by batch
normalisation (seed 000's went from 10 to 20 units; yours is printed below): assign
`fc_bn_trainable_params`.
""", """
## ۳. تعداد پارامترها در تمرین‌های دیگر (۵ نمره، آزمون پنهان)

**(الف) سری ۰۰۰، ۶-ه.** پارامترهای قابل آموزش یک لایهٔ تمام‌متصل که پس از آن نرمال‌سازی دسته‌ای آمده است
(لایهٔ سری ۰۰۰ از 10 به 20 واحد بود؛ لایهٔ شما در سلول زیر آمده است): `fc_bn_trainable_params` را مقداردهی کنید.
"""),
    locked_code("variant_fc_bn", 'variant.show("fc_bn")'),
    solution_code("fc_batchnorm", REFERENCE_ANSWERS["fc_batchnorm"]),
    hidden_group("hidden_fc_batchnorm", 1, "fc_bn_trainable_params of your layer against torch Linear + "
                 "BatchNorm1d"),
    bilingual("""
**(b) Seed 001, question 3.** Seed 001's 28 x 28 x 1 image went through Conv2D(32, 3x3,
stride 2, padding 'same') -> MaxPooling2D(2x2) -> Flatten -> Dense(5) (Keras layers); your
network, printed below, has your own sizes. Assign `q3_conv_shape` and `q3_pool_shape`
(height, width, channels), `q3_conv_params`, `q3_flatten_size` and `q3_dense_params`.
""", """
**(ب) سری ۰۰۱، پرسش ۳.** در سری ۰۰۱ یک تصویر `28 x 28 x 1` از Conv2D(32, 3x3، گام 2، padding='same') ->
MaxPooling2D(2x2) -> Flatten -> Dense(5) (لایه‌های Keras) می‌گذشت؛ شبکهٔ شما که در سلول زیر آمده اندازه‌های
خودش را دارد. `q3_conv_shape` و `q3_pool_shape` (ارتفاع، عرض، کانال‌ها)، `q3_conv_params`، `q3_flatten_size` و
`q3_dense_params` را مقداردهی کنید.
"""),
    locked_code("variant_q3", 'variant.show("q3")'),
    solution_code("seed001_q3", REFERENCE_ANSWERS["seed001_q3"]),
    hidden_group("hidden_seed001_q3", 2, "the shapes and parameters of your network against the model built "
                 "in torch as Keras builds it"),
    bilingual("""
**(c) Seed 004.** Parameters of **AlexNet** (the single-tower version: 227 x 227 x 3 input,
conv1 96 filters 11x11 stride 4, 3x3/2 max pooling after conv1, conv2 and conv5, conv2 256
5x5 padding 2, conv3-5 384, 384, 256 filters 3x3 padding 1, no groups, then fully connected
4096, 4096, 1000) and of **VGG16** (224 x 224 x 3, thirteen 3x3 convolutions with padding 1
in blocks of 64, 64 | 128, 128 | 256 x 3 | 512 x 3 | 512 x 3, a 2x2/2 max pooling after each
block, then 4096, 4096, 1000). Assign `alexnet_params` and `vgg16_params`.
""", """
**(ج) سری ۰۰۴.** پارامترهای **AlexNet** (نسخهٔ تک‌برجی: ورودی `227 x 227 x 3`، conv1 با 96 فیلتر 11x11 و گام
4، max pooling 3x3/2 پس از conv1، conv2 و conv5، conv2 با 256 فیلتر 5x5 و padding 2، conv3 تا conv5 با 384،
384 و 256 فیلتر 3x3 و padding 1، بدون گروه، سپس لایه‌های تمام‌متصل 4096، 4096 و 1000) و **VGG16** (ورودی
`224 x 224 x 3`، سیزده کانولوشن 3x3 با padding 1 در بلوک‌های 64, 64 | 128, 128 | 256 x 3 | 512 x 3 | 512 x 3،
یک max pooling 2x2/2 پس از هر بلوک، سپس 4096، 4096 و 1000). `alexnet_params` و `vgg16_params` را مقداردهی کنید.
"""),
    solution_code("classic_nets", """
### BEGIN SOLUTION
alexnet_params = (96 * (11 * 11 * 3 + 1) + 256 * (5 * 5 * 96 + 1) + 384 * (3 * 3 * 256 + 1)
                  + 384 * (3 * 3 * 384 + 1) + 256 * (3 * 3 * 384 + 1)
                  + 4096 * (6 * 6 * 256 + 1) + 4096 * (4096 + 1) + 1000 * (4096 + 1))
vgg16_params = (64 * (3 * 3 * 3 + 1) + 64 * (3 * 3 * 64 + 1) + 128 * (3 * 3 * 64 + 1) + 128 * (3 * 3 * 128 + 1)
                + 256 * (3 * 3 * 128 + 1) + 2 * 256 * (3 * 3 * 256 + 1) + 512 * (3 * 3 * 256 + 1)
                + 5 * 512 * (3 * 3 * 512 + 1) + 4096 * (7 * 7 * 512 + 1) + 4096 * (4096 + 1) + 1000 * (4096 + 1))
### END SOLUTION
"""),
    public_tests("public_counts", f"""
for name in ("fc_bn_trainable_params", "q3_conv_params", "q3_flatten_size", "q3_dense_params",
             "alexnet_params", "vgg16_params"):
    assert isinstance(globals()[name], int), f"{{name}} must be an int"
assert len(q3_conv_shape) == 3 and len(q3_pool_shape) == 3, "shapes are (height, width, channels)"
{PUBLIC_DONE}
"""),
    hidden_group("hidden_classic_nets", 2, "alexnet_params and vgg16_params against the networks built in torch"),
    bilingual("""
Why do NiN and GoogLeNet need far fewer parameters than AlexNet and VGG16? Point at the
layers that hold most of AlexNet's and VGG16's parameters. (written, graded by a TA)
""", """
چرا NiN و GoogLeNet به پارامترهای بسیار کمتری از AlexNet و VGG16 نیاز دارند؟ لایه‌هایی را نشان دهید که بیشتر
پارامترهای AlexNet و VGG16 در آن‌هاست. (تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_nin_googlenet", """
Most of AlexNet's (about 58.6 of 62.4 million) and VGG16's (about 123.6 of 138.4 million)
parameters sit in the fully connected layers, above all the first one (9216 x 4096 and
25088 x 4096 weights). NiN removes the fully connected layers: 1x1 convolutions (an MLP per
pixel) bring the channels to the number of classes and global average pooling replaces the
classifier, which has no parameters. GoogLeNet's inception blocks use 1x1 convolutions to
reduce the channels before the 3x3 and 5x5 convolutions and also end with global average
pooling and a single small linear layer: about 7 million parameters (the theory notebook counts
them; the seed's "about 4 million" matches no count); the seed cites about 2 million for NiN.
""", points=2),
]

GAP_EXAMPLE = [
    bilingual("""
## 4. Seed 001: forward and backward through a convolution and global average pooling (5 points, hidden tests)

`conv2d_valid(x, w)` computes the single-channel cross-correlation used by deep-learning
frameworks (stride 1, no padding, the kernel is not flipped):
`O[i, j] = sum_{m, n} x[i + m, j + n] * w[m, n]`. A global average pooling (GAP) follows:
`L = mean(O)`. `gap_filter_gradient(x, w)` returns `dL/dw`, an array of `w`'s shape.
Use numpy only.
""", """
## ۴. سری ۰۰۱: گذر رو به جلو و رو به عقب از یک کانولوشن و global average pooling (۵ نمره، آزمون پنهان)

`conv2d_valid(x, w)` هم‌بستگی متقابل تک‌کاناله‌ای را حساب می‌کند که چارچوب‌های یادگیری عمیق به کار می‌برند
(گام 1، بدون padding، هسته وارونه نمی‌شود): `O[i, j] = sum_{m, n} x[i + m, j + n] * w[m, n]`. پس از آن یک
global average pooling (GAP) می‌آید: `L = mean(O)`. `gap_filter_gradient(x, w)` مقدار `dL/dw` را برمی‌گرداند،
آرایه‌ای هم‌شکل `w`. فقط از numpy استفاده کنید.
"""),
    solution_code("conv2d_valid", '''
def conv2d_valid(x, w):
    """Cross-correlation of a 2-D array x with a 2-D kernel w, stride 1, no padding."""
    ### BEGIN SOLUTION
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    rows, cols = x.shape[0] - w.shape[0] + 1, x.shape[1] - w.shape[1] + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.sum(x[i:i + w.shape[0], j:j + w.shape[1]] * w)
    return out
    ### END SOLUTION
'''),
    solution_code("gap_filter_gradient", '''
def gap_filter_gradient(x, w):
    """dL/dw for L = mean(conv2d_valid(x, w))."""
    ### BEGIN SOLUTION
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    rows, cols = x.shape[0] - w.shape[0] + 1, x.shape[1] - w.shape[1] + 1
    upstream = np.full((rows, cols), 1.0 / (rows * cols))
    return conv2d_valid(x, upstream)
    ### END SOLUTION
'''),
    bilingual("""
The seed's example was `X = [[2, 3, 4], [3, 1, 5], [4, -1, -2]]` and `F = [[0, 3], [1, -2]]`;
yours is printed below. Work it out by hand (then check it with your functions) and assign
`example_output` (the output as a list of lists), `example_gap` (L) and `example_dL_dF` (a
list of lists). The seed's key took `dL/dO = 1` everywhere: is that the gradient of
`L = mean(O)`?
""", """
مثال تمرین `X = [[2, 3, 4], [3, 1, 5], [4, -1, -2]]` و `F = [[0, 3], [1, -2]]` بود؛ مثال شما در سلول زیر آمده
است. آن را با دست حل کنید (سپس با تابع‌هایتان بررسی کنید) و `example_output` (خروجی به‌صورت فهرستی از فهرست‌ها)،
`example_gap` (همان L) و `example_dL_dF` (فهرستی از فهرست‌ها) را مقداردهی کنید. پاسخ‌نامهٔ تمرین `dL/dO = 1`
را همه‌جا فرض کرده بود: آیا این گرادیان `L = mean(O)` است؟
"""),
    locked_code("variant_gap", 'variant.show("gap")'),
    solution_code("gap_example", REFERENCE_ANSWERS["gap_example"]),
    public_tests("public_gap", f"""
seed_x = np.array([[2, 3, 4], [3, 1, 5], [4, -1, -2]])
seed_f = np.array([[0, 3], [1, -2]])
assert_close(conv2d_valid(seed_x, seed_f), [[10, 3], [9, 18]], name="conv2d_valid on the seed's example")
your_x, your_f = np.array(variant["gap"]["x"]), np.array(variant["gap"]["f"])
assert_close(conv2d_valid(your_x, your_f), example_output, name="conv2d_valid on your example")
assert_close(gap_filter_gradient(your_x, your_f), example_dL_dF, name="gap_filter_gradient on your example")
{PUBLIC_DONE}
"""),
    hidden_group("hidden_gap_example", 5, "conv2d_valid against torch, gap_filter_gradient against numeric "
                 "gradients, on random shapes; your example's answers"),
]

RECEPTIVE_FIELD = [
    bilingual("""
## 5. Seed 002: the receptive field of dilated convolutions (3 points, hidden tests)

A stack of L convolutions without padding; layer l has kernel `k_l`, dilation `d_l` and
stride `s_l` (lists, first layer first). `receptive_field(kernels, dilations, strides)`
returns how many input positions (along one axis) one output unit of the last layer
depends on. `relative_receptive_field(kernels, dilations, strides, input_size)` returns it
as a fraction of the input size along that axis (seed 002's R_relative).
""", """
## ۵. سری ۰۰۲: میدان دریافت (receptive field) کانولوشن‌های متسع (۳ نمره، آزمون پنهان)

پشته‌ای از L کانولوشن بدون padding؛ لایهٔ l هستهٔ `k_l`، اتساع `d_l` و گام `s_l` دارد (فهرست‌ها، لایهٔ اول
نخست). `receptive_field(kernels, dilations, strides)` برمی‌گرداند که یک واحد خروجی لایهٔ آخر (در راستای یک محور)
به چند موقعیت ورودی وابسته است. `relative_receptive_field(kernels, dilations, strides, input_size)` آن را به‌صورت
کسری از اندازهٔ ورودی در همان محور برمی‌گرداند (`R_relative` در سری ۰۰۲).
"""),
    solution_code("receptive_field", '''
def receptive_field(kernels, dilations, strides):
    """Input positions seen by one unit of the last layer, along one axis."""
    ### BEGIN SOLUTION
    field, jump = 1, 1
    for kernel, dilation, stride in zip(kernels, dilations, strides):
        field += dilation * (kernel - 1) * jump
        jump *= stride
    return field
    ### END SOLUTION


def relative_receptive_field(kernels, dilations, strides, input_size):
    """The receptive field as a fraction of the input size."""
    ### BEGIN SOLUTION
    return receptive_field(kernels, dilations, strides) / input_size
    ### END SOLUTION
'''),
    public_tests("public_receptive_field", f"""
assert_equal_number(receptive_field([3, 3], [1, 1], [1, 1]), 5, name="two 3x3 convolutions")
assert_equal_number(receptive_field([3], [2], [1]), 5, name="one 3x3 convolution with dilation 2")
assert_close(relative_receptive_field([3, 3], [1, 1], [1, 1], 10), 0.5, name="relative, input 10")
{PUBLIC_DONE}
"""),
    hidden_group("hidden_receptive_field", 3, "random stacks (kernels, dilations, strides) against impulse "
                 "probing through torch convolutions"),
    bilingual("""
Seed 002, 2: you want a relative receptive field above a threshold T at the lowest cost
(FLOPs). How should the dilations and strides be chosen, and does the answer depend on the
number of layers L? (written, graded by a TA)
""", """
سری ۰۰۲، ۲: می‌خواهید میدان دریافت نسبی با کمترین هزینه (FLOPs) از آستانهٔ T بیشتر شود. اتساع‌ها و گام‌ها را
چگونه باید انتخاب کرد، و آیا پاسخ به تعداد لایه‌ها L بستگی دارد؟ (تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_rf_tradeoff", """
With R = 1 + sum_l d_l (k_l - 1) prod_{i<l} s_i, we need R / N > T. Dilation widens the
field at no cost in FLOPs per output; stride also widens it (multiplicatively, for all later
layers) and cuts the FLOPs of every later layer by s^2, but loses resolution. So: grow the
dilations (for example exponentially, d_l = 2^(l-1), without gaps larger than the kernel so
no input is skipped) and put strides early only as far as the task tolerates lost
resolution; choose the smallest L and d_l with 1 + sum d_l (k_l - 1) prod s_i >= T N. It
depends on L: every layer adds FLOPs and adds to R, so with more layers smaller dilations
suffice, and the optimum balances the number of layers against their dilations.
""", points=2),
]

CELLS = [
    bilingual("""
# Convolution arithmetic, checked by an oracle

Shape and parameter questions from the seed homeworks (000, 001, 002, 004). You write small
numpy functions and fill answer variables; a few written answers are graded by a TA.

* Use `math` and `numpy` only. Budget: no training; every cell runs in seconds on any laptop.
* **Hidden tests grade your work** against real layers (torch and Keras) built by the
  grader, on the seed's networks and on fresh random layer configurations. The public tests
  below check the basics only.
* The grader loads your notebook's imports, functions and **constant assignments** (literal
  values and arithmetic expressions) without running the other cells: answer variables
  must not call functions.
* **Your numbers are your own.** The networks and the example of sections 2 to 4 are drawn
  for each student from their student id (`hwtools.variants`); the cells that show them print
  yours, and the grader grades the answers for the variant of the id you hand in under.
  Answers copied from another student's variant lose their points.
""" + "\n* " + LANGUAGE_NOTE_EN, """
# حساب کانولوشن، بررسی‌شده با یک مرجع (oracle)

پرسش‌های شکل و تعداد پارامتر از تمرین‌های ۰۰۰، ۰۰۱، ۰۰۲ و ۰۰۴. تابع‌های کوچک numpy می‌نویسید و متغیرهای پاسخ
را پر می‌کنید؛ چند پاسخ تشریحی را دستیار آموزشی تصحیح می‌کند.

* فقط از `math` و `numpy` استفاده کنید. بودجه: بدون آموزش؛ هر سلول روی هر لپ‌تاپی در چند ثانیه اجرا می‌شود.
* **آزمون‌های پنهان کار شما را** با لایه‌های واقعی (torch و Keras) که تصحیح‌گر می‌سازد، روی شبکه‌های تمرین و
  روی پیکربندی‌های تصادفی تازه مقایسه می‌کنند. آزمون‌های عمومی زیر فقط موارد پایه را بررسی می‌کنند.
* تصحیح‌گر importها، تابع‌ها و **مقداردهی‌های ثابت** نوت‌بوک شما (مقدار صریح و عبارت حسابی) را بدون اجرای
  سلول‌های دیگر بارگذاری می‌کند: متغیرهای پاسخ نباید تابعی را فراخوانی کنند.
* **اعداد شما مال خودتان است.** شبکه‌ها و مثال بخش‌های ۲ تا ۴ برای هر دانشجو از شناسهٔ دانشجویی‌اش
  (`hwtools.variants`) ساخته می‌شوند؛ سلول‌هایی که آن‌ها را نشان می‌دهند اعداد شما را چاپ می‌کنند، و تصحیح‌گر
  پاسخ‌ها را برای نسخهٔ شناسه‌ای تصحیح می‌کند که با آن تحویل می‌دهید. پاسخ‌هایی که از نسخهٔ دانشجوی دیگری رونویسی
  شوند نمره‌شان را از دست می‌دهند.
""" + "\n* " + LANGUAGE_NOTE_FA),
    locked_code("setup", """
import math

import numpy as np

from hwtools import variants
from hwtools.checks import assert_close, assert_equal_number

variant = variants.for_student("cnn_arithmetic")  # your numbers, drawn from your student id
print(f"The numbers of this notebook are those of student {variant.student!r}.")
"""),
    *LAYER_ARITHMETIC,
    *SEED000_Q5,
    *OTHER_SEED_COUNTS,
    *GAP_EXAMPLE,
    *RECEPTIVE_FIELD,
    hand_in_fa(NOTEBOOK),
]

if __name__ == "__main__":
    write_notebook(NOTEBOOK, CELLS)
