#!/bin/sh
# C save -> Python load: test_pdparams writes state dicts with pactcl's writer,
# and make_fixtures.py checks that Python's pickle (with numpy) and, where it is
# installed, paddle.load read back exactly the expected arrays and values.
# Skips (77) where python3 with numpy is missing: numpy is a dev-time tool only.
set -eu
python3 -c 'import numpy' 2>/dev/null || { echo "python3 with numpy not found: skipped"; exit 77; }
srcdir=${srcdir:-.}
dir=$(mktemp -d "${TMPDIR:-/tmp}/pactcl-pdparams-py.XXXXXX")
trap 'rm -rf "$dir"' EXIT
./tests/test_pdparams write-samples "$dir"
python3 "$srcdir/tests/fixtures/pdparams/make_fixtures.py" verify \
    "$dir/model.pdparams" "$dir/opt.pdopt" "$dir/misc.pdparams" "$dir/big.pdparams"
