// Generated from themes/ by ThemeCatalogTests. Do not edit: change themes/ and regenerate with
// SKEIN_REGENERATE=1 swift test --filter ThemeCatalogTests
// swift-format-ignore-file

/// The theme files of `themes/`, by file name.
enum BuiltInThemes {
  static let files: [String: String] = [
"default.theme": ##"""
# Skein default: dark background, calm accents. `key = color`; colors are names
# (black red green yellow blue magenta cyan white, bright-* variants, default) or #rrggbb.
# An empty value or `default` means the terminal's own color.
name = default
background = default
foreground = #d0d0d0
muted = #808080
border = #4e5a65
title = #5fafd7
header.background = #1c2833
header.foreground = #e0e0e0
selection.background = #264f78
selection.foreground = #ffffff
ok = #5fd75f
warn = #ffd75f
bad = #ff5f5f
accent = #af87ff
graph = #5fafd7
graph.high = #ff8787
hint.key = #ffd75f
hint.text = #a0a0a0

"""##,
"high-contrast.theme": ##"""
# High contrast: pure colors on black, for low vision and bright rooms.
name = high-contrast
background = black
foreground = bright-white
muted = white
border = bright-white
title = bright-cyan
header.background = blue
header.foreground = bright-white
selection.background = bright-white
selection.foreground = black
ok = bright-green
warn = bright-yellow
bad = bright-red
accent = bright-magenta
graph = bright-cyan
graph.high = bright-red
hint.key = bright-yellow
hint.text = bright-white

"""##,
"light.theme": ##"""
# Light: for terminals with a white background.
name = light
background = default
foreground = #202020
muted = #707070
border = #b0b8c0
title = #005f87
header.background = #e4e8ec
header.foreground = #101010
selection.background = #bcd6f0
selection.foreground = #000000
ok = #007a00
warn = #a06000
bad = #c00000
accent = #6a3fb5
graph = #005f87
graph.high = #c00000
hint.key = #a06000
hint.text = #505050

"""##,
"monochrome.theme": ##"""
# Monochrome: no colors at all; states read from symbols and words (also used for NO_COLOR).
name = monochrome
background = default
foreground = default
muted = default
border = default
title = default
header.background = default
header.foreground = default
selection.background = default
selection.foreground = default
ok = default
warn = default
bad = default
accent = default
graph = default
graph.high = default
hint.key = default
hint.text = default

"""##,
"solarized-dark.theme": ##"""
# Solarized dark, after Ethan Schoonover's palette.
name = solarized-dark
background = #002b36
foreground = #839496
muted = #586e75
border = #073642
title = #268bd2
header.background = #073642
header.foreground = #93a1a1
selection.background = #073642
selection.foreground = #eee8d5
ok = #859900
warn = #b58900
bad = #dc322f
accent = #6c71c4
graph = #2aa198
graph.high = #cb4b16
hint.key = #b58900
hint.text = #93a1a1

"""##,
  ]
}
