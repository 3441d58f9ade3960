//! What is wrong with a `refund.toml`, said without repeating it: the TOML parser's reasons
//! rebuilt from what the tool knows (its own section and key names, the kinds of values), never
//! cut out of the parser's text (a misplaced secret's quotes or backticks defeat any cutting).

use refund_core::Currency;
use refund_cpos::ResponseSignature;
use refund_openapi::TimestampUnit;

use super::{Accepted, SECTIONS};

/// A name of ours (a section or a key): the only file text a message may repeat.
pub(super) fn ours(name: &str) -> bool {
    SECTIONS
        .iter()
        .any(|(section, keys)| *section == name || keys.contains(&name))
}

/// serde's list of expected names, as its "unknown field" message writes it.
fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => "there are no fields".to_owned(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        all => format!("one of {}", all.join(", ")),
    }
}

/// The words the TOML parser's own syntax messages are made of; a line of other words is not
/// repeated (it may quote the file).
const PARSER_WORDS: [&str; 62] = [
    "invalid",
    "table",
    "header",
    "expected",
    "string",
    "basic",
    "literal",
    "key",
    "keys",
    "unexpected",
    "content",
    "newline",
    "duplicate",
    "in",
    "document",
    "root",
    "array",
    "arrays",
    "of",
    "tables",
    "integer",
    "float",
    "datetime",
    "boolean",
    "value",
    "values",
    "escape",
    "unicode",
    "multiline",
    "multi",
    "line",
    "comment",
    "whitespace",
    "leading",
    "zero",
    "zeros",
    "digit",
    "digits",
    "sign",
    "hex",
    "octal",
    "binary",
    "offset",
    "date",
    "time",
    "fraction",
    "mixed",
    "type",
    "types",
    "inline",
    "trailing",
    "comma",
    "separator",
    "equals",
    "end",
    "input",
    "character",
    "characters",
    "control",
    "non",
    "ascii",
    "or",
];

/// A short punctuation token the parser quotes (`` `.` ``, `` `]` ``, `` `"` ``), or a name of
/// ours.
fn quotable(token: &str) -> bool {
    (token.chars().count() <= 2 && !token.chars().any(char::is_alphanumeric)) || ours(token)
}

/// One line of the parser's reason, rebuilt from what we know rather than cut out of its text:
/// an unknown key, a wrong type or a duplicate key is said in our words with our names only;
/// our own messages and the parser's syntax messages pass when every word and quoted token is
/// one we know. Anything else is not repeated: a key or value in the wrong place may be a
/// secret, and its text can hold quotes or backticks that defeat any cutting.
fn reason_line(line: &str) -> String {
    if line.starts_with("unknown field ") {
        // The expected names are ours; which list it is tells the section. The unknown name
        // itself is never repeated.
        let root: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
        let lists = std::iter::once(root.as_slice()).chain(SECTIONS.iter().map(|(_, k)| *k));
        for names in lists {
            let expected = one_of(names);
            if line.ends_with(&format!(", expected {expected}")) {
                return format!("unknown key, expected {expected}");
            }
        }
        return "unknown key".to_owned();
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = line.strip_prefix(prefix) {
            const KINDS: [&str; 12] = [
                "boolean",
                "integer",
                "floating point",
                "character",
                "string",
                "byte array",
                "unit value",
                "sequence",
                "map",
                "enum",
                "datetime",
                "table",
            ];
            const EXPECTED: [&str; 10] = [
                "a string or an array of strings",
                "path string",
                "a string",
                "a sequence",
                "a boolean",
                "an integer",
                "a map",
                "struct OpenApiSection",
                "struct EdgerosSection",
                "struct CposSection",
            ];
            let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, ""));
            let kind = KINDS.iter().find(|k| found.starts_with(*k));
            let expected = EXPECTED.iter().find(|e| **e == expected);
            return match (kind, expected) {
                (Some(k), Some(e)) => format!("{prefix}{k}, expected {e}"),
                (None, Some(e)) => format!("{prefix}expected {e}"),
                _ => prefix.trim_end_matches([':', ' ']).to_owned(),
            };
        }
    }
    if line.starts_with("duplicate key ") {
        // "duplicate key `K` in table `T`": repeated only when both names are ours.
        let tokens: Vec<&str> = line.split('`').skip(1).step_by(2).collect();
        return match tokens.as_slice() {
            [key, table] if ours(key) && ours(table) => {
                format!("duplicate key `{key}` in table `{table}`")
            }
            [key] if ours(key) && line.ends_with("in document root") => {
                format!("duplicate key `{key}` in document root")
            }
            _ => "duplicate key".to_owned(),
        };
    }
    let own = [
        parsed_message::<Currency>(),
        parsed_message::<TimestampUnit>(),
        parsed_message::<ResponseSignature>(),
    ];
    if own.iter().any(|m| m == line) {
        return line.to_owned();
    }
    if let Some(name) = line
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
        .filter(|n| ours(n))
    {
        return format!("missing field `{name}`");
    }
    // The parser's syntax messages: every quoted token ours or punctuation, every other word
    // one of its own, no double quote outside a token.
    let pieces: Vec<&str> = line.split('`').collect();
    let balanced = pieces.len() % 2 == 1;
    let tokens_ok = pieces.iter().skip(1).step_by(2).all(|t| quotable(t));
    let words_ok = pieces.iter().step_by(2).all(|text| {
        !text.contains('"')
            && text
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .all(|w| {
                    PARSER_WORDS.contains(&w.to_ascii_lowercase().as_str())
                        || (w.len() <= 2 && w.bytes().all(|b| b.is_ascii_digit()))
                })
    });
    if balanced && tokens_ok && words_ok {
        line.to_owned()
    } else {
        "(the parser's reason is not shown: it may quote the file)".to_owned()
    }
}

