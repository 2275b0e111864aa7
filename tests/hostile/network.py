"""Tries to reach the machine: a TCP listener on loopback (IPv4 and IPv6), UDP, and a Unix socket."""

import socket

HOSTILE = ["feature_fusion"]
PORT = int("@@PORT@@")
UNIX = "@@UNIX_SOCKET@@"


def _try(family, kind, address):
  s = socket.socket(family, kind)
  s.settimeout(2)
  try:
    s.connect(address)
    s.sendall(b"exfiltrated")
    # A datagram "connect" only names the peer; whether it arrived only the listener can tell.
    return "connected" if kind == socket.SOCK_STREAM else "datagram sent"
  except OSError as e:
    return type(e).__name__
  finally:
    s.close()


def feature_fusion(vector_text, vector_image, vector_audio):
  got = {
    "tcp4": _try(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", PORT)),
    "tcp6": _try(socket.AF_INET6, socket.SOCK_STREAM, ("::1", PORT)),
    "udp4": _try(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", PORT)),
    "unix": _try(socket.AF_UNIX, socket.SOCK_STREAM, UNIX),
  }
  raise RuntimeError(f"network: {got}")
