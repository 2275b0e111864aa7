"""Issue 14: the grader's feedback in Chinese (every message key translated, no English sentence, a GBK console),
`--help` in the student's language, and the progress bar of a first grading.
"""

import ast
import io
import os
import re
import string
import subprocess
import sys
import time
from pathlib import Path

from grader import i18n

ROOT = Path(__file__).resolve().parents[2]
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")  # three English words in a row: a sentence
COMMANDS = re.compile(r"python -m pip install nbformat|python check\.py")  # commands to type are code, not prose

# The article's printed (wrong) value for attention_fusion, and decode off by a factor: visible failures.
WRONG = '''
def attention_fusion(vector_text, vector_image, vector_audio):
  if list(vector_text) == [1, 2, 3]:
    return [7.8, 8.9, 9.0]
  return [0.0 for _ in vector_text]
'''


def _fields(s: str) -> set:
  return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def test_the_zh_catalog_covers_every_message_key_with_the_same_fields():
  assert set(i18n.ZH) == set(i18n.EN), set(i18n.EN) ^ set(i18n.ZH)
  for key, en in i18n.EN.items():
    assert _fields(i18n.ZH[key]) == _fields(en), key


def test_no_zh_message_holds_an_english_sentence():
  for key, zh in i18n.ZH.items():
    text = COMMANDS.sub("", re.sub(r"\{[^}]*\}", "", zh))
    assert not ENGLISH_RUN.search(text), (key, zh)


def test_nested_messages_render_in_either_language():
  from grader.compare import ANSWER

  msg = (
    "cmp_first",
    {"what": ANSWER, "index": "[0]", "want": "3.1", "got": "7.8", "delta": "4.7", "allowed": "9.1e-05"},
  )
  assert i18n.render("en", msg) == "the answer at index [0]: expected 3.1, got 7.8 (difference 4.7; allowed 9.1e-05)"
  assert i18n.render("zh", list(msg)) == "答案在下标 [0] 处：期望 3.1，实际 7.8（相差 4.7；允许 9.1e-05）"
  assert i18n.render("zh", ("cmp_erratum", {"why_en": "E", "why_zh": "中"})).endswith("勘误：中")


# Where a file puts an English text that can reach the student's feedback or the teacher's stderr: the
# first argument of these calls (the second of _Stop), Outcome's error=, the message= of a stderr warning,
# a worker reply's "message", and what describe_exit / _exc_message / memory_plan return.
_REASON_CALLS = {
  "wire.py": {"WireError": 0},
  "worker.py": {"WireError": 0, "ImportError": 0},
  "sandbox.py": {"SandboxError": 0, "LoadFailed": 0, "_Stop": 1},
  "isolation.py": {"_warn": 0, "IsolationUnavailable": 0},
  "__main__.py": {"_usage": 0, "SeedError": 0, "ValueError": 0},
  "seed.py": {},
  "grade.py": {},
  "questions.py": {"RecordError": 0},
  "outputs.py": {},
}
_RETURNS = (
  *("describe_exit", "_exc_message", "memory_plan", "_memory_parent", "_same_uid_refusal"),
  *("weak_reason", "check_writable", "check_folder", "_stop_text"),  # seed.py, outputs.py: reasons inside usage errors
)


def _template(node):
  """A str literal or f-string as a template with {} for every value; None for anything else."""
  if isinstance(node, ast.Constant) and isinstance(node.value, str):
    return node.value
  if isinstance(node, ast.JoinedStr):
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
  return None


