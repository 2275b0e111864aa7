"""docs/errata.md's prose repeats values: the English explanations and the Chinese summary must say what the
zoo computes and what the table says the article printed (needs no source article; test_ex_errata.py checks
the tables against the article itself)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jax
import numpy as np
import pytest

from zoo import article

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "errata.md").read_text(encoding="utf-8")
VS = ([1, 2, 3], [4, 5, 6], [7, 8, 9])


def _section(heading: str, until: str = "\n## ") -> str:
  return PAGE.split(heading, 1)[1].split(until, 1)[0]


def _table_rows() -> dict[str, list[str]]:
  """{question: cells} of the printed-outputs table."""
  rows = [ln for ln in _section("## 2. The printed outputs").splitlines() if ln.startswith("|")][2:]
  cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
  return {c[0]: c for c in cells}


def _values(cell: str) -> list:
  return [ast.literal_eval(v) for v in re.findall(r"`(\[[^`]*\])`", cell)]


@pytest.fixture(scope="module")
def zoo_values() -> dict[str, np.ndarray]:
  with jax.enable_x64(True):
    return {
      "attention fusion": np.asarray(article.attention_fusion(*VS)),
      "encoder-decoder": np.asarray(article.decode(article.encode([1, 2, 3, 4, 5]))),
      "self-attention fusion": np.asarray(article.self_attention_fusion(*VS)),
    }


def _same(a, b) -> bool:
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return a.shape == b.shape and np.allclose(a, b, rtol=0, atol=5e-9)


def test_table_correct_column_is_the_zoos(zoo_values):
  rows = _table_rows()
  for q, want in zoo_values.items():
    (correct,) = _values(rows[q][4])
    assert _same(correct, want), q


def test_english_explanations(zoo_values):
  why = _section("Why the three wrong ones are wrong:", "\nThe exercises")
  rows = _table_rows()
  # Attention fusion: every "w·a + w·b + w·c = r" uses the article's weights and vectors, adds up, and is the zoo's.
  sums = re.findall(r"(\d\.\d)·(-?\d+) \+ (\d\.\d)·(-?\d+) \+ (\d\.\d)·(-?\d+) = (-?\d+(?:\.\d+)?)", why)
  assert len(sums) == 3
  for c, (w1, a, w2, b, w3, x, r) in enumerate(sums):
    assert (float(w1), float(w2), float(w3)) == article.ARTICLE_ATTENTION_WEIGHTS
    assert (int(a), int(b), int(x)) == (VS[0][c], VS[1][c], VS[2][c])
    assert float(r) == pytest.approx(float(w1) * int(a) + float(w2) * int(b) + float(w3) * int(x), abs=1e-12)
    assert float(r) == pytest.approx(zoo_values["attention fusion"][c], abs=1e-12)
  attention = why.split("- **Attention fusion.**", 1)[1].split("\n- **", 1)[0]
  assert _values(attention) == _values(rows["attention fusion"][2])  # "The printed [7.8, 8.9, 9.0]"
  encdec = why.split("- **Encoder-decoder.**", 1)[1].split("\n- **", 1)[0]
  (said,) = _values(encdec)
  assert _same(said, zoo_values["encoder-decoder"])
  # "halved once too often": the printed value is the correct one halved.
  assert _same(np.asarray(_values(rows["encoder-decoder"][2])[0]), zoo_values["encoder-decoder"] / 2)
  # Self-attention fusion: the TypeError's message is Python's own.
  (message,) = re.findall(r"`TypeError: (.*?)`", why)
  with pytest.raises(TypeError) as e:
    len(1)
  assert message == str(e.value)


def test_chinese_summary(zoo_values):
  zh = _section("## 中文摘要", "\n## ")
  rows = _table_rows()
  for q, name in (("attention fusion", "注意力融合应为"), ("encoder-decoder", "编码器-解码器应为")):
    m = re.search(re.escape(name) + r" `(\[[^`]*\])`（原文打印 `(\[[^`]*\])`", zh)
    assert m, name
    assert _same(ast.literal_eval(m.group(1)), zoo_values[q]), q
    assert ast.literal_eval(m.group(2)) == _values(rows[q][2])[0], q
  m = re.search(r"自注意力融合.*?正确结果为\s*`(\[[^`]*\])`", zh, flags=re.S)
  assert m and _same(ast.literal_eval(m.group(1)), zoo_values["self-attention fusion"])
  assert (
    "`TypeError`" in zh
    and _values(rows["self-attention fusion"][3]) == []
    and "TypeError" in rows["self-attention fusion"][3]
  )
  # The count of chat artefacts is the English section's.
  (en,) = re.findall(r"\*\*(\d+)\*\* `<\|assistant\|>` markers", PAGE)
  (cn,) = re.findall(r"(\d+) 处 `<\|assistant\|>`", zh)
  assert en == cn
  # The three questions whose printed values are right, by name.
  for q, name in (("time alignment", "时间对齐"), ("feature alignment", "特征对齐"), ("feature fusion", "特征融合")):
    assert rows[q][5] == "right" and name in zh.split("打印值正确")[0]
