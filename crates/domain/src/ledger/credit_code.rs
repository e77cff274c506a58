//! The Unified Social Credit Code (统一社会信用代码).
//!
//! Rule: GB 32100-2015 《法人和其他组织统一社会信用代码编码规则》 — 18 characters: registration
//! authority (1), entity type (2), GB/T 2260 region of the registering authority (3–8), entity
//! identifier (9–17), check character (18). See GB 32100-2015 and
//! `book/src/ledger/credit-code.md`.

use std::fmt;

/// The 31-character alphabet of GB 32100-2015: digits and capitals without I, O, S, V, Z.
/// A character's value is its index here.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1–17: 3^(i−1) mod 31 (GB 32100-2015 §5.2).
pub const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The length of a credit code.
pub const LENGTH: usize = 18;

/// A valid Unified Social Credit Code, normalised (half-width, upper case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

/// Everything that can be wrong with a credit code, each saying exactly what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Nothing was given (after trimming).
    #[error("统一社会信用代码为空")]
    Empty,
    /// Not 18 characters.
    #[error("统一社会信用代码应为 18 位，实际为 {got} 位")]
    Length {
        /// Characters given.
        got: usize,
    },
    /// A character outside the GB 32100 alphabet.
    #[error("第 {position} 位的字符 '{ch}' 不允许使用（不含 I、O、Z、S、V）")]
    Character {
        /// The offending character.
        ch: char,
        /// 1-based position.
        position: usize,
    },
    /// Positions 3–8 must be the digits of a GB/T 2260 region code.
    #[error("第 3–8 位应为行政区划码（6 位数字），实际为 '{got}'")]
    Region {
        /// The characters at positions 3–8.
        got: String,
    },
    /// The region digits do not start with a province code.
    #[error("行政区划码 {got} 不以省级代码（11–65）开头")]
    Province {
        /// The region code given.
        got: String,
    },
    /// The check character does not match positions 1–17.
    #[error("校验码应为 {expected}，实际为 {got}（GB 32100-2015）")]
    Check {
        /// What the algorithm computes.
        expected: char,
        /// What was given.
        got: char,
    },
}

/// First two digits of GB/T 2260 province-level codes (mainland).
const PROVINCES: [u8; 31] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65,
];

fn value_of(ch: char) -> Option<u32> {
    ALPHABET.find(ch).and_then(|i| u32::try_from(i).ok())
}

/// Folds full-width forms (U+FF01–U+FF5E) to ASCII and the ideographic space to a space.
fn half_width(ch: char) -> char {
    match ch {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
        _ => ch,
    }
}

/// Normalises user input: full-width to half-width, trim, upper case.
pub fn normalise(input: &str) -> String {
    input
        .chars()
        .map(half_width)
        .collect::<String>()
        .trim()
        .to_uppercase()
}

/// Computes the check character for the first 17 characters of a code.
///
/// Rule: GB 32100-2015 §5.2 — C18 = 31 − (Σ value(Cᵢ)·Wᵢ mod 31), 31 becomes 0.
pub fn check_character(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut count = 0;
    for (ch, w) in first17.chars().zip(WEIGHTS) {
        sum += value_of(ch)? * w;
        count += 1;
    }
    if count != 17 || first17.chars().count() != 17 {
        return None;
    }
    let v = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(usize::try_from(v).ok()?)
}

