"""The grader's feedback in English and Chinese: one catalog of messages, filled with str.format."""

from __future__ import annotations

import os
import re

LANGS = ("en", "zh")

EN = {
  # the table and the summary
  "title": "Grading {path}",
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
  "failed_case": "{name}, {case}: {reason}",
  "case_reason": "{case}: {reason}",
  "warning": "warning: {message}",
  "arg_at_least_1": "must be at least 1",
  "arg_positive_seconds": "must be a positive number of seconds",
  "arg_positive_mib": "must be a positive number of MiB",
  "isolation_warning": "grader.isolation: WARNING: {message}",
  "progress_refs": "computing the references of {n} cases (variant {variant}; cached for the next run)",
  "batch_hidden_one": "left out {n} hidden roster entry (name starting with '.'): {names}",
  "batch_hidden": "left out {n} hidden roster entries (name starting with '.'): {names}",
  "batch_summary": (
    "assignment {assignment}: {graded} graded, {unchanged} unchanged; gradebook: {gradebook} "
    "(seed fingerprint {fp}, {variants} variants{note})"
  ),
  "detail": "{detail}",
  "erratum": (
    "Your answer equals the value the article printed for this call, which is a known erratum of the article: {why}"
  ),
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
  "zip_unsafe_path": (
    "the zip file was refused: its entry {member!r} points outside the folder "
    "(an absolute path or ..); nothing was graded"
  ),
  "zip_symlink": "the zip file was refused: its entry {member!r} is a symbolic link; nothing was graded",
  "zip_too_big": ("the zip file was refused: it unpacks to more than {limit} bytes (a zip bomb?); nothing was graded"),
  "zip_encrypted": "{path} is encrypted in the zip file; it was not graded",
  "zip_member_damaged": "{path} is damaged in the zip file ({error}); it was not graded",
  "notebook_malformed": "{path} is not a valid Jupyter notebook ({error}); it was not graded",
  "notebook_needs_nbformat": (
    "{path} was not graded: reading a notebook needs the nbformat package, which is "
    "not installed here (install it with: python -m pip install nbformat)"
  ),
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
  "cmp_erratum": (
    "your answer equals the value the article printed for this call, which is a known erratum of the article: {why}"
  ),
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
  "failed_case": "{name}，{case}：{reason}",
  "case_reason": "{case}：{reason}",
  "warning": "警告：{message}",
  "arg_at_least_1": "必须至少为 1",
  "arg_positive_seconds": "必须是正的秒数",
  "arg_positive_mib": "必须是正的 MiB 数",
  "isolation_warning": "grader.isolation：警告：{message}",
  "progress_refs": "正在计算 {n} 个用例的参考答案（变体 {variant}；结果会缓存供下次使用）",
  "batch_hidden_one": "已略过 {n} 个隐藏的名单条目（名称以 '.' 开头）：{names}",
  "batch_hidden": "已略过 {n} 个隐藏的名单条目（名称以 '.' 开头）：{names}",
  "batch_summary": "作业 {assignment}：评分 {graded} 份，未变 {unchanged} 份；成绩册：{gradebook}（种子指纹 {fp}，{variants} 份{note}）",
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

# `python -m grader --help` and the instructor commands' summary lines (grader/__main__.py)
HELP_EN = {
  'help_records_assignment': "the assignment to grade or build: part1, part2, part3, core (the default) or all, or one of a --questions folder's assignments.toml",
  'help_records_questions': 'a folder of extra question records and its assignments.toml (docs/authoring.md); repeatable; a name defined twice is an error',
  'help_common_variants': 'how many hidden draws the course has (default: $GRADER_VARIANTS, else {p0}); each student gets one, picked by a keyed hash of their identity; visible cases are the same in all',
  'help_common_lang': 'language of the feedback (default: from the locale, else en)',
  'help_common_sandbox': 'isolation for student code; auto picks the strongest that works here',
  'help_common_call_timeout': 'wall-clock limit of one call, in seconds (default {p0:g})',
  'help_common_time_budget': 'wall-clock budget of one whole submission, in seconds (default {p0:g})',
  'help_common_import_timeout': 'wall-clock limit for importing one module of the submission, in seconds (default {p0:g})',
  'help_common_hidden_visibility': "Gradescope visibility of the hidden cases' tests in results.json (default visible)",
  'help_common_sandbox_memory': "memory of all of one sandbox's processes together, in MiB (default {p0}; through a memory cgroup where one works, else only per-process limits apply)",
  'help_common_allow_same_uid': 'grade hidden cases in plain mode as a non-root user although student code then runs under your uid and can read your environment (the seed), cache and other results',
  'desc_main': "Grade a submission of the coursework (a .py file, a folder, a .zip or a .ipynb notebook). Subcommands: 'handout OUT_DIR' builds the student pack, 'gradescope OUT.zip' the Gradescope autograder, 'new-seed' prints a fresh secret seed; write ./handout for a path of that name.",
  'help_main_submission': 'the submission: a .py file, a folder, a .zip or a .ipynb',
  'help_main_results': "also write Gradescope's results.json to FILE",
  'help_main_batch': 'grade every entry of ROSTER_DIR (one student each: file, folder, zip or notebook)',
  'help_main_out': 'with --batch: where gradebook.csv and <student>/results.json go',
  'help_main_workers': 'with --batch: submissions graded at once (default: one per CPU core)',
  'help_main_force': 'with --batch: re-grade every entry, even those whose results are up to date (and into an OUT_DIR graded for another assignment)',
  'help_main_regrade': "with --batch: re-grade these entries (a student id of the gradebook, or the entry's file name) even if their results are up to date",
  'help_main_variant': "a single submission's hidden draw, 0..K-1 (default 0; --batch picks one per student)",
  'help_main_submission_metadata': "Gradescope's submission_metadata.json: the variant is picked from its smallest users[].id, so a group shares one (run_autograder passes it)",
  'desc_handout': 'Build the student hand-out: the exercise stubs, the visible cases with their expected values, the self-check check.py (any OS, numpy only, no sandbox) and one notebook per language.',
  'help_handout_out_dir': 'folder to write the hand-out into (created; must be empty if it exists)',
  'desc_gradescope': 'Build a Gradescope autograder bundle (setup.sh, run_autograder, the grader and its references).',
  'help_gradescope_out_zip': 'the .zip to write',
  'help_gradescope_variants': "how many hidden draws (default: $GRADER_VARIANTS, else {p0}); each student's is picked from the smallest users[].id of Gradescope's submission_metadata.json, so a group shares one",
  'help_gradescope_allow_weak_seed': 'build the bundle even with a guessable seed (the public default 0, under {p0} characters, only digits, or another pattern a guesser tries first): students could then find the hidden cases',
  'help_gradescope_lang': 'language of the feedback (default en)',
  'help_gradescope_hidden_visibility': "Gradescope visibility of the hidden cases' tests (default visible)",
  'help_gradescope_time_budget': "wall-clock budget of one submission on Gradescope, in seconds (default {p0:g}; at most {p1:g}, a minute under Gradescope's default limit)",
  'help_gradescope_call_timeout': 'wall-clock limit of one call, in seconds (default {p0:g})',
  'desc_new_seed': 'Print a fresh random seed (128 bits) for GRADER_SEED.',
  'help_seed_private': '(keep it private: chmod 600)',
  'help_seed_baked': 'baked into the bundle',
  'help_seed_file': 'a file holding the secret seed of the hidden cases {where}: any string, stretched with scrypt and never printed (default: $GRADER_SEED, else the public default 0)',
  'help_seed_refused': 'refused: every user of the machine can read a command line; use --seed-file or $GRADER_SEED',
  'help_common_allow_plain': "grade hidden cases in plain mode (asked for, or auto's last fallback) although student code can then read every world-readable file here: the solutions, other students' submissions",
  'handout_written': 'hand-out written to {out} (self-check: cd {out} && python check.py)',
  'handout_no_notebooks': 'warning: no notebooks in the hand-out: nbformat is not installed ({hint})',
  'nbformat_hint': 'install it with: python -m pip install nbformat',
  'gradescope_written': 'Gradescope autograder written to {out} (assignment {assignment}, seed fingerprint {fp}, {variants} variants{note}; the bundle holds the seed: keep it private)',
  'gradescope_weak_note': '; WEAK SEED ({weak})',
  "usage_error": "error: {message}",
  "usage_no_such": "no such file or folder: {path}",
  "usage_results_self": "--results would overwrite the submission itself",
  "usage_not_empty": "{path} exists and is not an empty folder",
  "usage_both": "give either a SUBMISSION or --batch ROSTER_DIR, not both",
  "usage_required": "a SUBMISSION (or --batch ROSTER_DIR) is required",
}

HELP_ZH = {
  'help_records_assignment': '要评分或构建的作业：part1、part2、part3、core（默认）或 all，或 --questions 文件夹中 assignments.toml 定义的作业',
  'help_records_questions': '额外题目记录及其 assignments.toml 所在的文件夹（见 docs/authoring.md）；可重复；同名题目定义两次是错误',
  'help_common_variants': '课程的隐藏用例抽取份数（默认：$GRADER_VARIANTS，否则 {p0}）；每个学生按其身份的带密钥哈希分到一份；各份的可见用例相同',
  'help_common_lang': '反馈语言（默认：按系统区域设置，否则 en）',
  'help_common_sandbox': '运行学生代码的隔离方式；auto 选择本机可用的最强方式',
  'help_common_call_timeout': '单次调用的墙钟时间上限，单位秒（默认 {p0:g}）',
  'help_common_time_budget': '整份提交的墙钟时间预算，单位秒（默认 {p0:g}）',
  'help_common_import_timeout': '导入提交中单个模块的墙钟时间上限，单位秒（默认 {p0:g}）',
  'help_common_hidden_visibility': 'results.json 中隐藏用例测试在 Gradescope 上的可见性（默认 visible）',
  'help_common_sandbox_memory': '单个沙箱全部进程合计的内存，单位 MiB（默认 {p0}；在可用时通过内存 cgroup 实施，否则只有按进程的限制）',
  'help_common_allow_same_uid': '以非 root 用户在 plain 模式下评分隐藏用例，尽管学生代码随后以你的 uid 运行，能读取你的环境（种子）、缓存和其他结果',
  'desc_main': "为课程作业评分（.py 文件、文件夹、.zip 或 .ipynb 笔记本）。子命令：'handout OUT_DIR' 构建学生资料包，'gradescope OUT.zip' 构建 Gradescope 自动评分包，'new-seed' 打印一个新的秘密种子；若路径恰好同名，请写成 ./handout。",
  'help_main_submission': '要评分的提交：.py 文件、文件夹、.zip 或 .ipynb',
  'help_main_results': '同时把 Gradescope 的 results.json 写入 FILE',
  'help_main_batch': '为 ROSTER_DIR 中的每一项评分（每项一名学生：文件、文件夹、zip 或笔记本）',
  'help_main_out': '与 --batch 一起使用：gradebook.csv 和 <student>/results.json 的存放位置',
  'help_main_workers': '与 --batch 一起使用：同时评分的提交数（默认：每个 CPU 核一个）',
  'help_main_force': '与 --batch 一起使用：重新评分每一项，即使其结果已是最新（也可写入为其他作业评分过的 OUT_DIR）',
  'help_main_regrade': '与 --batch 一起使用：重新评分这些项（成绩册中的学生编号，或该项的文件名），即使其结果已是最新',
  'help_main_variant': '单份提交的隐藏用例份号，0..K-1（默认 0；--batch 为每个学生自行选择）',
  'help_main_submission_metadata': 'Gradescope 的 submission_metadata.json：按其中最小的 users[].id 选择份号，因此同组共用一份（run_autograder 会传入）',
  'desc_handout': '构建学生资料包：练习桩代码、带期望值的可见用例、自测程序 check.py（任何操作系统，只需 numpy，无沙箱），以及每种语言一个笔记本。',
  'help_handout_out_dir': '写入资料包的文件夹（会被创建；若已存在则必须为空）',
  'desc_gradescope': '构建 Gradescope 自动评分包（setup.sh、run_autograder、评分程序及其参考答案）。',
  'help_gradescope_out_zip': '要写入的 .zip',
  'help_gradescope_variants': '隐藏用例抽取份数（默认：$GRADER_VARIANTS，否则 {p0}）；每个学生的份号按 Gradescope 的 submission_metadata.json 中最小的 users[].id 选择，因此同组共用一份',
  'help_gradescope_allow_weak_seed': '即使种子容易猜到（公开的默认值 0、少于 {p0} 个字符、只有数字或猜测者会先试的其他模式）也构建评分包：学生因此可能找出隐藏用例',
  'help_gradescope_lang': '反馈语言（默认 en）',
  'help_gradescope_hidden_visibility': '隐藏用例测试在 Gradescope 上的可见性（默认 visible）',
  'help_gradescope_time_budget': '在 Gradescope 上一份提交的墙钟时间预算，单位秒（默认 {p0:g}；最多 {p1:g}，比 Gradescope 的默认上限少一分钟）',
  'help_gradescope_call_timeout': '单次调用的墙钟时间上限，单位秒（默认 {p0:g}）',
  'desc_new_seed': '为 GRADER_SEED 打印一个新的随机种子（128 位）。',
  'help_seed_private': '（请保密：chmod 600）',
  'help_seed_baked': '（会写入评分包）',
  'help_seed_file': '存放隐藏用例秘密种子的文件 {where}：任意字符串，经 scrypt 拉伸且从不打印（默认：$GRADER_SEED，否则为公开的默认值 0）',
  'help_seed_refused': '已拒绝：本机每个用户都能读取命令行；请使用 --seed-file 或 $GRADER_SEED',
  'help_common_allow_plain': '在 plain 模式下（指定的，或 auto 最后的回退）评分隐藏用例，尽管学生代码随后能读取本机每个全局可读的文件：答案、其他学生的提交',
  'handout_written': '资料包已写入 {out}（自测：cd {out} && python check.py）',
  'handout_no_notebooks': '警告：资料包中没有笔记本：未安装 nbformat（{hint}）',
  'nbformat_hint': '安装命令：python -m pip install nbformat',
  'gradescope_written': 'Gradescope 自动评分包已写入 {out}（作业 {assignment}，种子指纹 {fp}，{variants} 份{note}；评分包含有种子：请保密）',
  'gradescope_weak_note': '；种子太弱（{weak}）',
  "usage_error": "错误：{message}",
  "usage_no_such": "没有这个文件或文件夹：{path}",
  "usage_results_self": "--results 会覆盖提交本身",
  "usage_not_empty": "{path} 已存在且不是空文件夹",
  "usage_both": "SUBMISSION 与 --batch ROSTER_DIR 只能给出其一",
  "usage_required": "需要给出 SUBMISSION（或 --batch ROSTER_DIR）",
}

EN.update(HELP_EN)
ZH.update(HELP_ZH)
CATALOG = {"en": EN, "zh": ZH}


def default_lang(environ=None) -> str:
  """zh when the locale says Chinese (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), else en."""
  env = os.environ if environ is None else environ
  for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
    value = env.get(var, "")
    if value:
      return "zh" if value.lower().startswith("zh") else "en"
  return "en"


_NOTICE_LANG = []  # python -m grader sets it from --lang (set_notice_lang); empty: the locale's


def set_notice_lang(lang: str) -> None:
  """The language of the grader's stderr notices (warnings, the progress bar) for this process."""
  _NOTICE_LANG[:] = [lang]


def notice_lang() -> str:
  """The language of stderr notices: the one python -m grader set from --lang, else the locale's."""
  return _NOTICE_LANG[0] if _NOTICE_LANG else default_lang()


class _Blank(dict):
  def __missing__(self, key):
    return "{" + key + "}"


def t(lang: str, key: str, **params) -> str:
  """The message `key` in `lang`, filled; an unknown key is shown as itself (never an error)."""
  table = CATALOG.get(lang, EN)
  text = table.get(key) or EN.get(key) or key
  if key not in STUDENT_TEXT:
    params.update({k: localize_reason(lang, params[k]) for k in REASON_PARAMS if k in params})
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


# The reasons wire.py, worker.py and sandbox.py give in English (they cannot import this package: wire.py
# and worker.py run inside the sandbox, and a reason crosses the result channel as text), and those of
# isolation, seed, outputs, questions and __main__ that reach a usage error or a stderr warning. They are
# mapped to Chinese here, at the boundary where they enter a message (t(): its error/why/message params): each English template (the exact text
# of its raise site, {name} where the site fills in a value) is matched whole, its values carried over.
# tests/grader/test_feedback_i18n.py checks that every literal reason of those files is listed. A template
# made only of values ("{where}: {error}") is left out on purpose: it would match, and rewrite, any text.
REASONS_ZH = {
  # wire.py: encoding and decoding values and frames
  "an array of dtype {dtype} is not numeric": "dtype 为 {dtype} 的数组不是数值数组",
  "an array of dtype {dtype} is not supported": "不支持 dtype 为 {dtype} 的数组",
  "the value is nested more than {n} levels deep": "值的嵌套超过 {n} 层",
  "a dict key of type {type} (only str keys are supported)": "类型为 {type} 的字典键（只支持 str 键）",
  "a value of type {type} is not plain data": "类型为 {type} 的值不是普通数据",
  "more than {n} items in one message": "一条消息中超过 {n} 个元素",
  "a string of {n} characters (the limit is {limit})": "长度为 {n} 个字符的字符串（上限为 {limit}）",
  "a malformed value (an object that is not a single tag)": "格式错误的值（对象不是单个标签）",
  "a dict key of {n} characters (the limit is {limit})": "长度为 {n} 个字符的字典键（上限为 {limit}）",
  "a malformed value (unknown tag {tag})": "格式错误的值（未知标签 {tag}）",
  "a malformed non-finite float": "格式错误的非有限浮点数",
  "an array with a malformed shape": "数组的形状格式错误",
  "an array of unsupported dtype {dtype}": "不支持的数组 dtype {dtype}",
  "an array header claims {count} elements ({nbytes} bytes), over the limit of {limit} bytes": (
    "数组头声明了 {count} 个元素（{nbytes} 字节），超过 {limit} 字节的上限"
  ),
  "a malformed array (no data)": "格式错误的数组（没有数据）",
  "an array header declares {count} elements but the data does not match": "数组头声明了 {count} 个元素，但数据与之不符",
  "an array with malformed base64 data": "数组的 base64 数据格式错误",
  "an array header declares {count} elements but the data has {n} bytes": "数组头声明了 {count} 个元素，但数据有 {n} 字节",
  "an array whose values do not fit its dtype": "数组的值与其 dtype 不符",
  "a malformed array (its nested lists do not match its shape)": "格式错误的数组（嵌套列表与其形状不符）",
  "a bare {name} in the JSON (non-finite floats must be tagged)": "JSON 中出现了裸露的 {name}（非有限浮点数必须加标签）",
  "a message of {n} bytes (the limit is {limit})": "长度为 {n} 字节的消息（上限为 {limit}）",
  "a message nested too deeply to read": "消息嵌套过深，无法读取",
  "a message that is not valid JSON ({exc})": "消息不是有效的 JSON（{exc}）",
  "a message that is not a JSON object": "消息不是 JSON 对象",
  "bytes on the result channel that are not a frame": "结果通道上出现了不构成帧的字节",
  "a file nested too deeply to read": "文件嵌套过深，无法读取",
  "a file that is not valid JSON ({error})": "文件不是有效的 JSON（{error}）",
  # worker.py: turning the student's result into plain data
  "the result is nested more than 32 levels deep": "返回值的嵌套超过 32 层",
  "the result holds an array of dtype {dtype}, not numbers": "返回值包含 dtype 为 {dtype} 的数组，而不是数值",
  "the result contains a {type}, which is not plain data": "返回值包含 {type}，它不是普通数据",
  "the result is larger than {n} bytes": "返回值大于 {n} 字节",
  "the result could not be converted: {exc}: {message}": "无法转换返回值：{exc}: {message}",
  "<the exception's message could not be printed>": "<无法打印该异常的消息>",
  "the grader's sandbox does not let a submission import {module}": "评分程序的沙箱不允许提交导入 {module}",
  # sandbox.py: why the worker stopped answering
  "the process stopped answering": "进程不再应答",
  "the process was killed by {signal}": "进程被 {signal} 终止",
  "the process exited with code {code}": "进程以退出码 {code} 结束",
  "the worker did not read its input in time": "工作进程没有及时读取输入",
  "time limit": "超时",
  "memory limit: the sandbox's processes together passed {mib} MiB": "内存上限：沙箱中的进程合计超过 {mib} MiB",
  "more than {n} bytes came back for one call": "一次调用返回了超过 {n} 字节",
  "a flood of messages on the result channel": "结果通道上涌入了大量消息",
  "could not start the sandbox: {error}": "无法启动沙箱：{error}",
  "the worker did not start properly": "工作进程没有正常启动",
  "a forged message on the channel while importing": "导入期间通道上出现了伪造的消息",
  "the sandboxed worker did not start ({error}) {tail}": "沙箱中的工作进程没有启动（{error}）{tail}",
  "the sandboxed worker did not start ({error})": "沙箱中的工作进程没有启动（{error}）",
  "the worker's load report was malformed": "工作进程的加载报告格式错误",
  "the sandbox stopped again while importing {module}": "导入 {module} 时沙箱再次停止",
  "the time budget ran out while importing the submission ({module})": "导入提交（{module}）时总时间预算用完",
  "the sandbox was restarted too many times while importing the submission": "导入提交时沙箱重启次数过多",
  "the sandbox was restarted too many times": "沙箱重启次数过多",
  "the submission's time budget ran out": "提交的总时间预算已用完",
  "a malformed value ({exc})": "格式错误的值（{exc}）",
  "the function was gone after a restart": "沙箱重启后找不到该函数",
  "a malformed reply": "格式错误的回复",
  "not run: earlier calls of {name} stopped the sandbox ({status})": "未运行：{name} 之前的调用使沙箱停止（{status}）",
  # grade.py: why a module stopped the sandbox while it was imported (an import_error's error)
  "importing it ran into the time limit": "导入时超时",
  "the sandboxed process was killed by {signal} while importing it": "导入时沙箱进程被 {signal} 终止",
  "the sandboxed process exited (exit code {code}) while importing it": "导入时沙箱进程退出（退出码 {code}）",
  "the sandbox stopped while importing it: {error}": "导入时沙箱停止：{error}",
  # isolation.py: the teacher's stderr warnings and the memory plan
  "running student code in a plain subprocess: rlimits only, it can read the project's files": (
    "在普通子进程中运行学生代码：只有 rlimit 限制，它能读取项目的文件"
  ),
  "isolation mode {mode} is unavailable, falling back to a weaker one: {why}": (
    "隔离模式 {mode} 不可用，改用较弱的模式：{why}"
  ),
  "could not remove the memory cgroup {path}": "无法删除内存 cgroup {path}",
  "could not remove {path} left by a sandbox: {error}": "无法删除沙箱留下的 {path}：{error}",
  "the sweep of shared folders stopped after {n} entries": "共享目录的清理在 {n} 个条目后停止",
  "processes of sandbox uid {uid} survived 20 sweeps": "沙箱 uid {uid} 的进程在 20 轮清理后仍然存在",
  "memory: {mib} MiB for each sandbox as a whole (cgroup v{v} memory controller)": (
    "内存：每个沙箱整体 {mib} MiB（cgroup v{v} 内存控制器）"
  ),
  "memory: no memory controller ({why}); a per-process limit of {per} MiB x up to {nproc} processes = {need} MiB, "
  "which {fits} this machine's {total} MiB; the OOM killer picks a sandbox before the grader": (
    "内存：没有内存控制器（{why}）；每个进程上限 {per} MiB × 最多 {nproc} 个进程 = {need} MiB，"
    "{fits}本机的 {total} MiB；内存不足时 OOM killer 先结束沙箱而不是评分程序"
  ),
  "the grader is not root, so it cannot create cgroups": "评分程序不是 root，无法创建 cgroup",
  "no cgroup hierarchy with the memory controller is mounted": "没有挂载带内存控制器的 cgroup 层级",
  "cgroup v2 is mounted without the memory controller": "cgroup v2 挂载时没有内存控制器",
  "cgroup v{version} at {mount}: {error}": "{mount} 处的 cgroup v{version}：{error}",
  "fits": "不超过",
  "does NOT fit": "超过",
  "{name} is not installed": "{name} 未安装",
  "plain: the sandbox uid cannot read {paths}; make them world-readable": "plain：沙箱 uid 无法读取 {paths}；请让所有用户可读",
  "no directory to stage paths on (/srv, /media, /mnt, /opt)": "没有可用于放置路径的目录（/srv、/media、/mnt、/opt）",
  "unshare: needs root (namespaces without a user namespace)": "unshare：需要 root（不使用用户命名空间的命名空间）",
  "unknown isolation mode {mode}": "未知的隔离模式 {mode}",
  "{mode}: a trivial probe did not finish in 60 s": "{mode}：一个简单的探测没有在 60 秒内完成",
  "{mode}: probe exited {code}: {why}": "{mode}：探测以 {code} 退出：{why}",
  "unknown isolation mode {mode}; choose from {modes}": "未知的隔离模式 {mode}；可选：{modes}",
  "no isolation mode works here, not even a plain subprocess": "此处没有可用的隔离模式，连普通子进程也不行",
  "the process exited with status {code}": "进程以状态 {code} 退出",
  "it used up its CPU time limit ({signal})": "它用完了 CPU 时间上限（{signal}）",
  "it wrote a file larger than the size limit ({signal})": "它写入的文件超过了大小上限（{signal}）",
  "it was killed (time or memory limit, or the grader stopped it) ({signal})": (
    "它被终止了（时间或内存上限，或评分程序停止了它）（{signal}）"
  ),
  "it crashed (segmentation fault; often a stack overflow from deep recursion) ({signal})": (
    "它崩溃了（段错误；常因递归过深导致栈溢出）（{signal}）"
  ),
  "it aborted ({signal})": "它中止了（{signal}）",
  "it crashed (bus error) ({signal})": "它崩溃了（总线错误）（{signal}）",
  "it crashed (arithmetic error) ({signal})": "它崩溃了（算术错误）（{signal}）",
  "it was stopped by a signal ({signal})": "它被信号停止（{signal}）",
  # __main__.py: the teacher's warnings and usage errors
  "plain mode hides nothing of this machine: student code can read every world-readable file here: the "
  "solutions, other students' submissions. Use bwrap (or unshare as root), or pass --allow-plain to accept "
  "that risk": (
    "plain 模式对本机毫无隐藏：学生代码能读取这里所有用户可读的文件：参考答案、其他学生的提交。"
    "请使用 bwrap（或以 root 使用 unshare），或传入 --allow-plain 接受这一风险"
  ),
  "plain mode as a non-root user runs student code under your own uid: it could read your environment "
  "(GRADER_SEED), your reference cache and other students' results. Grade as root, or with bwrap, or pass "
  "--allow-same-uid to accept that risk": (
    "以非 root 用户运行 plain 模式时，学生代码以你自己的 uid 运行：它能读取你的环境变量（GRADER_SEED）、"
    "参考答案缓存和其他学生的结果。请以 root 或用 bwrap 评分，或传入 --allow-same-uid 接受这一风险"
  ),
  "--batch picks each student's variant itself; --variant and --submission-metadata are for a single submission": (
    "--batch 会自行为每个学生选择变体；--variant 和 --submission-metadata 只用于单个提交"
  ),
  "the seed is {weak}: students who know the public code could guess it and so every hidden case. Set "
  "GRADER_SEED to a long passphrase (`python -m grader new-seed` prints one), or pass --allow-weak-seed to "
  "build the bundle anyway": (
    "种子{weak}：了解公开代码的学生可能猜出它，从而知道每个隐藏用例。请把 GRADER_SEED 设为一个长口令"
    "（`python -m grader new-seed` 会生成一个），或传入 --allow-weak-seed 仍然生成资料包"
  ),
  "the public default": "是公开的默认值",
  "shorter than {n} characters": "短于 {n} 个字符",
  "only digits": "只有数字",
  "a short pattern repeated": "是重复的短模式",
  "a run of consecutive characters": "是一串连续的字符",
  "one word and a number": "是一个单词加一个数字",
  # questions.py: a question record or an assignments.toml that breaks docs/questions.md (the course author's)
  "{path}: unreadable ({error}); rebuild it with `python -m grader.questions build`": (
    "{path}：无法读取（{error}）；请用 `python -m grader.questions build` 重新生成"
  ),
  "{path}: must name {name} and hold {n} cases": "{path}：必须指明 {name} 并包含 {n} 个用例",
  "no assignment named {name} (known: {known})": "没有名为 {name} 的作业（已知：{known}）",
  "{where}: `{key}` is missing or not a {type}": "{where}：`{key}` 缺失或不是 {type}",
  "{where}: unknown keys {keys}": "{where}：未知的键 {keys}",
  "{where}: name {name} must be an identifier equal to the folder's name": "{where}：name {name} 必须是与文件夹同名的标识符",
  "{where}: module {module} must be an identifier": "{where}：module {module} 必须是标识符",
  "{where}: params must be identifiers, a default written 'name=None'": "{where}：params 必须是标识符，默认值写作 'name=None'",
  "{where}: compare.kind {kind} is not one of {kinds}": "{where}：compare.kind {kind} 不是 {kinds} 之一",
  "{where}: compare.{key} must be a non-negative number": "{where}：compare.{key} 必须是非负数",
  "{where}: compare.atol_scales_with_input must be true or false": "{where}：compare.atol_scales_with_input 必须是 true 或 false",
  "{where}: [erratum] holds printed, and en with zh (both or neither)": (
    "{where}：[erratum] 包含 printed，以及 en 和 zh（两者都有或都没有）"
  ),
  "{path}: [{name}] must be a table with keys among {keys}": "{path}：[{name}] 必须是键属于 {keys} 的表",
  "{path}: [{name}] points must be {points} (1 per visible and hidden case)": (
    "{path}：[{name}] 的 points 必须是 {points}（每个可见和隐藏用例 1 分）"
  ),
  "{path}: [{name}] includes itself (through {chain})": "{path}：[{name}] 包含了自身（经由 {chain}）",
  "{path}: [{name}] includes an unknown assignment {inc}": "{path}：[{name}] 包含了未知的作业 {inc}",
  "{path}: [{name}] lists {q}, which has no record (no folder {folder}/ with a question.toml)": (
    "{path}：[{name}] 列出了 {q}，但它没有记录（没有含 question.toml 的文件夹 {folder}/）"
  ),
  "{folder}: no such questions folder": "{folder}：没有这个题目文件夹",
  "question {name} is defined twice: {a} and {b}": "题目 {name} 被定义了两次：{a} 和 {b}",
  "assignment {name} is defined twice: {a} and {b}": "作业 {name} 被定义了两次：{a} 和 {b}",
  "{path}: [{name}] lists {dup} more than once": "{path}：[{name}] 多次列出了 {dup}",
  "{folder}: no private.py (the hand-out has the public files only)": "{folder}：没有 private.py（资料包只含公开文件）",
  "{path}: defines no function {fn}()": "{path}：没有定义函数 {fn}()",
  "{folder}/private.py: visible() must return {n} argument tuples": "{folder}/private.py：visible() 必须返回 {n} 个参数元组",
  # outputs.py: why a results file or an output folder cannot be written
  "{path} is a folder, not a file": "{path} 是文件夹，不是文件",
  "{path} is not a regular file": "{path} 不是普通文件",
  "cannot write in {path}: {error}": "无法在 {path} 中写入：{error}",
  "{path} exists and is not a folder": "{path} 已存在且不是文件夹",
  "cannot create {path}: {error}": "无法创建 {path}：{error}",
  "made of fewer than {n} different characters": "由少于 {n} 个不同字符组成",
  "--seed-file {path} can be read by other users (chmod 600 it)": "--seed-file {path} 可被其他用户读取（请 chmod 600）",
  "no users[].id in {path}; grading variant 0": "{path} 中没有 users[].id；按变体 0 评分",
  "--seed SECRET is refused: a command line can be read by every user of the machine (/proc/<pid>/cmdline), "
  "student code included; treat that seed as known, and pass the secret as --seed-file PATH or $GRADER_SEED": (
    "拒绝 --seed SECRET：命令行可被本机所有用户（包括学生代码）读取（/proc/<pid>/cmdline）；"
    "请把该种子视为已泄露，并用 --seed-file PATH 或 $GRADER_SEED 传递密钥"
  ),
  "--seed-file: cannot read {path}: {error}": "--seed-file：无法读取 {path}：{error}",
  "--seed-file: {path} is longer than {n} bytes; it should hold the seed alone": (
    "--seed-file：{path} 超过 {n} 字节；它应只包含种子"
  ),
  "--seed-file: {path} is not UTF-8 text": "--seed-file：{path} 不是 UTF-8 文本",
  "--seed-file: {path} is empty": "--seed-file：{path} 是空的",
  "GRADER_VARIANTS must be a whole number of at least 1, got {raw}": "GRADER_VARIANTS 必须是不小于 1 的整数，实际为 {raw}",
  "--force and --regrade go with --batch": "--force 和 --regrade 须与 --batch 一起使用",
  "--results: {why}": "--results：{why}",
  "the isolation {mode} cannot run here: {why}": "隔离模式 {mode} 无法在此运行：{why}",
  "give either --variant or --submission-metadata, not both": "--variant 与 --submission-metadata 只能给出其一",
  "--variant must be one of 0..{last} (--variants {n})": "--variant 必须是 0..{last} 之一（--variants {n}）",
  "--batch needs a folder: {path}": "--batch 需要一个文件夹：{path}",
  "--batch needs --out OUT_DIR": "--batch 需要 --out OUT_DIR",
  "--workers must be at least 1": "--workers 必须至少为 1",
  "--results goes with a single SUBMISSION; --batch writes OUT_DIR/<student>/results.json": (
    "--results 只用于单个 SUBMISSION；--batch 写入 OUT_DIR/<student>/results.json"
  ),
  "--out and the roster must not contain each other": "--out 与名单文件夹不能互相包含",
  "--out: {why}": "--out：{why}",
  "--regrade: no roster entry named {names}": "--regrade：名单中没有名为 {names} 的条目",
  "'{name}' is not part of the hand-out's self-check grader": "'{name}' 不属于资料包中的自检评分程序",
  "--batch is not part of the hand-out's self-check grader": "--batch 不属于资料包中的自检评分程序",
  "the number of variants must be at least 1, got {k}": "变体数必须至少为 1，实际为 {k}",
}

_FIELD = re.compile(r"\{(\w+)\}")


def _pattern(template: str):
  parts, last = [], 0
  for m in _FIELD.finditer(template):
    parts.append(re.escape(template[last : m.start()]) + f"(?P<{m.group(1)}>.*?)")
    last = m.end()
  return re.compile("".join(parts) + re.escape(template[last:]), re.DOTALL)


_REASON_PATTERNS = [(_pattern(en), zh) for en, zh in REASONS_ZH.items()]
REASON_PARAMS = ("error", "why", "message")  # the params of a message that may hold such a reason
STUDENT_TEXT = ("exception_message", "source_line")  # the student's own words: shown as they are, never mapped


def localize_reason(lang: str, text):
  """An English reason of wire/worker/sandbox in `lang` (its values kept); any other value as it is."""
  if lang != "zh" or not isinstance(text, str):
    return text
  for pattern, zh in _REASON_PATTERNS:
    m = pattern.fullmatch(text)
    if m:
      values = m.groupdict()  # a reason inside a reason is mapped too; an exception's own message is not
      return zh.format_map({k: v if k == "message" else localize_reason(lang, v) for k, v in values.items()})
  return text
