//! YAML values read as Go's YAML libraries read them into Prometheus's
//! types: a null (`rules:` with nothing after it, `~`) is the empty value
//! of the field's type, and a scalar read into a string field is its
//! literal text (`0x720`, `1.0`, `n` stay as written, never re-typed as a
//! number or a boolean).

use serde::{Deserialize, Deserializer};

/// `#[serde(default, deserialize_with = "nullable::or_default")]`: a null
/// is `T::default()` (an empty list or map, an empty string).
pub(crate) fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A string field: the scalar's literal text, `""` for a null (a label
/// `job_name:` with no value, as Go reads it into a `map[string]string`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Str(pub String);

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Str(
            Option::<String>::deserialize(deserializer)?.unwrap_or_default()
        ))
    }
}

impl Str {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Str {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl std::fmt::Display for Str {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        #[serde(default, deserialize_with = "or_default")]
        list: Vec<Str>,
        #[serde(default, deserialize_with = "or_default")]
        map: BTreeMap<String, Str>,
    }

    #[test]
    fn nulls_are_empty_and_scalars_keep_their_text() {
        let doc: Doc =
            serde_saphyr::from_str("list:\nmap: {a: 1.0, b: n, c: 0x720, d: , e: 010, f: yes}\n")
                .unwrap();
        assert!(doc.list.is_empty());
        let got: Vec<(&str, &str)> = doc
            .map
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", "1.0"),
                ("b", "n"),
                ("c", "0x720"),
                ("d", ""),
                ("e", "010"),
                ("f", "yes")
            ]
        );
        let doc: Doc = serde_saphyr::from_str("list: [0x10, ~, 1e3]\nmap:\n").unwrap();
        assert_eq!(
            doc.list,
            [Str("0x10".into()), Str(String::new()), Str("1e3".into())]
        );
        assert!(doc.map.is_empty());
    }
}
