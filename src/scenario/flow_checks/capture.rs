//! A step's `capture:` validated: one source per variable, a name that
//! can be a variable, a regex group that exists.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::{CAPTURE_FORMS, CaptureSpec};
use crate::flow::{Capture, CaptureSource};
use crate::scenario::Position;
use crate::scenario::model::Text;
use crate::scenario::resolve::Validator;

impl Validator<'_> {
    /// A step's `capture:`, each entry a variable and where to find it; an
    /// entry with an error is left out (the error recorded).
    pub(in crate::scenario) fn captures(
        &mut self,
        specs: &BTreeMap<String, Spanned<CaptureSpec>>,
    ) -> Vec<Capture> {
        specs
            .iter()
            .filter_map(|(var, spec)| self.capture(var, spec))
            .collect()
    }

    fn capture(&mut self, var: &str, spec: &Spanned<CaptureSpec>) -> Option<Capture> {
        let at = Self::at(spec);
        let mut ok = self.variable_name(var, at);
        let map = &spec.value;
        let given: Vec<&str> = [
            ("json", map.json.is_some()),
            ("regex", map.regex.is_some()),
            ("header", map.header.is_some()),
            ("cookie", map.cookie.is_some()),
            ("status", map.status.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, given)| given.then_some(key))
        .collect();
        let what = format!("capture `{var}`");
        match given.as_slice() {
            [] => {
                self.error(
                    at,
                    format!("{what}: nothing to capture from"),
                    Some(CAPTURE_FORMS.into()),
                );
                return None;
            }
            [_] => {}
            [first, second, ..] => {
                self.error(
                    at,
                    format!("{what} has `{first}` and `{second}`; a capture takes one of them"),
                    Some("one value per variable: split it into two captures".into()),
                );
                return None;
            }
        }
        if let Some(group) = &map.group
            && map.regex.is_none()
        {
            self.error(
                Self::at(group),
                format!("{what}: `group` goes with `regex`"),
                Some("remove `group`, or capture with `regex: '...'`".into()),
            );
            ok = false;
        }
        let source = if let Some(path) = &map.json {
            let (path, text) = self.json_path(path, &what)?;
            CaptureSource::Json { path, text }
        } else if let Some(pattern) = &map.regex {
            self.regex_capture(pattern, map.group.as_ref(), &what)?
        } else if let Some(name) = &map.header {
            CaptureSource::Header(self.header_name(name, &what)?)
        } else if let Some(name) = &map.cookie {
            let text = name.value.trim();
            if text.is_empty() || text.contains(|c: char| "=;, \t\"".contains(c) || c.is_control())
            {
                self.error(
                    Self::at(name),
                    format!("{what}: `{}` is not a cookie name", name.value),
                    Some("the name before `=` in the response's `Set-Cookie`, e.g. `cookie: session`".into()),
                );
                return None;
            }
            CaptureSource::Cookie(text.to_string())
        } else {
            let status = map.status.as_ref().expect("the one source given");
            if !status.value {
                self.error(
                    Self::at(status),
                    format!("{what}: `status: false` captures nothing"),
                    Some("write `status: true` to capture the status code".into()),
                );
                return None;
            }
            CaptureSource::Status
        };
        ok.then(|| Capture {
            var: var.to_string(),
            source,
        })
    }

    /// A regex source whose group exists (default 1; 0 the whole match).
    fn regex_capture(
        &mut self,
        pattern: &Text,
        group: Option<&Spanned<u32>>,
        what: &str,
    ) -> Option<CaptureSource> {
        let regex = self.bytes_regex(pattern, what)?;
        let number = group.map_or(1, |g| g.value);
        // captures_len counts group 0, the whole match.
        let groups = regex.captures_len() - 1;
        if number as usize > groups {
            let at = group.map_or(Self::at(pattern), Self::at);
            let hint = if groups == 0 {
                "put the part to capture in parentheses, e.g. `id\":(\\d+)`, or write `group: 0` for the whole match".to_string()
            } else {
                format!("groups count from 1 (0 is the whole match); this regex has 1 to {groups}")
            };
            self.error(
                at,
                format!(
                    "{what}: the regex has no group {number} ({})",
                    crate::units::count(groups, "group")
                ),
                Some(hint),
            );
            return None;
        }
        Some(CaptureSource::Regex {
            regex,
            group: number as usize,
        })
    }

    /// True when `var` can be a variable: an identifier that is not a
    /// template function's name (`{{ uuid }}` would be ambiguous).
    fn variable_name(&mut self, var: &str, at: Option<Position>) -> bool {
        if !crate::plan::template::is_identifier(var) {
            self.error(
                at,
                format!("capture `{var}`: a variable's name is a letter or `_`, then letters, digits or `_`"),
                Some("e.g. `token`, `item_id`".into()),
            );
            return false;
        }
        if crate::plan::template::FUNCTIONS.contains(&var) {
            self.error(
                at,
                format!("capture `{var}`: `{var}` is a template function (`{{{{ {var} }}}}`)"),
                Some(format!("name the variable otherwise, e.g. `{var}_value`")),
            );
            return false;
        }
        true
    }
}
