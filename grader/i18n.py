"""The grader's feedback in English and Chinese: one catalog of messages, filled with str.format."""
from __future__ import annotations

import os

LANGS = ("en", "zh")

EN = {
    # the table and the summary
    "title": "Grading {path}",
    "self_check_banner": ("SELF-CHECK of the VISIBLE cases only: this is not your grade. The hidden cases "
                          "(8 of the 10 points of every function) are graded after you submit."),
    "isolation": "isolation: {mode}",
    "col_function": "function",
    "col_points": "points",
    "col_result": "result",
    "total": "total",
    "total_visible": "total (visible cases)",
    "hidden_withheld": "The hidden cases are not counted here; their results are shown when the course staff release them.",
    "all_passed": "all {n} cases passed",
    "some_passed": "{passed}/{n} cases passed; first failure: {first}",
    "case_visible": "visible case {k}",
    "case_hidden": "hidden case {k}",
    # per-function states
    "missing": "missing: no top-level function named {name} was found in the submission",
    "not_implemented": "not implemented (it still raises NotImplementedError)",
    "import_error": "import failed: {module}: {error}",
    "clash": "defined in more than one module ({modules}); the one in {winner} (first by path) is graded",
    # per-case reasons
    "passed": "passed",
    "wrong shape": "wrong shape",
    "wrong values": "wrong values",
    "not finite": "NaN or infinity where a finite number is expected",
    "wrong type": "wrong type",
    "invalid path": "invalid warping path",
    "exception": "raised {exc}",
    # the hidden cases' vocabulary (grade.HIDDEN_KEYS) beyond the keys shared with visible cases
    "exception_other": "raised an exception",
    "time_limit": "time limit",
    "stopped": "the process stopped",
    "not_run": "not run",
    "exception_at": "raised {exc} at {path}, line {line}",
    "exception_message": "message: {message}",
    "source_line": "line {line}: {text}",
    "timeout": "time limit: no answer within {seconds} s",
    "crash_signal": "the sandboxed process was killed ({signal}{hint})",
    "crash_exit": "the sandboxed process exited (exit code {code}), for instance through os._exit",
    "crash_other": "the sandboxed process stopped: {error}",
    "hint_SIGKILL": "; it may have run out of memory",
    "hint_SIGXCPU": "; it ran out of CPU time",
    "hint_SIGXFSZ": "; it wrote a file larger than the limit",
    "hint_SIGSEGV": "; a segmentation fault",
    "bad_output": "the answer could not be read back: {error}",
    "flood": "the answer broke the result channel's limits: {error}",
    "skipped_repeat": "not run: two earlier calls of this function already stopped the sandbox ({prior})",
    "skipped_budget": "not run: the submission's total time budget ({seconds} s) ran out",
    "restart_failed": "the sandbox could not be restarted after an earlier call stopped it: {error}",
    "gone_after_restart": "the function was no longer found after the sandbox was restarted",
    "stopped_import": "importing {module} stopped the sandbox ({why})",
    "not_run_unreadable": "not graded: the submission could not be read",
    "internal": "internal grader error: {error}",
    "load_failed": "the submission could not be loaded: {error}",
    # visible-case details
    "call": "call: {call}",
    "expected": "expected: {value}",
    "got": "got: {value}",
    "first_diff": "first difference: {diff}",
    "erratum_short": "the answer repeats a known erratum of the article (shown below)",
    "failed_visible": "Failed visible cases (the hidden cases are not shown):",
    "detail": "{detail}",
    "erratum": ("Your answer equals the value the article printed for this call, which is a known erratum of "
                "the article: {why}"),
    # reading the submission
    "problems": "Problems found while reading the submission:",
    "binary": "{path} is a binary file, not Python source; it was not graded",
    "not_utf8": "{path} is not UTF-8 text (first bad byte at offset {offset}); save it as UTF-8",
    "unreadable": "{path} could not be read ({error})",
    "too_large": "{path} is larger than the limit of {limit} bytes; it was not graded",
    "too_big_total": "the submission is larger than the limit of {limit} bytes in all; it was not graded",
    "too_many_files": "the submission holds more than {limit} files; it was not graded",
    "symlink_skipped": "{path} is a symbolic link; links are not followed",
    "bad_name": "{path} has a name that cannot be used safely; it was not graded",
    "duplicate": "{path} appears twice; the first copy is graded",
    "zip_damaged": "the zip file is damaged or not a zip file ({error}); nothing was graded",
    "zip_too_many": "the zip file holds {count} entries, more than the limit of {limit}; nothing was graded",
    "zip_unsafe_path": ("the zip file was refused: its entry {member!r} points outside the folder "
                        "(an absolute path or ..); nothing was graded"),
    "zip_symlink": "the zip file was refused: its entry {member!r} is a symbolic link; nothing was graded",
    "zip_too_big": ("the zip file was refused: it unpacks to more than {limit} bytes (a zip bomb?); "
                    "nothing was graded"),
    "zip_encrypted": "{path} is encrypted in the zip file; it was not graded",
    "zip_member_damaged": "{path} is damaged in the zip file ({error}); it was not graded",
    "notebook_malformed": "{path} is not a valid Jupyter notebook ({error}); it was not graded",
    "notebook_needs_nbformat": ("{path} was not graded: reading a notebook needs the nbformat package, which is "
                                "not installed here (install it with: python -m pip install nbformat)"),
    "pack_file_ignored": "{path} is one of the hand-out's own files (recognised by its content); it was not graded",
    "unsupported": "{path} is not a .py file, a .ipynb notebook, a .zip or a folder; nothing was graded",
    "no_python": "no Python file (.py or .ipynb) was found in the submission",
    "module_failed": "{module} failed to import: {error}",
    # (T2, issue 12) two sources of one module, special files, and functions lost to a failed import
    "notebook_ignored": "{path} was ignored: {module} defines the same module and is graded instead",
    "hidden_skipped": "{path} is a hidden file (its name starts with '.'); it was not graded",
    "special_fifo": "{path} is a named pipe (FIFO), not a file or a folder; it was refused",
    "special_device": "{path} is a device, not a file or a folder; it was refused",
    "special_socket": "{path} is a socket, not a file or a folder; it was refused",
    "special_folder": "{path} is a folder where a file was expected; it was refused",
    "special_other": "{path} is a special file, not a file or a folder; it was refused",
    "missing_import_failed": "not found; {failures}",
    "module_failed_short": "module {module} failed to import: {error}",
    # compare.py's details and first differences (visible cases; hidden ones show a vocabulary word only)
    "cmp_shape": "{what} has shape {got}, expected {want}",
    "cmp_shape_hidden": "{what} does not have the expected shape",
    "cmp_not_finite": "{what} contains NaN or infinity where a finite number is expected",
    "cmp_values": "{nbad} of {n} values of {what} differ from the expected ones beyond the tolerance",
    "cmp_tolerance": "{text} (rtol={rtol}, atol={atol})",
    "cmp_first": "{what} at index {index}: expected {want}, got {got} (difference {delta}; allowed {allowed})",
    "cmp_first_scalar": "{what}: expected {want}, got {got} (difference {delta}; allowed {allowed})",
    "cmp_not_numbers": "{what} contains {kind}, not numbers",
    "cmp_too_many": "{what} has far more elements than expected",
    "cmp_too_deep": "{what} is nested far deeper than expected",
    "cmp_ragged": "{what} is ragged (its rows have different lengths)",
    "cmp_bad_item": "{what} contains {kind} where a number or a sequence of numbers belongs",
    "cmp_not_pair": "expected a pair of two sequences (a tuple, a list or a 2×k array), got {kind}",
    "cmp_not_tuple": "expected a tuple of {n} arrays, got {kind}",
    "cmp_not_dtw": "expected a pair (cost, path)",
    "cmp_path_shape": "the path must be a non-empty sequence of (i, j) pairs",
    "cmp_path_int": "the path's indices must be integers",
    "cmp_path_start": "the path must start at (0, 0)",
    "cmp_path_end": "the path must end at (n−1, m−1) = ({n1}, {m1})",
    "cmp_path_end_hidden": "the path must end at (n−1, m−1)",
    "cmp_path_step": "every step of the path must be (1, 0), (0, 1) or (1, 1)",
    "cmp_step_at": "the step from {a} to {b}",
    "cmp_path_cost": "the path is a warping path but its own cost is not the optimum: {detail}",
    "cmp_erratum": ("your answer equals the value the article printed for this call, which is a known erratum "
                    "of the article: {why}"),
    "cmp_unreadable": "the answer could not be read ({exc})",
    "what_answer": "the answer",
    "what_pair_1": "the first sequence of the pair",
    "what_pair_2": "the second sequence of the pair",
    "what_item": "item {k} of the tuple",
    "what_cost": "the cost",
    "what_path": "the path",
    "what_path_cost": "the path's own cost",
    "kind_array": "a numpy array of dtype {dtype}",
    "kind_str": "a string",
    "kind_bytes": "bytes",
    "kind_dict": "a dict",
    "kind_none": "None",
    "kind_bool": "a bool",
    "kind_complex": "a complex number",
    "kind_set": "a set",
    "kind_object": "an unsupported object",
    "kind_other_length": "a sequence of another length",
}

