import SkeinDashboard
import Testing

/// Color depth detection and the mapping of theme colors to terminal colors.
@Suite struct ColorTests {
  @Test func depthFollowsTheTerminalsColorCount() {
    #expect(ColorDepth(colors: -1) == .monochrome)
    #expect(ColorDepth(colors: 0) == .monochrome)
    #expect(ColorDepth(colors: 2) == .monochrome)
    #expect(ColorDepth(colors: 8) == .ansi8)
    #expect(ColorDepth(colors: 16) == .ansi16)
    #expect(ColorDepth(colors: 88) == .ansi16)
    #expect(ColorDepth(colors: 256) == .palette256)
    #expect(ColorDepth(colors: 0x100_0000) == .direct)
    #expect(ColorDepth.detect(colors: 256, environment: ["TERM": "xterm-256color"]) == .palette256)
  }

  @Test func noColorMeansMonochromeWhateverItsValue() {
    for value in ["", "1", "0", "no"] {
      #expect(
        ColorDepth.detect(colors: 0x100_0000, environment: ["NO_COLOR": value]) == .monochrome
      )
    }
  }

  @Test func rgbMapsToTheNearestPaletteEntry() {
    #expect(ColorResolver.nearestPaletteIndex(red: 0, green: 0, blue: 0) == 16)
    #expect(ColorResolver.nearestPaletteIndex(red: 255, green: 255, blue: 255) == 231)
    #expect(ColorResolver.nearestPaletteIndex(red: 255, green: 0, blue: 0) == 196)
    // Exact cube entries: #5fafd7 is 74, #ffd75f is 221.
    #expect(ColorResolver.nearestPaletteIndex(red: 0x5f, green: 0xaf, blue: 0xd7) == 74)
    #expect(ColorResolver.nearestPaletteIndex(red: 0xff, green: 0xd7, blue: 0x5f) == 221)
    // Greys land on the grey ramp: #808080 is 244, #d0d0d0 is 252.
    #expect(ColorResolver.nearestPaletteIndex(red: 0x80, green: 0x80, blue: 0x80) == 244)
    #expect(ColorResolver.nearestPaletteIndex(red: 0xd0, green: 0xd0, blue: 0xd0) == 252)
    // Off the palette: solarized's base03 #002b36 is nearer the grey #1c1c1c (234) than the
    // cube's #00005f (17); #264f78 is nearest the cube's #005f87 (24).
    #expect(ColorResolver.nearestPaletteIndex(red: 0x00, green: 0x2b, blue: 0x36) == 234)
    #expect(ColorResolver.nearestPaletteIndex(red: 0x26, green: 0x4f, blue: 0x78) == 24)
    #expect(ColorResolver.nearestPaletteIndex(red: 0x1c, green: 0x28, blue: 0x33) == 235)
  }

  @Test func rgbMapsToTheNearestBasicColor() {
    #expect(ColorResolver.nearestANSI(red: 255, green: 0, blue: 0, count: 16) == .brightRed)
    #expect(ColorResolver.nearestANSI(red: 255, green: 0, blue: 0, count: 8) == .red)
    #expect(
      ColorResolver.nearestANSI(red: 0x80, green: 0x80, blue: 0x80, count: 16) == .brightBlack
    )
    #expect(ColorResolver.nearestANSI(red: 0x26, green: 0x4f, blue: 0x78, count: 16) == .brightBlue)
    #expect(ColorResolver.nearestANSI(red: 0x26, green: 0x4f, blue: 0x78, count: 8) == .blue)
    #expect(ColorResolver.nearestANSI(red: 0x10, green: 0x10, blue: 0x10, count: 8) == .black)
    // Greys stay grey and colors stay colored (by plain distance: yellow, grey), dark tints
    // go to black.
    #expect(ColorResolver.nearestANSI(red: 0x80, green: 0x80, blue: 0x80, count: 8) == .white)
    #expect(ColorResolver.nearestANSI(red: 0x5f, green: 0xd7, blue: 0x5f, count: 16) == .green)
    #expect(ColorResolver.nearestANSI(red: 0x1c, green: 0x28, blue: 0x33, count: 16) == .black)
    #expect(ColorResolver.nearestANSI(red: 0x00, green: 0x2b, blue: 0x36, count: 16) == .black)
  }

  @Test func eachDepthResolvesColorsItsOwnWay() {
    let salmon = ThemeColor.rgb(red: 0xff, green: 0x5f, blue: 0x5f)
    let brightGreen = ThemeColor.ansi(.brightGreen)
    let green = ThemeColor.ansi(.green)

    let direct = ColorResolver(depth: .direct)
    #expect(direct.resolve(salmon) == TerminalColor(0xff5f5f))
    #expect(direct.resolve(.rgb(red: 0, green: 0, blue: 0)) == TerminalColor(8))
    #expect(direct.resolve(brightGreen) == TerminalColor(0x00ff00))
    #expect(direct.resolve(green) == TerminalColor(2))
    #expect(direct.resolve(.terminalDefault) == .terminalDefault)

    let palette = ColorResolver(depth: .palette256)
    #expect(palette.resolve(salmon) == TerminalColor(203))
    #expect(palette.resolve(brightGreen) == TerminalColor(10))

    let sixteen = ColorResolver(depth: .ansi16)
    #expect(sixteen.resolve(salmon) == TerminalColor(9))
    #expect(sixteen.resolve(brightGreen) == TerminalColor(10))

    let eight = ColorResolver(depth: .ansi8)
    #expect(eight.resolve(salmon) == TerminalColor(1))
    #expect(eight.resolve(brightGreen) == TerminalColor(2, bold: true))
    #expect(eight.resolve(green) == TerminalColor(2))
    #expect(eight.resolve(.terminalDefault) == .terminalDefault)

    let none = ColorResolver(depth: .monochrome)
    for color in [salmon, brightGreen, green, .terminalDefault] {
      #expect(none.resolve(color) == .terminalDefault)
    }
  }
}

