"""Memory bombs: one 30 GB allocation, and allocations that grow until the address-space limit."""

HOSTILE = ["tensor_fusion", "low_rank_fusion"]


def tensor_fusion(z_text, z_image, z_audio):
  return bytearray(30 << 30)


def low_rank_fusion(params, z_text, z_image, z_audio):
  # bytes(n) comes from calloc: address space without resident pages, so the rlimit is the bound and the
  # host's memory is never touched.
  hoard = []
  for _ in range(1000):  # 1000 x 256 MiB = 250 GiB, far past any limit
    hoard.append(bytes(256 << 20))
  return len(hoard)
