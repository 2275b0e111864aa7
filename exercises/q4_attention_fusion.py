"""Question 4 — fusion with fixed attention weights (§12 算法编程题1：基于注意力机制的多模态特征融合).

Write `attention_fusion` below, then check it with `python -m grader exercises/`.
在下面实现 `attention_fusion`，然后用 `python -m grader exercises/` 自查。
"""


def attention_fusion(vector_text, vector_image, vector_audio):
  """Fuse three modality vectors with the article's fixed weights: 0.5·text + 0.3·image + 0.2·audio.

  Task: return 0.5·text + 0.3·image + 0.2·audio, element by element (the article's weights
  alpha_text = 0.5, alpha_image = 0.3, alpha_audio = 0.2).

  Shapes: three vectors [d] (always the same length; d may be 0) -> [d].
  You may return a list, a tuple, a numpy or a jax array, in float32 or float64.

  The article's example (its own call is the first graded case):
  >>> attention_fusion([1, 2, 3], [4, 5, 6], [7, 8, 9])
  [3.1, 4.1, 5.1]

  The article printed [7.8, 8.9, 9.0]: that is WRONG (a known erratum). Its own code computes
  0.5·1 + 0.3·4 + 0.2·7 = 3.1, and so on: [3.1, 4.1, 5.1]. Also, fixed weights are not
  attention: attention computes its weights from the data (see Part II).

  Second visible case:
  >>> attention_fusion([10, -20], [5, 0], [-5, 1])
  [5.5, -9.8]

  任务：逐元素返回 0.5·text + 0.3·image + 0.2·audio（原文的权重 alpha_text = 0.5、alpha_image = 0.3、
  alpha_audio = 0.2）。

  形状：三个向量 [d]（长度总是相同；d 可以为 0）-> [d]。可以返回列表、元组、numpy 或 jax 数组，
  float32 或 float64 均可。

  原文示例（第一个评分用例）：attention_fusion([1, 2, 3], [4, 5, 6], [7, 8, 9])。原文打印
  [7.8, 8.9, 9.0]：这是错的（已知勘误）。原文自己的代码算出 0.5·1 + 0.3·4 + 0.2·7 = 3.1，依此类推，
  即 [3.1, 4.1, 5.1]。另外，固定权重并不是注意力：注意力的权重是由数据算出来的（见第二部分）。

  第二个公开用例：attention_fusion([10, -20], [5, 0], [-5, 1]) 应返回 [5.5, -9.8]。
  """
  raise NotImplementedError("attention_fusion: write your answer here / 在此实现")