impl CreditCode {
    /// Normalises and checks a credit code, saying exactly what is wrong.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let code = normalise(input);
        if code.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != LENGTH {
            return Err(CreditCodeError::Length { got: chars.len() });
        }
        if let Some((i, &ch)) = chars
            .iter()
            .enumerate()
            .find(|(_, c)| value_of(**c).is_none())
        {
            return Err(CreditCodeError::Character {
                ch,
                position: i + 1,
            });
        }
        let region: String = chars[2..8].iter().collect();
        if !region.chars().all(|c| c.is_ascii_digit()) {
            return Err(CreditCodeError::Region { got: region });
        }
        let province: u8 = region[..2].parse().unwrap_or(0);
        if !PROVINCES.contains(&province) {
            return Err(CreditCodeError::Province { got: region });
        }
        let first17: String = chars[..17].iter().collect();
        let expected = check_character(&first17).ok_or(CreditCodeError::Length { got: 0 })?;
        if chars[17] != expected {
            return Err(CreditCodeError::Check {
                expected,
                got: chars[17],
            });
        }
        Ok(Self(code))
    }

    /// Re-creates a code read back from SafeGrade's own storage, which only ever holds codes
    /// that passed [`CreditCode::parse`]: checks only the length and alphabet, not the
    /// check character, so listing thousands of records stays cheap. `None` means the stored
    /// value was tampered with.
    pub fn from_stored(code: String) -> Option<Self> {
        (code.len() == LENGTH
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        .then_some(Self(code))
    }

    /// The normalised code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The GB/T 2260 region code of the registering authority (positions 3–8).
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Real published codes (the GB 32100-2015 algorithm re-run on them).
    const REAL: [&str; 2] = ["914403001922038216", "91440300708461136T"];

    #[test]
    fn real_codes_validate() {
        for code in REAL {
            assert_eq!(
                CreditCode::parse(code).map(|c| c.to_string()),
                Ok(code.to_owned())
            );
        }
    }

    #[test]
    fn normalises_full_width_case_and_spaces() {
        let input = "\u{3000}９１４４０３００７０８４６１１３６ｔ ";
        assert_eq!(
            CreditCode::parse(input).map(|c| c.to_string()),
            Ok("91440300708461136T".to_owned())
        );
        assert_eq!(
            CreditCode::parse("91440300708461136t").map(|c| c.region_code().to_owned()),
            Ok("440300".to_owned())
        );
    }

    #[test]
    fn says_exactly_what_is_wrong() {
        let cases = [
            ("", "统一社会信用代码为空"),
            (
                "9144030019220382",
                "统一社会信用代码应为 18 位，实际为 16 位",
            ),
            (
                "91440300O92203821",
                "统一社会信用代码应为 18 位，实际为 17 位",
            ),
            (
                "91440300O922038216",
                "第 9 位的字符 'O' 不允许使用（不含 I、O、Z、S、V）",
            ),
            (
                "9144A300192203821X",
                "第 3–8 位应为行政区划码（6 位数字），实际为 '44A300'",
            ),
            (
                "919903001922038216",
                "行政区划码 990300 不以省级代码（11–65）开头",
            ),
            (
                "914403001922038215",
                "校验码应为 6，实际为 5（GB 32100-2015）",
            ),
        ];
        for (input, message) in cases {
            let err = CreditCode::parse(input).err().map(|e| e.to_string());
            assert_eq!(err.as_deref(), Some(message), "input {input:?}");
        }
    }

    fn valid_code() -> impl Strategy<Value = String> {
        let alphabet: Vec<char> = ALPHABET.chars().collect();
        (
            proptest::sample::select(vec!['1', '5', '9', 'Y']),
            proptest::sample::select(alphabet.clone()),
            proptest::sample::select(PROVINCES.to_vec()),
            "[0-9]{4}",
            proptest::collection::vec(proptest::sample::select(alphabet), 9),
        )
            .prop_map(|(a, b, p, r, id)| {
                let first17: String =
                    format!("{a}{b}{p:02}{r}{}", id.into_iter().collect::<String>());
                let check = check_character(&first17).unwrap_or('?');
                format!("{first17}{check}")
            })
    }

    proptest! {
        #[test]
        fn generated_codes_validate(code in valid_code()) {
            prop_assert!(CreditCode::parse(&code).is_ok());
        }

        /// Any single-character change of a valid code is rejected: the weights are powers
        /// of 3 modulo the prime 31, so every single substitution changes the checksum.
        #[test]
        fn any_single_change_is_rejected(
            code in prop_oneof![Just(REAL[0].to_owned()), Just(REAL[1].to_owned()), valid_code()],
            position in 0usize..18,
            replacement in proptest::char::range('0', 'Z'),
        ) {
            let mut chars: Vec<char> = code.chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert!(CreditCode::parse(&changed).is_err(), "{changed} accepted");
        }
    }
}
