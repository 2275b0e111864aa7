"""Question 5 — the article's toy encoder-decoder (§12 算法编程题2：基于编码器-解码器架构的多模态文本生成).

Write `encode` and `decode` below (graded as two functions), then check them with
`python -m grader exercises/`.
在下面实现 `encode` 和 `decode`（作为两个函数分别评分），然后用 `python -m grader exercises/` 自查。
"""


def encode(vector):
  """The article's toy encoder: 2·vector.

  Task: return every element of `vector` doubled.

  Shapes: [d] (d may be 0) -> [d]. You may return a list, a tuple, a numpy or a jax array,
  in float32 or float64.

  The article's example (its own call is the first graded case):
  >>> encode([1, 2, 3, 4, 5])
  [2, 4, 6, 8, 10]

  The article never prints encode's own result; it prints decode(encode(...)) (see decode).

  Second visible case:
  >>> encode([-1.5, 0, 3])
  [-3.0, 0, 6]

  任务：把 `vector` 的每个元素乘以 2 后返回。

  形状：[d]（d 可以为 0）-> [d]。可以返回列表、元组、numpy 或 jax 数组，float32 或 float64 均可。

  原文示例（第一个评分用例）：encode([1, 2, 3, 4, 5]) 应返回 [2, 4, 6, 8, 10]。原文没有单独打印
  encode 的结果，它打印的是 decode(encode(...))（见 decode）。

  第二个公开用例：encode([-1.5, 0, 3]) 应返回 [-3.0, 0, 6]。
  """
  raise NotImplementedError("encode: write your answer here / 在此实现")


def decode(encoded_vector):
  """The article's toy decoder, the inverse of `encode`: encoded_vector / 2.

  Task: return every element of `encoded_vector` halved, so that decode(encode(v)) == v.

  Shapes: [d] (d may be 0) -> [d]. You may return a list, a tuple, a numpy or a jax array,
  in float32 or float64.

  The article's example is decode(encode([1, 2, 3, 4, 5])), that is (the first graded case):
  >>> decode([2, 4, 6, 8, 10])
  [1.0, 2.0, 3.0, 4.0, 5.0]

  The article printed [0.5, 1.0, 1.5, 2.0, 2.5]: that is WRONG (a known erratum). decode
  halves what encode doubled, so the round trip gives back [1.0, 2.0, 3.0, 4.0, 5.0]. The
  article's "multimodal" example also never uses its image features (vector_image).

  Second visible case:
  >>> decode([-3, 1, 7])
  [-1.5, 0.5, 3.5]

  任务：把 `encoded_vector` 的每个元素除以 2 后返回，使 decode(encode(v)) == v。

  形状：[d]（d 可以为 0）-> [d]。可以返回列表、元组、numpy 或 jax 数组，float32 或 float64 均可。

  原文示例是 decode(encode([1, 2, 3, 4, 5]))，即 decode([2, 4, 6, 8, 10])（第一个评分用例）。
  原文打印 [0.5, 1.0, 1.5, 2.0, 2.5]：这是错的（已知勘误）。decode 把 encode 乘上的 2 除回去，
  往返一次得到原向量 [1.0, 2.0, 3.0, 4.0, 5.0]。原文这个“多模态”例子也从未用到图像特征 vector_image。

  第二个公开用例：decode([-3, 1, 7]) 应返回 [-1.5, 0.5, 3.5]。
  """
  raise NotImplementedError("decode: write your answer here / 在此实现")
