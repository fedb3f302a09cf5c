#!/usr/bin/env bash
# Builds Backprop Studio's Linux executables with PyInstaller (packaging/backprop-studio.spec).
#
#   bash packaging/build.sh [--onedir|--onefile|--all]     (default: --all)
#
#   --onedir   dist/backprop-studio/backprop-studio   (one folder, fastest to start)
#   --onefile  dist/backprop-studio-onefile           (one self-extracting file)
#
# On a fresh machine it first runs .ci/setup (system libraries, .venv, the project), then
# installs the pinned PyInstaller into .venv if it is missing or another version. Each
# build starts clean (build/pyinstaller and the outputs are replaced).
set -euo pipefail
cd "$(dirname "$0")/.."

PYINSTALLER_PIN="pyinstaller==6.22.*"
PYINSTALLER_SERIES="6.22."

mode=all
case "${1:---all}" in
  --onedir) mode=onedir ;;
  --onefile) mode=onefile ;;
  --all) mode=all ;;
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bash packaging/build.sh [--onedir|--onefile|--all]" >&2; exit 2 ;;
esac

bash .ci/setup
py=.venv/bin/python
if ! "$py" -c "import PyInstaller, sys; sys.exit(not PyInstaller.__version__.startswith('$PYINSTALLER_SERIES'))" 2>/dev/null; then
  echo "Installing $PYINSTALLER_PIN into .venv"
  "$py" -m pip install -q "$PYINSTALLER_PIN"
fi

start=$SECONDS
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller \
  packaging/backprop-studio.spec -- --mode "$mode"

echo "Built in $((SECONDS - start)) s:"
if [[ $mode != onefile ]]; then
  echo "  dist/backprop-studio/backprop-studio  ($(du -sh dist/backprop-studio | cut -f1) folder)"
fi
if [[ $mode != onedir ]]; then
  echo "  dist/backprop-studio-onefile          ($(du -h dist/backprop-studio-onefile | cut -f1))"
fi
exe=dist/backprop-studio/backprop-studio
[[ $mode == onefile ]] && exe=dist/backprop-studio-onefile
echo "Check it with: QT_QPA_PLATFORM=offscreen $exe --self-test"
