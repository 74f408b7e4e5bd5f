#!/usr/bin/env bash
# build.sh OUT: links the torture build of jos-settle, OUT, from $BUILD/engine/main.o,
# $BUILD/libjos.a (make check's build-san when BUILD says so: then OUT has ASan+UBSan)
# and tests/torture/fault.c, with every allocation and write-side call wrapped
# (-Wl,--wrap=...) so that JOS_FAULT_KIND/JOS_FAULT_AT can fail the Nth one.
# Used by tests/torture.sh and tests/crashsafe.sh.
set -euo pipefail
out=${1:?usage: build.sh OUT}
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
# built by make (make check for BUILD=build-san): not rebuilt here, whose flags would differ
[ -f "$BUILD/libjos.a" ] && [ -f "$BUILD/engine/main.o" ] || { echo "build.sh: build $BUILD first" >&2; exit 1; }
san=
if nm "$BUILD/libjos.a" 2>/dev/null | grep "__asan_init" >/dev/null; then
	san="-fsanitize=address,undefined -fno-sanitize-recover=all"
fi
pkgs="libxml-2.0 openssl xmlsec1-openssl xlsxwriter"
wrap=
for f in malloc calloc realloc strdup strndup posix_memalign write fsync syncfs open close rename mkdir unlink rmdir; do
	wrap="$wrap,--wrap=$f"
done
# shellcheck disable=SC2046,SC2086
cc -std=c11 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -Wno-unused-parameter $san \
	$(pkg-config --cflags $pkgs) -o "$out" tests/torture/fault.c "$BUILD/engine/main.o" \
	"$BUILD/libjos.a" -Wl$wrap $(pkg-config --libs $pkgs)