/// The message [`parsed`] gives for a value its type refuses.
pub(super) fn parsed_message<T: Accepted>() -> String {
    format!("`{}` must be {}", T::KEY, T::ACCEPTED)
}

/// A TOML error as `(line L, column C, key K): reason`: the parser's own Display quotes the
/// offending line, which may hold a secret, so only positions, a known key name and the reason
/// are kept.
pub(crate) fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let mut place = Vec::new();
    if let Some(span) = e.span() {
        let before = text.get(..span.start).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        place.push(format!("line {line}, column {column}"));
        let line_text = text.lines().nth(line - 1).unwrap_or_default();
        let left = line_text.split('=').next().unwrap_or_default().trim();
        if ours(left) {
            place.push(format!("key `{left}`"));
        }
    }
    // The reason keeps toml's own lines (e.g. "invalid table header" / "expected `.`, `]`"),
    // each escaped and scrubbed, indented under the place.
    let reason: Vec<String> = e
        .message()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| crate::output::one_line(&reason_line(l.trim_end())))
        .collect();
    let reason = reason.join("\n  ");
    if place.is_empty() {
        reason
    } else {
        format!("({}):\n  {reason}", place.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn error_of(text: &str) -> String {
        match toml::from_str::<Config>(text) {
            Ok(_) => String::new(),
            Err(e) => describe_toml_error(text, &e),
        }
    }

    #[test]
    fn a_toml_error_keeps_its_layout() {
        let e = error_of("[cpos\nbase_url = \"http://x\"\n");
        assert_eq!(
            e,
            "(line 1, column 6):\n  invalid table header\n  expected `.`, `]`"
        );
    }

    #[test]
    fn config_errors_never_repeat_what_was_written() {
        let secret = "hunter2-SECRET";
        let e = error_of(&format!(
            "[cpos]\nbase_url = \"http://x\"\nsecret = \"{secret}\n"
        ));
        assert!(e.starts_with("(line 3, column "), "{e}");
        assert!(e.contains("key `secret`"), "{e}");
        assert!(!e.contains(secret), "{e}");
        let pem = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
        let e = error_of(&format!(
            "[openapi]\nprivate_key = \"\"\"\n{pem}\\q{pem}\n\"\"\"\n"
        ));
        assert!(e.contains("line 3"), "{e}");
        assert!(!e.contains(pem), "{e}");
        for text in [
            "[cpos]\nhunter2-SECRET = 1\n",
            "[cpos]\nsecret = 1\nsecret = \"hunter2-SECRET\"\n",
            "cpos = \"hunter2-SECRET\"\n",
            "[cpos]\nbase_url = [\"hunter2-SECRET\"]\n",
        ] {
            let e = error_of(text);
            assert!(!e.is_empty() && !e.contains(secret), "{text}: {e}");
        }
        assert_eq!(
            reason_line("unknown field `x-SECRET`, expected `secret`"),
            "unknown key"
        );
        // #29.19: names and values holding backticks or quotes cannot steer what is repeated.
        for text in [
            "[\"`SECRET\"]\n",
            "[cpos]\n\"`SECRET\" = 1\n",
            "[cpos]\n\"a`SECRETSECRET`c\" = 1\n",
            "[cpos]\n\"x`openapi`SECRET\" = 1\n",
            "cpos = \"x`SECRET\"\n",
            "cpos = \"x, expected SECRET\"\n",
            "[cpos]\nbase_url = 123456789\n",
            "[cpos.\"`SECRET`\"]\n",
            "[cpos]\n\"SECRET\" = 1\n\"SECRET\" = 2\n",
        ] {
            let e = error_of(text);
            assert!(!e.is_empty() && !e.contains("SECRET"), "{text}: {e}");
            assert!(!e.contains("123456789"), "{text}: {e}");
        }
        assert!(
            error_of("[\"`SECRET\"]\n")
                .ends_with("unknown key, expected one of `openapi`, `edgeros`, `cpos`"),
            "the expected names are ours: {}",
            error_of("[\"`SECRET\"]\n")
        );
        assert!(
            error_of("[cpos]\nbase_url = 1\n")
                .ends_with("invalid type: integer, expected a string")
        );
        assert!(
            error_of("[edgeros]\nplatform_public_key_file = 5\n")
                .ends_with("invalid type: integer, expected a string or an array of strings")
        );
        let e = error_of("[edgeros]\nplatform_public_key_file = [\"a\", 2]\n");
        assert!(
            e.ends_with("invalid type: integer, expected path string"),
            "{e}"
        );
        assert!(
            error_of("[cpos]\nsecret = 1\nsecret = 2\n")
                .ends_with("duplicate key `secret` in table `cpos`")
        );
        let e = error_of("[cpos]\nresponse_signature = \"hunter2-SECRET\"\n");
        assert!(
            e.contains("`response_signature` must be `required` or `optional`"),
            "{e}"
        );
        assert!(!e.contains(secret), "{e}");
    }
}
