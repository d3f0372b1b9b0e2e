#!/bin/sh
# Regenerates the tray icons (ImageMagick 6 or 7). Colour AND shape tell the state,
# for colour-blind employees: a tick (compliant, green), a bar (action needed, amber),
# a cross (overdue, red), a question mark (unknown: agent unreachable, never reported
# or out of date, grey). PNG for Linux and macOS, ICO (16/32/48) for Windows.
set -eu
cd "$(dirname "$0")"
IM=convert
command -v magick >/dev/null 2>&1 && IM=magick
disc() { # colour, then draw commands for the white glyph
  colour=$1; shift
  "$IM" -size 64x64 xc:none -fill "$colour" -stroke '#00000040' -strokewidth 2 -draw 'circle 32,32 32,3' \
    -fill none -stroke white -strokewidth 8 -draw "$@" -define png:exclude-chunks=date,time -strip "$name.png"
  "$IM" "$name.png" -define icon:auto-resize=48,32,16 "$name.ico"
}
name=compliant;     disc '#2e7d32' 'stroke-linecap round stroke-linejoin round polyline 19,33 28,42 45,23'
name=action-needed; disc '#ef8f00' 'stroke-linecap round line 32,17 32,36 line 32,47 32,47'
name=overdue;       disc '#c62828' 'stroke-linecap round line 22,22 42,42 line 42,22 22,42'
name=unknown;       disc '#757575' 'stroke-linecap round ellipse 32,23 9,9 180,405 line 38.4,29.4 32,34 line 32,34 32,37 line 32,47 32,47'