ZH = {
    "title": "评分：{path}",
    "self_check_banner": "仅为可见用例的自测（SELF-CHECK），不是你的成绩。隐藏用例（每个函数 10 分中的 8 分）在提交后评分。",
    "isolation": "隔离方式：{mode}",
    "col_function": "函数",
    "col_points": "得分",
    "col_result": "结果",
    "total": "总分",
    "total_visible": "总分（可见用例）",
    "hidden_withheld": "此处不计隐藏用例；其结果在课程组公布后显示。",
    "all_passed": "全部 {n} 个用例通过",
    "some_passed": "通过 {passed}/{n} 个用例；第一个失败：{first}",
    "case_visible": "可见用例 {k}",
    "case_hidden": "隐藏用例 {k}",
    "missing": "缺失：提交中没有找到顶层函数 {name}",
    "not_implemented": "未实现（仍然抛出 NotImplementedError）",
    "import_error": "导入失败：{module}：{error}",
    "clash": "在多个模块中定义（{modules}）；评分的是 {winner} 中的版本（按路径排序第一个）",
    "passed": "通过",
    "wrong shape": "形状错误",
    "wrong values": "数值错误",
    "not finite": "在应为有限数的位置出现 NaN 或无穷大",
    "wrong type": "类型错误",
    "invalid path": "规整路径无效",
    "exception": "抛出 {exc}",
    "exception_other": "抛出异常",
    "time_limit": "超时",
    "stopped": "进程停止",
    "not_run": "未运行",
    "exception_at": "在 {path} 第 {line} 行抛出 {exc}",
    "exception_message": "信息：{message}",
    "source_line": "第 {line} 行：{text}",
    "timeout": "超时：{seconds} 秒内没有返回结果",
    "crash_signal": "沙箱进程被终止（{signal}{hint}）",
    "crash_exit": "沙箱进程退出（退出码 {code}），例如调用了 os._exit",
    "crash_other": "沙箱进程停止：{error}",
    "hint_SIGKILL": "；可能是内存耗尽",
    "hint_SIGXCPU": "；CPU 时间耗尽",
    "hint_SIGXFSZ": "；写入的文件超过限制",
    "hint_SIGSEGV": "；段错误",
    "bad_output": "无法读取返回值：{error}",
    "flood": "返回值超出结果通道的限制：{error}",
    "skipped_repeat": "未运行：此函数之前已有两次调用使沙箱停止（{prior}）",
    "skipped_budget": "未运行：本次提交的总时间预算（{seconds} 秒）已用完",
    "restart_failed": "之前的调用使沙箱停止后无法重新启动：{error}",
    "gone_after_restart": "沙箱重启后找不到该函数",
    "stopped_import": "导入 {module} 时沙箱停止（{why}）",
    "not_run_unreadable": "未评分：无法读取提交",
    "internal": "评分程序内部错误：{error}",
    "load_failed": "无法加载提交：{error}",
    "call": "调用：{call}",
    "expected": "期望：{value}",
    "got": "实际：{value}",
    "first_diff": "第一处差异：{diff}",
    "erratum_short": "答案重复了原文的已知勘误（见下方）",
    "failed_visible": "未通过的可见用例（隐藏用例不显示）：",
    "detail": "{detail}",
    "erratum": "你的答案等于原文对这次调用打印的值，这是原文的已知勘误：{why}",
    "problems": "读取提交时发现的问题：",
    "binary": "{path} 是二进制文件，不是 Python 源代码；未评分",
    "not_utf8": "{path} 不是 UTF-8 文本（第一个错误字节位于偏移 {offset}）；请保存为 UTF-8",
    "unreadable": "无法读取 {path}（{error}）",
    "too_large": "{path} 超过 {limit} 字节的限制；未评分",
    "too_big_total": "提交总大小超过 {limit} 字节的限制；未评分",
    "too_many_files": "提交包含的文件超过 {limit} 个；未评分",
    "symlink_skipped": "{path} 是符号链接；不跟随链接",
    "bad_name": "{path} 的文件名无法安全使用；未评分",
    "duplicate": "{path} 出现了两次；评分第一份",
    "zip_damaged": "zip 文件已损坏或不是 zip 文件（{error}）；未评分",
    "zip_too_many": "zip 文件包含 {count} 个条目，超过 {limit} 的限制；未评分",
    "zip_unsafe_path": "zip 文件被拒绝：条目 {member!r} 指向文件夹之外（绝对路径或 ..）；未评分",
    "zip_symlink": "zip 文件被拒绝：条目 {member!r} 是符号链接；未评分",
    "zip_too_big": "zip 文件被拒绝：解压后超过 {limit} 字节（zip 炸弹？）；未评分",
    "zip_encrypted": "{path} 在 zip 文件中被加密；未评分",
    "zip_member_damaged": "{path} 在 zip 文件中已损坏（{error}）；未评分",
    "notebook_malformed": "{path} 不是有效的 Jupyter 笔记本（{error}）；未评分",
    "notebook_needs_nbformat": "{path} 未评分：读取笔记本需要 nbformat 包，而这里没有安装（安装命令：python -m pip install nbformat）",
    "pack_file_ignored": "{path} 是资料包自带的文件（按内容识别）；未评分",
    "unsupported": "{path} 不是 .py 文件、.ipynb 笔记本、.zip 或文件夹；未评分",
    "no_python": "提交中没有找到 Python 文件（.py 或 .ipynb）",
    "module_failed": "{module} 导入失败：{error}",
    "notebook_ignored": "已忽略 {path}：{module} 定义了同一个模块，评分的是它",
    "hidden_skipped": "{path} 是隐藏文件（文件名以 '.' 开头）；未评分",
    "special_fifo": "{path} 是命名管道（FIFO），不是文件或文件夹；已拒绝",
    "special_device": "{path} 是设备文件，不是文件或文件夹；已拒绝",
    "special_socket": "{path} 是套接字，不是文件或文件夹；已拒绝",
    "special_folder": "{path} 是文件夹，而这里需要文件；已拒绝",
    "special_other": "{path} 是特殊文件，不是文件或文件夹；已拒绝",
    "missing_import_failed": "未找到；{failures}",
    "module_failed_short": "模块 {module} 导入失败：{error}",
    "cmp_shape": "{what}的形状是 {got}，期望 {want}",
    "cmp_shape_hidden": "{what}的形状与期望不符",
    "cmp_not_finite": "{what}在应为有限数的位置出现 NaN 或无穷大",
    "cmp_values": "{what}的 {n} 个值中有 {nbad} 个与期望值的差超出容差",
    "cmp_tolerance": "{text}（rtol={rtol}，atol={atol}）",
    "cmp_first": "{what}在下标 {index} 处：期望 {want}，实际 {got}（相差 {delta}；允许 {allowed}）",
    "cmp_first_scalar": "{what}：期望 {want}，实际 {got}（相差 {delta}；允许 {allowed}）",
    "cmp_not_numbers": "{what}包含{kind}，不是数字",
    "cmp_too_many": "{what}的元素远多于期望",
    "cmp_too_deep": "{what}的嵌套层数远多于期望",
    "cmp_ragged": "{what}参差不齐（各行长度不同）",
    "cmp_bad_item": "{what}在应为数字或数字序列的位置包含{kind}",
    "cmp_not_pair": "期望由两个序列组成的二元组（元组、列表或 2×k 数组），实际是{kind}",
    "cmp_not_tuple": "期望由 {n} 个数组组成的元组，实际是{kind}",
    "cmp_not_dtw": "期望二元组 (cost, path)",
    "cmp_path_shape": "路径必须是由 (i, j) 对组成的非空序列",
    "cmp_path_int": "路径的下标必须是整数",
    "cmp_path_start": "路径必须从 (0, 0) 开始",
    "cmp_path_end": "路径必须在 (n−1, m−1) = ({n1}, {m1}) 结束",
    "cmp_path_end_hidden": "路径必须在 (n−1, m−1) 结束",
    "cmp_path_step": "路径的每一步必须是 (1, 0)、(0, 1) 或 (1, 1)",
    "cmp_step_at": "从 {a} 到 {b} 的一步",
    "cmp_path_cost": "这是一条规整路径，但它自身的代价不是最优值：{detail}",
    "cmp_erratum": "你的答案等于原文对这次调用打印的值，这是原文的已知勘误：{why}",
    "cmp_unreadable": "无法读取答案（{exc}）",
    "what_answer": "答案",
    "what_pair_1": "二元组的第一个序列",
    "what_pair_2": "二元组的第二个序列",
    "what_item": "元组的第 {k} 项",
    "what_cost": "代价",
    "what_path": "路径",
    "what_path_cost": "路径自身的代价",
    "kind_array": " dtype 为 {dtype} 的 numpy 数组",
    "kind_str": "字符串",
    "kind_bytes": "字节串",
    "kind_dict": "字典",
    "kind_none": " None",
    "kind_bool": "布尔值",
    "kind_complex": "复数",
    "kind_set": "集合",
    "kind_object": "不支持的对象",
    "kind_other_length": "长度不符的序列",
}

