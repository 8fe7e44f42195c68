/// A synthetic speaker for the pipeline-demonstration data set (`avpgan synth-data`): voice
/// parameters for espeak-ng and the face attributes that follow from them, so that a model can
/// learn a real voice -> face mapping:
/// - pitch and voice variant (male/female) -> face shape (width, jaw) and hair (length, colour);
/// - language -> skin tone;
/// - speaking rate -> eye size and spacing.
public struct SyntheticSpeaker: Sendable, Equatable {
    public var id: String
    public var language: String     // espeak-ng voice, e.g. "en-us", "de", "fr", "es", "it"
    public var variant: String       // espeak-ng variant: "m1"..."m5", "f1"..."f4"
    public var pitch: Int            // espeak-ng -p, 0-99
    public var rate: Int             // espeak-ng -s, words per minute
    public var heldOut: Bool

    public static let languages = ["en-us", "de", "fr", "es", "it"]
    static let variants = ["m1", "m2", "m3", "m4", "m5", "f1", "f2", "f3", "f4"]

    public var isFemale: Bool { variant.hasPrefix("f") }

    /// `count` speakers from `seed`; every `heldOutEvery`-th one is held out (test identities).
    public static func make(count: Int, seed: UInt64, heldOutEvery: Int = 5) -> [SyntheticSpeaker] {
        var rng = SplitMix(seed: seed)
        return (0..<count).map { i in
            let language = languages[Int(rng.next() % UInt64(languages.count))]
            let variant = variants[Int(rng.next() % UInt64(variants.count))]
            let female = variant.hasPrefix("f")
            let pitch = (female ? 50 : 15) + Int(rng.next() % 40)
            let rate = 120 + Int(rng.next() % 80)
            let id = "id" + String(repeating: "0", count: max(0, 4 - String(i).count)) + String(i)
            return SyntheticSpeaker(id: id, language: language, variant: variant, pitch: pitch, rate: rate,
                                    heldOut: heldOutEvery > 0 && i % heldOutEvery == heldOutEvery - 1)
        }
    }

    /// The espeak-ng arguments that speak `text` into `wav`.
    public func espeakArguments(text: String, wav: String) -> [String] {
        ["-v", "\(language)+\(variant)", "-p", String(pitch), "-s", String(rate), "-w", wav, text]
    }

    /// Sentences in the speaker's language (several per speaker: `utterance` picks one).
    public func sentence(_ utterance: Int) -> String {
        let table: [String: [String]] = [
            "en-us": ["The weather is fine today and the train leaves at nine.", "Please call me back when you get this message.",
                      "I have never seen so many birds over the river.", "Numbers like seven and forty two are easy to say.",
                      "She sells sea shells by the sea shore."],
            "de": ["Das Wetter ist heute schön und der Zug fährt um neun.", "Bitte ruf mich zurück, wenn du das hörst.",
                   "Ich habe noch nie so viele Vögel am Fluss gesehen.", "Zahlen wie sieben und zweiundvierzig sind leicht.",
                   "Der Hund läuft schnell über die grüne Wiese."],
            "fr": ["Il fait beau aujourd'hui et le train part à neuf heures.", "Rappelle-moi quand tu entends ce message.",
                   "Je n'ai jamais vu autant d'oiseaux sur la rivière.", "Les nombres comme sept et quarante deux sont faciles.",
                   "Le chat dort tranquillement sur le canapé."],
            "es": ["Hoy hace buen tiempo y el tren sale a las nueve.", "Por favor llámame cuando escuches este mensaje.",
                   "Nunca he visto tantos pájaros sobre el río.", "Los números como siete y cuarenta y dos son fáciles.",
                   "El perro corre rápido por el parque verde."],
            "it": ["Oggi il tempo è bello e il treno parte alle nove.", "Per favore richiamami quando senti questo messaggio.",
                   "Non ho mai visto tanti uccelli sopra il fiume.", "Numeri come sette e quarantadue sono facili.",
                   "Il gatto dorme tranquillo sul divano."],
        ]
        let list = table[language] ?? table["en-us"]!
        return list[utterance % list.count]
    }
}
