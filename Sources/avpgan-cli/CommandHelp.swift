/// What each `avpgan` command accepts and says about itself: its synopsis, description, options
/// with their defaults, and examples. One table serves the option parser (which options a
/// command knows, and which take a value), `avpgan help`, `avpgan CMD --help` and the manual page
/// (packaging/make-manpage.sh reads `avpgan help CMD`), so the three cannot drift apart.
struct CommandHelp {
    /// One option: `name` (`--model`, `-o`), the placeholder of its value (nil for a flag; in
    /// brackets, `[FILE]`, for a value that may be left out), what it does, and its default as
    /// the user sees it (nil when there is none to show).
    struct Option {
        let name: String
        let value: String?
        let help: String
        let defaultValue: String?

        init(_ name: String, _ value: String?, _ help: String, default defaultValue: String? = nil) {
            self.name = name
            self.value = value
            self.help = help
            self.defaultValue = defaultValue
        }
    }

    let name: String
    /// Other names the command answers to (kept for scripts written against them).
    var aliases: [String] = []
    /// What follows `avpgan NAME` in the usage line.
    let synopsis: String
    /// One line for the command list.
    let summary: String
    let description: String
    var options: [Option] = []
    var examples: [String] = []

    /// Names of the options that take a value.
    var valueOptions: Set<String> { Set(options.filter { $0.value != nil }.map(\.name)) }
    /// Names of the options whose value may be left out (placeholder in brackets): the next
    /// argument is their value only when it names a `.safetensors` file.
    var optionalValueOptions: Set<String> { Set(options.filter { $0.value?.hasPrefix("[") == true }.map(\.name)) }
    /// Names of the options that take none.
    var flags: Set<String> { Set(options.filter { $0.value == nil }.map(\.name)) + ["--help", "-h"] }

    /// The command called `name` (or one of its aliases), if any.
    static func named(_ name: String) -> CommandHelp? {
        all.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// `avpgan CMD --help`: usage, description, options with defaults, examples; at most 80 columns.
    var text: String {
        var lines = wrap("usage: avpgan \(name) \(synopsis)", indent: 4)
        lines.append("")
        lines += wrap(description, indent: 0)
        if !aliases.isEmpty { lines += ["", "Also called: \(aliases.joined(separator: ", "))."] }
        if !options.isEmpty {
            lines += ["", "options:"]
            for option in options {
                let head = "  " + option.name + (option.value.map { " " + $0 } ?? "")
                var help = option.help
                if let d = option.defaultValue { help += " (default: \(d))" }
                lines += CommandHelp.column(head, help)
            }
            lines += CommandHelp.column("  -h, --help", "this text")
        }
        if !examples.isEmpty {
            lines += ["", "examples:"] + examples.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// `avpgan help`: the command list.
    static var overview: String {
        var lines = ["usage: avpgan <command> [options]", "", "commands:"]
        for command in all {
            let also = command.aliases.isEmpty ? "" : " (also: \(command.aliases.joined(separator: ", ")))"
            lines += column("  " + command.name, command.summary + also, at: 20)
        }
        lines += ["", "avpgan help COMMAND (or avpgan COMMAND --help) shows a command's options and",
                  "their defaults. Without --model, commands use the default model (see avpgan help",
                  "portrait)."]
        return lines.joined(separator: "\n")
    }

    /// The option of this command closest to a mistyped `name`, when one is close enough.
    func closestOption(to name: String) -> String? {
        let candidates = options.map(\.name) + ["--help"]
        let scored = candidates.map { ($0, CommandHelp.editDistance(name, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored else { return nil }
        let prefix = candidates.filter { $0.hasPrefix(name) && name.count >= 3 }
        if prefix.count == 1 { return prefix[0] }
        return distance <= max(2, best.count / 4) ? best : nil
    }

    // MARK: - Layout

    static let width = 80
    static let helpColumn = 28

    /// `head` then `help` wrapped in the help column (help on the next line when head is long).
    static func column(_ head: String, _ help: String, at helpColumn: Int = helpColumn) -> [String] {
        let body = wrapWords(help, width: width - helpColumn)
        let pad = String(repeating: " ", count: helpColumn)
        if head.count <= helpColumn - 2 {
            let first = head + String(repeating: " ", count: helpColumn - head.count) + (body.first ?? "")
            return [first] + body.dropFirst().map { pad + $0 }
        }
        return [head] + body.map { pad + $0 }
    }

    func wrap(_ text: String, indent: Int) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { paragraph -> [String] in
            let words = CommandHelp.wrapWords(String(paragraph), width: CommandHelp.width - indent)
            guard let first = words.first else { return [""] }
            return [first] + words.dropFirst().map { String(repeating: " ", count: indent) + $0 }
        }
    }

    /// Words of `text` in lines of at most `width` characters (a longer word stands alone).
    static func wrapWords(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if line.isEmpty { line = String(word) } else if line.count + 1 + word.count <= width { line += " " + word } else {
                lines.append(line)
                line = String(word)
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// Levenshtein distance (insertions, deletions, substitutions), for "did you mean".
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

private func + (lhs: Set<String>, rhs: [String]) -> Set<String> { lhs.union(rhs) }
