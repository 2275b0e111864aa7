"""Question 6 — self-attention fusion (§12 算法编程题3：基于自注意力的多模态特征融合).

Write `self_attention` and `self_attention_fusion` below (graded as two functions), then check
them with `python -m grader exercises/`.
在下面实现 `self_attention` 和 `self_attention_fusion`（作为两个函数分别评分），然后用
`python -m grader exercises/` 自查。
"""


def self_attention(vectors):
  """Self-attention over n token vectors, without learned projections: softmax(X·Xᵀ/√d)·X.

  Task: `vectors` is a list of n vectors of length d (the tokens), the matrix X [n, d].
  Score every pair of tokens by their dot product divided by √d, turn each row of scores into
  weights with a softmax, and return each token's weighted mean of all tokens: the n×d matrix
  softmax(X·Xᵀ/√d)·X, the softmax taken over each row.

  Shapes: [n, d] (n >= 1, d >= 1) -> [n, d]. Values lie in [-5, 5]. You may return nested
  lists, a numpy or a jax array, in float32 or float64.
  Hint: subtract each row's maximum score before exp(); the softmax does not change.

  The first graded case is the article's three vectors as tokens:
  >>> self_attention([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
  [[6.99990799, 7.99990799, 8.99990799], [7.0, 8.0, 9.0], [7.0, 8.0, 9.0]]
  (the last two rows differ from 7, 8, 9 by less than 1e-10).

  The article's own self_attention takes ONE vector and weights element i by i / len(vector):
  by position only, not by similarity, so it is not self-attention; and the article calls it
  on single numbers, which raises TypeError (see self_attention_fusion).

  Second visible case:
  >>> self_attention([[1, 0], [0, 1]])
  [[0.66976155, 0.33023845], [0.33023845, 0.66976155]]

  任务：`vectors` 是 n 个长度为 d 的向量（token），即矩阵 X [n, d]。用两两点积除以 √d 给每对 token 打分，
  对每一行分数做 softmax 得到权重，返回每个 token 对所有 token 的加权平均：n×d 矩阵
  softmax(X·Xᵀ/√d)·X，softmax 按行计算。

  形状：[n, d]（n >= 1，d >= 1）-> [n, d]。数值在 [-5, 5] 内。可以返回嵌套列表、numpy 或 jax 数组，
  float32 或 float64 均可。提示：在 exp() 之前先减去每行的最大分数，softmax 结果不变。

  第一个评分用例是把原文的三个向量当作 token：self_attention([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
  约为 [[6.99990799, 7.99990799, 8.99990799], [7, 8, 9], [7, 8, 9]]。
  原文自己的 self_attention 只接收一个向量，并按 i / len(vector) 给第 i 个元素加权：只看位置、
  不看相似度，所以不是自注意力；而且原文把它作用在单个数字上，会抛出 TypeError（见 self_attention_fusion）。

  第二个公开用例：self_attention([[1, 0], [0, 1]]) 约为 [[0.66976155, 0.33023845], [0.33023845, 0.66976155]]。
  """
  raise NotImplementedError("self_attention: write your answer here / 在此实现")


def self_attention_fusion(vector_text, vector_image, vector_audio):
  """Fuse three modality vectors: the mean over the three rows of self_attention([text, image, audio]).

  Task: treat the three modality vectors as three tokens, run `self_attention` on them, and
  return the mean of the three output rows.

  Shapes: three vectors [d] (d >= 1, always the same length) -> [d]. Values lie in [-5, 5].
  You may return a list, a tuple, a numpy or a jax array, in float32 or float64.

  The article's example (its own call is the first graded case):
  >>> self_attention_fusion([1, 2, 3], [4, 5, 6], [7, 8, 9])
  [6.99996933, 7.99996933, 8.99996933]

  The article printed [9.0, 10.5, 12.0]: that is WRONG (a known erratum). The article's code
  does not run at all: it calls self_attention(vector_text[i]) on a single number, and len()
  of a number raises TypeError. Its "self-attention" also only weights by position.

  Second visible case:
  >>> self_attention_fusion([1, 0], [0, 1], [1, 1])
  [0.71761900, 0.71761900]

  任务：把三个模态向量当作三个 token，对它们做 `self_attention`，返回三行输出的平均。

  形状：三个向量 [d]（d >= 1，长度总是相同）-> [d]。数值在 [-5, 5] 内。可以返回列表、元组、numpy 或
  jax 数组，float32 或 float64 均可。

  原文示例（第一个评分用例）：self_attention_fusion([1, 2, 3], [4, 5, 6], [7, 8, 9]) 应约为
  [6.99996933, 7.99996933, 8.99996933]。原文打印 [9.0, 10.5, 12.0]：这是错的（已知勘误）。
  原文代码根本无法运行：它对单个数字调用 self_attention(vector_text[i])，对数字求 len() 会抛出 TypeError。
  它的“自注意力”也只按位置加权。

  第二个公开用例：self_attention_fusion([1, 0], [0, 1], [1, 1]) 约为 [0.71761900, 0.71761900]。
  """
  raise NotImplementedError("self_attention_fusion: write your answer here / 在此实现")