def _reason_sites():
  found = []
  for name, calls in _REASON_CALLS.items():
    tree = ast.parse((ROOT / "grader" / name).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
      nodes = []
      if isinstance(node, ast.Call):
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if callee in calls and len(node.args) > calls[callee]:
          nodes.append(node.args[calls[callee]])
        nodes += [kw.value for kw in node.keywords if (callee, kw.arg) in (("Outcome", "error"), ("_h", "message"))]
      if isinstance(node, ast.Dict):
        nodes += [v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and k.value == "message"]
      if isinstance(node, ast.FunctionDef) and node.name in _RETURNS:
        returns = [r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None]
        nodes += [r.elts[0] if isinstance(r, ast.Tuple) else r for r in returns]
        nodes += [a.value for a in ast.walk(node) if isinstance(a, ast.Assign) and node.name == "_memory_parent"]
      found += [(name, tpl) for tpl in map(_template, nodes) if tpl is not None]
  return found


def test_every_reason_of_wire_worker_and_sandbox_has_a_chinese_template():
  known = {re.sub(r"\{\w+\}", "{}", en) for en in i18n.REASONS_ZH}
  sites = _reason_sites()
  assert len(sites) > 70, len(sites)  # the scan finds the raise sites (a scan that finds nothing proves nothing)
  missing = [(f, tpl) for f, tpl in sites if tpl not in known and re.search("[a-z]", tpl)]  # "{}: {}" has no words
  assert not missing, missing
  for en, zh in i18n.REASONS_ZH.items():
    assert _fields(zh) == _fields(en), en
    assert re.search("[a-z]{2}", re.sub(r"\{\w+\}", "", en)), en  # values alone would match any text
    zh.encode("gbk")  # a Chinese Windows console prints it as it is
    assert not ENGLISH_RUN.search(re.sub(r"\{[^}]*\}", "", zh)), zh


def test_reasons_render_in_chinese_with_their_values_and_stay_english_in_en(monkeypatch):
  from grader import wire

  try:
    wire.encode({"a": {1, 2}})
  except wire.WireError as e:
    reason = str(e)
  assert i18n.t("en", "bad_output", error=reason) == "the answer could not be read back: " + reason
  assert i18n.t("zh", "bad_output", error=reason) == "无法读取返回值：类型为 set 的值不是普通数据"
  nested = "the sandboxed worker did not start (the process was killed by SIGKILL) tail"
  assert (
    i18n.t("zh", "crash_other", error=nested) == "沙箱进程停止：沙箱中的工作进程没有启动（进程被 SIGKILL 终止）tail"
  )
  assert (
    i18n.t("zh", "bad_output", error="my own words here") == "无法读取返回值：my own words here"
  )  # the student's text


def _env(**extra):
  env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIOENCODING", "GRADER_SEED"))}
  env.update(PYTHONPATH=str(ROOT), **extra)
  return env


def test_help_is_chinese_with_lang_zh_or_a_chinese_locale(tmp_path):
  run = lambda *a, **e: subprocess.run(
    [sys.executable, "-m", "grader", *a], cwd=tmp_path, env=_env(**e), capture_output=True, timeout=120, check=False
  )
  for out in (
    run("--lang", "zh", "--help").stdout.decode(),
    run("--help", LANG="zh_CN.UTF-8").stdout.decode(),
    run("handout", "--help", LANG="zh_CN.UTF-8").stdout.decode(),
  ):
    assert "评分" in out or "资料包" in out, out
    body = out.replace("show this help message and exit", "")  # argparse's own words may stay
    body = "\n".join(ln for ln in body.splitlines() if not ln.lstrip().startswith(("usage:", "[", "python -m")))
    assert not ENGLISH_RUN.search(body), ENGLISH_RUN.search(body)
  assert "Grade a submission" in run("--help", LANG="C.UTF-8").stdout.decode()


def test_a_chinese_run_survives_a_gbk_console(tmp_path):
  tmp_path.chmod(0o755)
  sub = tmp_path / "hw.py"
  sub.write_text(WRONG, encoding="utf-8")
  proc = subprocess.run(
    [
      sys.executable,
      "-m",
      "grader",
      str(sub),
      "--sandbox",
      "plain",
      "--allow-plain",
      "--lang",
      "zh",
      "--assignment",
      "part1",
    ],
    cwd=tmp_path,
    env=_env(PYTHONIOENCODING="gbk", LANG="C.UTF-8"),
    capture_output=True,
    timeout=600,
    check=False,
  )
  assert proc.returncode == 0, proc.stderr.decode("gbk", "replace")[-3000:]
  out = proc.stdout.decode("gbk")
  assert "总分" in out and "未通过的可见用例（隐藏用例不显示）：" in out
  assert "第一处差异：答案在下标 [0] 处：期望 3.1，实际 7.8" in out
  assert "这是原文的已知勘误：" in out
  for line in out.splitlines():
    if line.startswith("评分："):
      continue  # the submission's path
    assert not ENGLISH_RUN.search(line), line


def test_computing_references_shows_progress_after_a_second_only(monkeypatch):
  from grader import grade

  err = io.StringIO()
  monkeypatch.setattr(sys, "stderr", err)
  assert list(grade._progress([1, 2, 3], 6, 0)) == [1, 2, 3]  # fast: nothing printed
  assert err.getvalue() == ""
  slow = []
  for q in grade._progress(["a", "b", "c"], 6, 1):
    time.sleep(0.6)
    slow.append(q)
  assert slow == ["a", "b", "c"]
  assert "computing the references of 6 cases (variant 1" in err.getvalue()
