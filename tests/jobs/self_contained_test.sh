#!/usr/bin/env bash
# The repository is self-contained: no file under src/, configs/, jobs/, tests/, docs/ or slurm/ names a path into a
# `shared/` folder beside the checkout (the developers' copy), and the data the built-in benchmarks default to
# is in the repository (data/, listed with its origin, licence and sha256 in data/SOURCES.md).
#   self_contained_test.sh SOURCE_DIR
set -euo pipefail
src=$1
cd "$src"
# The developers' folder name is spelt through a variable so that this check itself reads nothing there.
dev=shared
pattern="\\.\\./$dev|$dev/data|$dev/fixtures|$dev/research|$dev/DESIGN|LOOM_SHARED_DIR"
if hits=$(grep -rnE "$pattern" src configs jobs tests docs slurm --exclude=self_contained_test.sh); then
  echo "paths into the developers' $dev/ folder:"; echo "$hits"; exit 1
fi
# a built-in default data folder is in the repository, or is where tools/fetch_data.py puts a benchmark (data/.gitignore)
for dir in $(sed -n 's/^  default_\(data\|essay\)_dir: \([^ ]*\).*/\2/p' configs/benchmarks/*.yaml | sort -u); do
  case "$dir" in ../../data/*) ;; *) echo "default folder $dir is outside the repository's data/"; exit 1 ;; esac
  name=${dir#../../data/}
  [ -d "configs/benchmarks/$dir" ] || grep -qx "/$name/" data/.gitignore ||
    { echo "default folder $dir is neither shipped nor a tools/fetch_data.py target"; exit 1; }
done
# every shipped data file is listed in data/SOURCES.md with its sha256
missing=0
while IFS= read -r f; do
  rel=${f#data/}
  sum=$(sha256sum "$f" | cut -c1-64)
  grep -q "$sum" data/SOURCES.md || { echo "data/SOURCES.md lacks $rel ($sum)"; missing=1; }
done < <(git ls-files data 2>/dev/null | grep -v -e '^data/SOURCES.md$' -e '^data/.gitignore$' -e 'README.md$' ||
         find data -type f ! -name SOURCES.md ! -name .gitignore ! -name README.md)
[ "$missing" -eq 0 ]
echo "self-contained"
