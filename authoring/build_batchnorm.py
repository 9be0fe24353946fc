"""Builds source/batchnorm/batchnorm.ipynb (run: python authoring/build_batchnorm.py)."""
from pathlib import Path

from hwtools.course.authoring import (bonus_answer, hidden_group, locked_code, public_tests, solution_code,
                                      write_notebook, written_answer)
from hwtools.course.bilingual import LANGUAGE_NOTE_EN, LANGUAGE_NOTE_FA, bilingual, hand_in_fa

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "batchnorm" / "batchnorm.ipynb"

CELLS = [
    bilingual(f"""
# Batch normalisation: the forward pass

Seed 000, question 6. You complete `batchnorm_forward` in **`forward_batchnorm.py`** (beside
this notebook) and answer three questions below.

* Run the public tests here as often as you like. They check the basics only; **hidden tests
  also grade your work** (other shapes and dtypes, tiny variances, running averages over
  several steps, test mode, not modifying the input), against an independent reference.
* Budget: pure numpy, seconds on any laptop.
* Submit both files: `forward_batchnorm.py` and this notebook.
* {LANGUAGE_NOTE_EN}
""", f"""
# نرمال‌سازی دسته‌ای: گذر رو به جلو

سری ۰۰۰، پرسش ۶. تابع `batchnorm_forward` را در **`forward_batchnorm.py`** (کنار همین نوت‌بوک) کامل
می‌کنید و به سه پرسش زیر پاسخ می‌دهید.

* آزمون‌های عمومی این‌جا را هر چند بار که خواستید اجرا کنید. آن‌ها فقط موارد پایه را بررسی می‌کنند؛
  **آزمون‌های پنهان هم کار شما را نمره می‌دهند** (شکل‌ها و نوع‌های دادهٔ دیگر، واریانس‌های بسیار کوچک،
  میانگین‌های متحرک در چند گام، حالت آزمون، تغییر ندادن ورودی) و با یک مرجع مستقل مقایسه می‌کنند.
* بودجه: فقط numpy، چند ثانیه روی هر لپ‌تاپی.
* هر دو فایل را تحویل دهید: `forward_batchnorm.py` و همین نوت‌بوک.
* {LANGUAGE_NOTE_FA}
"""),
    locked_code("setup", """
import importlib

import numpy as np

import forward_batchnorm
from hwtools.checks import assert_close

importlib.reload(forward_batchnorm)  # pick up your latest edits of forward_batchnorm.py
batchnorm_forward = forward_batchnorm.batchnorm_forward
"""),
    bilingual("""
## 1. `batchnorm_forward` (14 points, hidden tests)

Open `forward_batchnorm.py` and follow its docstring (CS231n's signature and conventions:
biased batch variance, `running = momentum * running + (1 - momentum) * batch_stat`).
Then run the public tests below; re-run the setup cell after each edit.
""", """
## ۱. `batchnorm_forward` (۱۴ نمره، آزمون پنهان)

فایل `forward_batchnorm.py` را باز کنید و docstring آن را دنبال کنید (امضا و قراردادهای CS231n:
واریانس اریب دسته، `running = momentum * running + (1 - momentum) * batch_stat`). سپس آزمون‌های عمومی
زیر را اجرا کنید؛ پس از هر ویرایش، سلول setup را دوباره اجرا کنید.
"""),
    public_tests("public_batchnorm", """
rng = np.random.default_rng(0)
x = rng.normal(3.0, 2.0, size=(64, 5))
out, cache = batchnorm_forward(x, np.ones(5), np.zeros(5), {"mode": "train"})
assert_close(out.mean(axis=0), np.zeros(5), atol=1e-7, name="per-feature mean of out")
assert_close(out.std(axis=0), np.ones(5), atol=1e-3, name="per-feature std of out")
gamma, beta = np.arange(1.0, 6.0), np.linspace(-1, 1, 5)
out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
assert_close(out.mean(axis=0), beta, atol=1e-7, name="mean of out with beta")
assert_close(out.std(axis=0), gamma, atol=1e-2, name="std of out with gamma")
print("Public tests passed. Hidden tests will also grade this function.")
"""),
    hidden_group("hidden_train_forward", 6, "train-mode output on several shapes, float32 and float64, "
                 "tiny variances, large offsets, a batch of one"),
    hidden_group("hidden_running_stats", 3, "running mean and variance after one and several train steps"),
    hidden_group("hidden_test_mode", 3, "test mode with given running statistics and after training"),
    hidden_group("hidden_contract", 2, "x not modified in place; an unknown mode raises ValueError"),
    bilingual("""
## 2. Questions from the seed

**(a) Bonus:** What is `eps` for in the normalisation `(x - mean) / sqrt(var + eps)`? What would
go wrong without it, and for which features? (written, graded by a TA; a **bonus** question, as
in the seed: up to 1 extra point added to your score, the assignment's maximum stays the same,
and leaving it out costs nothing)
""", """
## ۲. پرسش‌های تمرین

**(الف) نمرهٔ امتیازی:** `eps` در نرمال‌سازی `(x - mean) / sqrt(var + eps)` برای چیست؟ بدون آن چه مشکلی
پیش می‌آید و برای کدام ویژگی‌ها؟ (تشریحی، با تصحیح دستیار آموزشی؛ پرسشی **امتیازی**، مانند سری تمرین: تا 1
نمرهٔ اضافه به نمرهٔ شما افزوده می‌شود، نمرهٔ کل تمرین تغییر نمی‌کند و پاسخ ندادن به آن نمره‌ای کم نمی‌کند)
"""),
    bonus_answer("answer_eps", """
`eps` keeps the denominator away from zero. A feature that is constant (or nearly so) in a
batch has variance 0, and `x - mean` is 0 too: without `eps` we would compute 0/0 (NaN) or
divide by a tiny number and blow noise up. With `eps` inside the square root the result is
finite and the feature is simply scaled by `1/sqrt(eps)`.
""", bonus_points=1),
    bilingual("""
**(b)** In train mode, what does batch norm output for a batch of **one** sample, and why?
(written, graded by a TA)
""", """
**(ب)** در حالت آموزش، نرمال‌سازی دسته‌ای برای دسته‌ای با **یک** نمونه چه خروجی‌ای می‌دهد، و چرا؟
(تشریحی، با تصحیح دستیار آموزشی)
"""),
    written_answer("answer_batch_of_one", """
It outputs `beta`. With one sample the batch mean is the sample itself and the variance is 0,
so `x - mean = 0`, `xhat = 0 / sqrt(0 + eps) = 0` and `out = gamma * 0 + beta = beta`: the
input is lost, which is why batch norm needs batches larger than one when training.
""", points=1),
    bilingual("""
**(c)** How many **trainable** parameters does a fully connected layer from 10 to 20 units
followed by batch normalisation have? Assign the number to `bn_trainable_params`
(autograded). Hint: the running averages are not trained.
""", """
**(ج)** یک لایهٔ تمام‌متصل از 10 به 20 واحد که پس از آن نرمال‌سازی دسته‌ای آمده است، چند پارامتر
**قابل آموزش** دارد؟ عدد را به `bn_trainable_params` نسبت دهید (تصحیح خودکار). راهنمایی: میانگین‌های
متحرک آموزش داده نمی‌شوند.
"""),
    solution_code("answer_param_count", """
### BEGIN SOLUTION
bn_trainable_params = 10 * 20 + 20 + 2 * 20
### END SOLUTION
"""),
    public_tests("public_param_count", """
assert isinstance(bn_trainable_params, int), "bn_trainable_params must be an int"
print("bn_trainable_params is an int. Hidden tests will check its value.")
"""),
    hidden_group("hidden_param_count", 1, "the value of bn_trainable_params"),
    hand_in_fa(NOTEBOOK),
]

if __name__ == "__main__":
    write_notebook(NOTEBOOK, CELLS)
