#!/usr/bin/env bash
# The app in a real X11 window on a virtual screen (Xvfb), at 1600x1000 and 1024x700: start
# it with the README's launch command, press F5 (Train), type into the palette's search,
# press F1, open the template gallery (Ctrl+Shift+N), and capture the whole screen after
# each step. Not part of the test suite (CI has no X server); run it by hand after a change
# to the window (without a window manager, dialogs have no title bar and keys go to the
# main window):
#
#   apt-get install -y xvfb xdotool imagemagick  (+ the README's system libraries)
#   tools/xvfb_check.sh [OUT_DIR]          (default: /tmp/xvfb_check)
#
# Look at the captures (OUT_DIR/<size>_<step>.png); stderr of each start is in
# OUT_DIR/<size>_stderr.txt and printed at the end: it should be empty.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/xvfb_check}
mkdir -p "$OUT"
APP=${NN_DESIGNER:-.venv/bin/nn-designer}
[ -x "$APP" ] || APP="python -m designer"
export PYTHONPATH=$PWD QT_QPA_PLATFORM=xcb
DISPLAY_NO=:99

run_size() {   # WIDTHxHEIGHT
  local size=$1 home
  home=$(mktemp -d)   # a first start: no saved layout, no recent files
  Xvfb $DISPLAY_NO -screen 0 "${size}x24" -nolisten tcp &
  local xvfb=$!
  sleep 1
  DISPLAY=$DISPLAY_NO HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local \
    XDG_RUNTIME_DIR=$home $APP 2>"$OUT/${size}_stderr.txt" &
  local app=$!
  local win=""
  for _ in $(seq 60); do   # the main window, once mapped
    win=$(DISPLAY=$DISPLAY_NO xdotool search --onlyvisible --name "NN Designer" 2>/dev/null \
          | head -1) && [ -n "$win" ] && break
    sleep 0.5
  done
  if [ -z "$win" ]; then
    echo "$size: no window appeared"; kill $app $xvfb; return 1
  fi
  sleep 2
  shot() { DISPLAY=$DISPLAY_NO import -window root "$OUT/${size}_$1.png"; echo "$OUT/${size}_$1.png"; }
  x() { DISPLAY=$DISPLAY_NO xdotool "$@" 2>/dev/null; }   # no window manager: no focus
  shot start                                              # warnings wanted
  x windowfocus --sync "$win" || true
  x mousemove --window "$win" 400 300 click 1             # the canvas
  x key F5; sleep 8; shot trained                         # Train (F5) on the example
  x mousemove --window "$win" 120 90 click 1              # the palette's search field
  x type --delay 80 "relu"; sleep 1; shot search
  x key Escape; x key F1; sleep 1.5; shot f1
  x key Escape; x key ctrl+shift+n; sleep 2; shot gallery   # New from Template
  x key Escape; sleep 0.5
  kill $app 2>/dev/null || true; wait $app 2>/dev/null || true
  kill $xvfb; wait $xvfb 2>/dev/null || true
  rm -rf "$home"
}

run_size 1600x1000
run_size 1024x700
for f in "$OUT"/*_stderr.txt; do
  echo "== $f"; cat "$f"
done
