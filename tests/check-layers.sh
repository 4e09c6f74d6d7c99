#!/usr/bin/env bash
# Keeps the pure layers pure: src/conf and src/pci must not include headers
# of the layers above them or anything that does I/O (sockets, netlink,
# GIO, files, processes).  Prints TAP.
set -u
src=${1:-$(dirname "$0")/../src}
forbidden='#include *[<"](host/|qemu/|daemon/|cli/|gio/|sys/socket\.h|sys/ioctl\.h|netlink/|linux/|fcntl\.h|unistd\.h|stdio\.h)'
n=0 bad=0
for layer in conf pci; do
  for f in "$src/$layer"/*.c "$src/$layer"/*.h; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    if hits=$(grep -nE "$forbidden" "$f"); then
      echo "not ok $n - $layer/$(basename "$f") includes an I/O or upper-layer header: $hits"
      bad=$((bad + 1))
    else
      echo "ok $n - $layer/$(basename "$f") is pure"
    fi
  done
done
echo "1..$n"
[ $bad -eq 0 ]
