"""Question 3 — feature fusion (算法编程题3：多模态特征融合).

Write `feature_fusion` below, then check it with `python -m grader exercises/`.
在下面实现 `feature_fusion`，然后用 `python -m grader exercises/` 自查。
"""


def feature_fusion(vector_text, vector_image, vector_audio):
  """Fuse three modality vectors by element-wise summation.

  Task: return text + image + audio, element by element.

  Shapes: three vectors [d] (always the same length; d may be 0) -> [d].
  You may return a list, a tuple, a numpy or a jax array, in float32 or float64.

  The article's example (its own call is the first graded case):
  >>> feature_fusion([1, 2, 3], [4, 5, 6], [7, 8, 9])
  [12, 15, 18]

  The article printed [12, 15, 18]: that is right, once the definition comes before the call
  (as printed, the block stops with NameError).

  Second visible case:
  >>> feature_fusion([1.5, -2], [0.25, 4], [-3, 10])
  [-1.25, 12]

  任务：逐元素返回 text + image + audio。

  形状：三个向量 [d]（长度总是相同；d 可以为 0）-> [d]。可以返回列表、元组、numpy 或 jax 数组，
  float32 或 float64 均可。

  原文示例（第一个评分用例）：feature_fusion([1, 2, 3], [4, 5, 6], [7, 8, 9])。原文打印 [12, 15, 18]：
  把定义移到调用之前后结果正确（照原样运行会抛出 NameError）。

  第二个公开用例：feature_fusion([1.5, -2], [0.25, 4], [-3, 10]) 应返回 [-1.25, 12]。
  """
  raise NotImplementedError("feature_fusion: write your answer here / 在此实现")
