"""Question 2 — feature alignment (算法编程题2：基于特征对齐的多模态数据对齐).

Write `feature_align` below, then check it with `python -m grader exercises/`.
在下面实现 `feature_align`，然后用 `python -m grader exercises/` 自查。
"""


def feature_align(A, B):
  """Pair the feature dimensions of two vectors one to one; drop those only one side has.

  Task: `A` and `B` are feature vectors (Python lists of numbers). Pair dimension i of A with
  dimension i of B, keep the dimensions both have (the first k = min(len(A), len(B))), and
  return the pair (aligned_A, aligned_B).

  Shapes: A [n], B [m] -> (aligned_A [k], aligned_B [k]), k = min(n, m).
  Either input may be empty; the result is then a pair of empty sequences.
  You may return lists, tuples, numpy or jax arrays, in float32 or float64.

  The article's example (its own call is the first graded case):
  >>> feature_align([1, 2, 3], [4, 5, 6])
  ([1, 2, 3], [4, 5, 6])

  The article printed [1, 2, 3] and [4, 5, 6]: that is right, once the definition comes before
  the call (as printed, the block stops with NameError). The article's code is word for word
  the code of question 1: truncating two vectors is not what "feature alignment" usually
  means; real feature alignment learns a shared space (see clip_loss in Part II).

  Second visible case:
  >>> feature_align([7, -2.5, 0, 1], [3, 9])
  ([7, -2.5], [3, 9])

  任务：`A` 和 `B` 是特征向量（数字列表）。把 A 的第 i 维与 B 的第 i 维一一配对，保留两者都有的维度
  （前 k = min(len(A), len(B)) 维），返回二元组 (aligned_A, aligned_B)。

  形状：A [n]，B [m] -> (aligned_A [k], aligned_B [k])，k = min(n, m)。
  任一输入都可能为空，此时返回两个空序列。可以返回列表、元组、numpy 或 jax 数组，float32 或 float64 均可。

  原文示例（第一个评分用例）：feature_align([1, 2, 3], [4, 5, 6])。原文打印 [1, 2, 3] 和 [4, 5, 6]：
  把定义移到调用之前后结果正确（照原样运行会抛出 NameError）。原文代码与第 1 题逐字相同：截断两个向量
  并不是通常意义上的“特征对齐”；真正的特征对齐要学习一个共享空间（见第二部分的 clip_loss）。

  第二个公开用例：feature_align([7, -2.5, 0, 1], [3, 9]) 应返回 ([7, -2.5], [3, 9])。
  """
  raise NotImplementedError("feature_align: write your answer here / 在此实现")
