//! Closed code lists (enums whose wire value is an English `snake_case` word and whose
//! label is Chinese), declared once with [`code_list!`](crate::code_list).

/// A closed list of codes: every variant, its wire value and its Chinese label.
pub trait CodeList: Sized + Copy + 'static {
    /// The name of the list, as it appears in the API (`Sector`, `Scale`, ...).
    const NAME: &'static str;
    /// Every variant, in the documented order.
    const ALL: &'static [Self];
    /// The wire value (`non_coal_mine`).
    fn as_str(&self) -> &'static str;
    /// The Chinese label (`非煤矿山`).
    fn label_zh(&self) -> &'static str;
    /// Parses a wire value; `None` for anything not in the list.
    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == code)
    }
    /// The wire values, for error messages ("one of a, b, c").
    fn codes() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.as_str()).collect()
    }
}

/// The error of parsing a code that is not in its list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' 不是有效的 {list}，可选值：{expected}")]
pub struct UnknownCode {
    /// The list's name.
    pub list: &'static str,
    /// The value that was given.
    pub value: String,
    /// The accepted values, comma-separated.
    pub expected: String,
}

/// Declares a [`CodeList`] enum with serde (de)serialisation by wire value, `Display`
/// and `FromStr`.
#[macro_export]
macro_rules! code_list {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $label:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $crate::CodeList for $name {
            const NAME: &'static str = stringify!($name);
            const ALL: &'static [Self] = &[ $( Self::$variant ),+ ];
            fn as_str(&self) -> &'static str { match self { $( Self::$variant => $code ),+ } }
            fn label_zh(&self) -> &'static str { match self { $( Self::$variant => $label ),+ } }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::CodeList::as_str(self))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as $crate::CodeList>::from_code(s).ok_or_else(|| $crate::UnknownCode {
                    list: stringify!($name),
                    value: s.to_owned(),
                    expected: <Self as $crate::CodeList>::codes().join(", "),
                })
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::CodeList::as_str(self))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