/// The color pairs and attributes the terminal sets up for a theme.
@Suite struct RolePaletteTests {
  @Test func monochromeStillShowsSelectionTitlesAndHeader() {
    let palette = RolePalette(theme: .default, depth: .monochrome)
    #expect(palette.pairs.isEmpty)
    for role in StyleRole.allCases {
      let paint = palette[role]
      #expect(paint.pair == 0)
      #expect(paint.foreground == .terminalDefault && paint.background == .terminalDefault)
      #expect(paint.reverse == (role == .selection), "\(role)")
      #expect(paint.bold == (role == .title || role == .header), "\(role)")
    }
  }

  @Test func eachRoleHasItsOwnPairInColor() throws {
    let palette = RolePalette(theme: .default, depth: .palette256)
    let pairs = palette.pairs
    #expect(pairs.count == StyleRole.allCases.count)
    #expect(Set(pairs.map(\.pair)) == Set(1...Int32(StyleRole.allCases.count)))
    let selection = palette[.selection]
    #expect(selection.foreground == TerminalColor(231) && selection.background == TerminalColor(24))
    #expect(!selection.reverse && !selection.bold)
    let bad = palette[.bad]
    #expect(bad.foreground == TerminalColor(203) && bad.background == .terminalDefault)
    #expect(!palette[.title].bold)
  }

  @Test func aColorlessThemeOnAColorTerminalReadsLikeMonochrome() throws {
    let monochrome = try #require(ThemeCatalog.builtIn.theme(named: "monochrome"))
    let palette = RolePalette(theme: monochrome, depth: .direct)
    #expect(palette[.selection].reverse)
    #expect(palette[.title].bold)
    #expect(!palette[.ok].reverse && !palette[.ok].bold)
  }

  @Test func brightColorsAreBoldOnEightColorTerminals() throws {
    let highContrast = try #require(ThemeCatalog.builtIn.theme(named: "high-contrast"))
    let palette = RolePalette(theme: highContrast, depth: .ansi8)
    #expect(palette[.ok].foreground == TerminalColor(2, bold: true))
    #expect(palette[.ok].bold)
    #expect(palette[.header].background == TerminalColor(4))
    #expect(palette[.muted].foreground == TerminalColor(7))
    #expect(!palette[.muted].bold)
  }

  @Test func withoutDefaultColorsTheTerminalsOwnBecomesWhiteOnBlack() {
    let palette = RolePalette(theme: .default, depth: .palette256, terminalDefaultColors: false)
    #expect(palette[.normal].background == TerminalColor(0))
    let plain = RolePalette(theme: .default, depth: .palette256)
    #expect(plain[.normal].background == .terminalDefault)
  }
}
