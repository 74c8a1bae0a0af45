#!/usr/bin/env bash
# cnnviz setup: everything `npm start`, `npm test` and CI need beyond `npm install`.
# Idempotent and offline-friendly: installs only what is missing, never downloads at run time
# anything but Debian packages, and says what to install by hand where apt is unavailable.
#
#   bash kernel-setup/setup.sh           Jupyter, fonts, Fashion-MNIST, Chromium, the kernel
#   bash kernel-setup/setup.sh --bench   also the benchmark peers (PyTorch, scikit-learn, umap-learn)
#   bash kernel-setup/setup.sh --no-apt  skip system packages, only register the kernel
#   bash kernel-setup/setup.sh --frontends  also JupyterLab 4 and Notebook 7 (a venv in kernel-setup/.frontends)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
want_bench=0
use_apt=1
want_frontends=0
for arg in "$@"; do
  case "$arg" in
    --bench) want_bench=1 ;;
    --no-apt) use_apt=0 ;;
    --frontends) want_frontends=1 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "kernel-setup: unknown option '$arg' (valid: --bench, --no-apt, --frontends)" >&2; exit 2 ;;
  esac
done

say() { echo "cnnviz setup: $*"; }

# Debian packages: what each is for.
pkgs=(
  jupyter-notebook      # the notebook server (classic Notebook)
  python3-nbconvert     # npm run lecture: notebooks -> HTML
  python3-nbclient      # headless notebook execution in tests
  python3-jupyter-client
  fonts-dejavu-core     # one font for every figure's labels
  dataset-fashion-mnist # /usr/share/datasets/fashion-mnist
  chromium              # the real-browser check of rendered notebooks
  bubblewrap            # cnnviz grade: one sandbox per submitted notebook
)
if [ "$want_bench" = 1 ]; then
  pkgs+=(python3-torch python3-sklearn umap-learn python3-numpy)
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${pkgs[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || missing+=("$p")
  done
else
  missing=("${pkgs[@]}")
fi

if [ "${#missing[@]}" -gt 0 ] && [ "$use_apt" = 1 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then
      if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        say "need root to install: ${missing[*]}"; say "run: sudo apt-get install -y ${missing[*]}"; exit 1
      fi
    fi
    say "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" \
      >/tmp/cnnviz-apt.log 2>&1 || {
      tail -20 /tmp/cnnviz-apt.log >&2
      say "apt-get install failed (log: /tmp/cnnviz-apt.log)"
      exit 1
    }
  else
    say "apt-get not found; please install by other means:"
    say "  Jupyter: pip install notebook nbconvert nbclient jupyter_client"
    say "  Fashion-MNIST: put the four IDX .gz files in a folder and set CNNVIZ_DATA to it"
    say "  (cnnviz downloads them to ~/.cache/cnnviz when online)"
    say "  A Chromium or Chrome for the browser test, and the DejaVu fonts"
  fi
elif [ "${#missing[@]}" -gt 0 ]; then
  say "skipping system packages (--no-apt); missing: ${missing[*]}"
else
  say "system packages present"
fi

# The Python that has Jupyter: CNNVIZ_PYTHON, then Debian's, then whatever python3 is first on PATH.
python=""
for cand in "${CNNVIZ_PYTHON:-}" /usr/bin/python3 "$(command -v python3 || true)"; do
  [ -n "$cand" ] && [ -x "$cand" ] || continue
  if "$cand" -c 'import jupyter_client' >/dev/null 2>&1; then python="$cand"; break; fi
done
if [ -z "$python" ]; then
  say "no Python with jupyter_client found; install Jupyter (see above) or set CNNVIZ_PYTHON"
  exit 1
fi

# Third-party data (ImageNet weights, CIFAR-10, sample photos) into the data folder, checked
# against data-manifest.json: from the mirror (CNNVIZ_MIRROR, default ../shared/data), the photos
# from Debian's darknet and python3-skimage packages (downloaded and unpacked, not installed),
# else from the public URLs. Missing data is reported, not fatal: the kernel still gets registered.
if ! node "$here/fill-data.js" --check >/dev/null 2>&1; then
  debs_dir=""
  photos_missing="$(node -e '
    const fs=require("fs"),os=require("os"),path=require("path");
    const m=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));
    const dir=process.env.CNNVIZ_DATA||path.join(os.homedir(),".cache","cnnviz");
    const e=m.entries.find(x=>x.name==="photos");
    console.log(e.files.some(f=>!fs.existsSync(path.join(dir,f.path)))?"yes":"no");' "$root/data-manifest.json")"
  if [ "$photos_missing" = yes ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
    debs_dir="$(mktemp -d)"
    say "taking the sample photos out of Debian's darknet and python3-skimage packages (not installed)"
    if ! (cd "$debs_dir" && apt-get download darknet python3-skimage >/dev/null 2>&1); then
      apt-get update -q >/dev/null 2>&1 || true
      (cd "$debs_dir" && apt-get download darknet python3-skimage >/dev/null 2>&1) ||
        say "apt-get download darknet python3-skimage failed; sample photos stay missing"
    fi
    for deb in "$debs_dir"/*.deb; do [ -f "$deb" ] && dpkg-deb -x "$deb" "$debs_dir/x"; done
  fi
  node "$here/fill-data.js" ${debs_dir:+--debs "$debs_dir/x"} ||
    say "some data files are missing (see above); the techniques that need them will say so"
  [ -n "$debs_dir" ] && rm -rf "$debs_dir"
else
  data_dir=$(node -p 'process.env.CNNVIZ_DATA || require("path").join(require("os").homedir(), ".cache", "cnnviz")')
  say "data folder complete ($data_dir)"
fi

# node_modules/cnnviz -> the repo, so notebooks import 'cnnviz' by name.
if [ -d "$root/node_modules" ]; then node "$here/link-self.js" >/dev/null; fi

node_bin="$(command -v node)"
tslab="$root/node_modules/tslab/bin/tslab"
if [ ! -f "$tslab" ]; then
  say "tslab is not installed in $root/node_modules; run 'npm install' first"
  exit 1
fi

spec_dir="$(mktemp -d)"
trap 'rm -rf "$spec_dir"' EXIT
cat >"$spec_dir/kernel.json" <<JSON
{
  "argv": ["$node_bin", "$tslab", "kernel", "--config-path", "{connection_file}"],
  "display_name": "TypeScript (cnnviz)",
  "language": "typescript",
  "env": {"NODE_OPTIONS": "--max-old-space-size=8192"},
  "metadata": {"cnnviz_root": "$root"}
}
JSON
kernel_dir="$("$python" - "$spec_dir" <<'PY'
import sys
from jupyter_client.kernelspec import KernelSpecManager
ksm = KernelSpecManager()
user = True
print(ksm.install_kernel_spec(sys.argv[1], kernel_name="cnnviz", user=user))
PY
)"
say "kernel 'cnnviz' (TypeScript (cnnviz)) registered in $kernel_dir, run by $python's Jupyter"
echo "$python" >"$root/kernel-setup/.python"

# JupyterLab 4 and Notebook 7, for the front-end browser test (test/frontends.test.ts), in a venv of
# their own: Debian's Jupyter (classic Notebook 6, nbclient) stays as it is, and the kernel above is
# found by both (same Jupyter data folder). pip uses its own configuration; where that names a local
# index (file://) as an extra index, it becomes the index, so an unreachable default index is not tried.
if [ "$want_frontends" = 1 ]; then
  venv="${CNNVIZ_FRONTENDS:-$root/kernel-setup/.frontends}"
  if [ -x "$venv/bin/jupyter-lab" ] && [ -x "$venv/bin/jupyter-notebook" ]; then
    say "JupyterLab and Notebook 7 present ($venv)"
  else
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv" || { say "cannot make a venv with $python (python3-venv?)"; exit 1; }
    pip_args=(--disable-pip-version-check -q)
    if [ -z "${PIP_INDEX_URL:-}" ]; then
      extra="$("$venv/bin/pip" config get global.extra-index-url 2>/dev/null || true)"
      first="${extra%%[[:space:]]*}"
      case "$first" in file://*) pip_args+=(--index-url "$first") ;; esac
    fi
    say "installing JupyterLab 4 and Notebook 7 into $venv"
    "$venv/bin/pip" install "${pip_args[@]}" 'jupyterlab>=4,<5' 'notebook>=7,<8' >/tmp/cnnviz-pip.log 2>&1 || {
      tail -20 /tmp/cnnviz-pip.log >&2
      say "pip install failed (log: /tmp/cnnviz-pip.log)"
      exit 1
    }
  fi
  say "front ends: $("$venv/bin/jupyter-lab" --version | head -1) (Lab), $("$venv/bin/jupyter-notebook" --version | head -1) (Notebook)"
fi