CATALOG = {"en": EN, "zh": ZH}


def default_lang(environ=None) -> str:
  """zh when the locale says Chinese (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), else en."""
  env = os.environ if environ is None else environ
  for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
    value = env.get(var, "")
    if value:
      return "zh" if value.lower().startswith("zh") else "en"
  return "en"


class _Blank(dict):
  def __missing__(self, key):
    return "{" + key + "}"


def t(lang: str, key: str, **params) -> str:
  """The message `key` in `lang`, filled; an unknown key is shown as itself (never an error)."""
  table = CATALOG.get(lang, EN)
  text = table.get(key) or EN.get(key) or key
  try:
    return text.format_map(_Blank(params))
  except (ValueError, IndexError, KeyError):
    return text


def is_message(v) -> bool:
  """A (key, params) message: a tuple, or the list JSON makes of it."""
  return isinstance(v, (tuple, list)) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], dict)


def render(lang: str, msg):
  """A (key, params) message in `lang`, messages nested in its params rendered first; other values as they are.
  A message with `why_en` / `why_zh` (an erratum's reason) fills `why` in the language asked for."""
  if not is_message(msg):
    return msg
  params = {k: render(lang, v) for k, v in msg[1].items()}
  if "why_en" in params:
    params["why"] = params.get("why_zh" if lang == "zh" else "why_en") or params["why_en"]
  return t(lang, msg[0], **params)
