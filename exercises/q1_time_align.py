"""Question 1 — time alignment (算法编程题1：基于时间对齐的多模态数据对齐).

Write `time_align` below, then check it with `python -m grader exercises/`.
在下面实现 `time_align`，然后用 `python -m grader exercises/` 自查。
"""


def time_align(A, B):
  """Align two streams sampled on one clock; return the samples both streams cover.

  Task: `A` and `B` are two streams (Python lists of numbers) sampled on the same clock:
  sample i of each stream was taken at time i. Keep the instants both streams cover, that is
  the first k = min(len(A), len(B)) samples of each, and return the pair (aligned_A, aligned_B).

  Shapes: A [n], B [m] -> (aligned_A [k], aligned_B [k]), k = min(n, m).
  Either input may be empty; the result is then a pair of empty sequences.
  You may return lists, tuples, numpy or jax arrays, in float32 or float64.

  The article's example (its own call is the first graded case):
  >>> time_align([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
  ([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])

  The article printed [1, 2, 3, 4, 5] and [2, 4, 6, 8, 10]: that is right. But its code block
  calls time_align before defining it, so as printed it stops with NameError. Note also that
  the article speaks of "timestamps" while the code only matches positions: this works only
  when both streams start together and share one sampling rate (see docs/errata.md).

  Second visible case:
  >>> time_align([0.5, -1, 2], [3, 4, 5, 6])
  ([0.5, -1, 2], [3, 4, 5])

  任务：`A` 和 `B` 是在同一时钟上采样的两个序列（数字列表）：每个序列的第 i 个样本取自时刻 i。
  保留两个序列都覆盖到的时刻，即各取前 k = min(len(A), len(B)) 个样本，返回二元组
  (aligned_A, aligned_B)。

  形状：A [n]，B [m] -> (aligned_A [k], aligned_B [k])，k = min(n, m)。
  任一输入都可能为空，此时返回两个空序列。可以返回列表、元组、numpy 或 jax 数组，float32 或 float64 均可。

  原文示例（原文自己的调用就是第一个评分用例）：time_align([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])。
  原文打印 [1, 2, 3, 4, 5] 和 [2, 4, 6, 8, 10]：结果正确。但原文代码在定义 time_align 之前就调用了它，
  照原样运行会抛出 NameError。另外原文说“按照时间戳对齐”，而代码只是按位置配对：只有当两个序列
  同时开始、采样率相同时才成立（见 docs/errata.md）。

  第二个公开用例：time_align([0.5, -1, 2], [3, 4, 5, 6]) 应返回 ([0.5, -1, 2], [3, 4, 5])。
  """
  raise NotImplementedError("time_align: write your answer here / 在此实现")
