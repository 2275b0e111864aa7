"""Tries to change files outside its scratch folder: the test's victims, the project, /tmp, via ../.."""

import json
import os

HOSTILE = ["attention_fusion"]
VICTIMS = json.loads('@@VICTIMS@@')  # files the test made: one root-owned, one in a world-writable folder
PROJECT = "@@PROJECT_ROOT@@"
TAG = "@@TAG@@"


def _attempt(what, fn):
  try:
    fn()
    return f"{what}: done"
  except OSError as e:
    return f"{what}: {type(e).__name__}"


def attention_fusion(vector_text, vector_image, vector_audio):
  log = []
  for v in VICTIMS:
    log.append(_attempt(f"append {v}", lambda: open(v, "a").write("owned")))
    log.append(_attempt(f"remove {v}", lambda: os.remove(v)))
    log.append(_attempt(f"new beside {v}", lambda: open(os.path.join(os.path.dirname(v), TAG), "w").write("x")))
  for path in (
    f"{PROJECT}/grader/{TAG}.py",
    f"{PROJECT}/{TAG}",
    f"/tmp/{TAG}",
    f"/var/tmp/{TAG}",
    f"/dev/shm/{TAG}",
    f"../../{TAG}",
    f"../../../{TAG}",
  ):
    log.append(_attempt(f"create {path}", lambda: open(path, "w").write("owned")))
  raise RuntimeError(f"writes: {log}")
