//! Validation of a closed-model phase's `think`: a duration, or a
//! distribution to draw each pause from. Part of [`super::resolve`].

use std::time::Duration;

use serde_saphyr::Spanned;

use super::Position;
use super::model::{StringOr, Text, ThinkSpec};
use super::resolve::Validator;
use crate::plan::Think;
use crate::units::parse_duration;

const FORMS: &str = "e.g. `think: 100ms`, `think: {min: 50ms, max: 150ms}`, `think: {mean: 100ms}` or `think: {mean: 100ms, stddev: 20ms}`";

impl Validator<'_> {
    /// The think time of a closed-model phase; no pause when it is wrong
    /// (the error is recorded).
    pub(super) fn think(&mut self, spec: &Spanned<StringOr<ThinkSpec>>) -> Think {
        let map = match &spec.value {
            StringOr::String(text) => {
                return self
                    .think_duration(text, Self::at(spec), "think")
                    .map_or_else(Think::default, Think::Constant);
            }
            StringOr::Map(map) => map,
        };
        let uniform = map.min.is_some() || map.max.is_some();
        let gaussian = map.mean.is_some() || map.stddev.is_some();
        if uniform == gaussian {
            let message = if uniform {
                "`think` is either uniform (`min`, `max`) or drawn around a `mean`, not both"
            } else {
                "`think` as a map needs `min` and `max`, or a `mean`"
            };
            self.error(Self::at(spec), message, Some(FORMS.into()));
            return Think::default();
        }
        let get = |v: &mut Self, key: &str, text: &Option<Text>| match text {
            Some(text) => v
                .think_duration(&text.value, Self::at(text), &format!("think `{key}`"))
                .map(Some),
            None => Some(None),
        };
        if uniform {
            let (Some(min), Some(max)) = (get(self, "min", &map.min), get(self, "max", &map.max))
            else {
                return Think::default();
            };
            return match (min, max) {
                (Some(min), Some(max)) if min > max => {
                    let at = map.min.as_ref().and_then(Self::at);
                    self.error(
                        at,
                        format!("think `min` ({min:?}) is more than `max` ({max:?})"),
                        Some("swap them: `min` is the shortest pause".into()),
                    );
                    Think::default()
                }
                (Some(min), Some(max)) if min == max => Think::Constant(min),
                (Some(min), Some(max)) => Think::Uniform { min, max },
                _ => {
                    let missing = if min.is_none() { "min" } else { "max" };
                    self.error(
                        Self::at(spec),
                        format!(
                            "a uniform `think` needs both `min` and `max`; `{missing}` is missing"
                        ),
                        Some("e.g. `think: {min: 50ms, max: 150ms}`".into()),
                    );
                    Think::default()
                }
            };
        }
        let (Some(mean), Some(stddev)) = (
            get(self, "mean", &map.mean),
            get(self, "stddev", &map.stddev),
        ) else {
            return Think::default();
        };
        match (mean, stddev) {
            (Some(mean), None) if mean.is_zero() => Think::default(),
            (Some(mean), None) => Think::Exponential { mean },
            (Some(mean), Some(stddev)) if stddev.is_zero() => Think::Constant(mean),
            (Some(mean), Some(stddev)) => Think::Normal { mean, stddev },
            (None, _) => {
                let at = map.stddev.as_ref().and_then(Self::at);
                self.error(
                    at,
                    "think `stddev` needs a `mean`",
                    Some("e.g. `think: {mean: 100ms, stddev: 20ms}` (normal) or `think: {mean: 100ms}` (exponential)".into()),
                );
                Think::default()
            }
        }
    }

    /// A pause of zero or more, the error (`what: ...`) recorded if not.
    fn think_duration(&mut self, text: &str, at: Option<Position>, what: &str) -> Option<Duration> {
        if text.trim_start().starts_with('-') {
            self.error(
                at,
                format!("{what} cannot be negative (`{text}`)"),
                Some("a pause is 0 or more, e.g. 100ms".into()),
            );
            return None;
        }
        match parse_duration(text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(at, format!("{what}: {e}"), Some(FORMS.into()));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::plan::Think;
    use crate::scenario::{Load, resolve};

    fn think(value: &str) -> Think {
        let source = format!(
            "name: t\ntargets: {{api: http://127.0.0.1:1}}\nrequests: [{{name: x, url: \"${{api}}/x\"}}]\nphases:\n  - {{name: a, duration: 1s, load: {{concurrency: 1, think: {value}}}}}\n"
        );
        let scenario = resolve(Path::new("t.yaml"), &source, &|_| None)
            .unwrap_or_else(|e| panic!("{value}: {}", e[0]));
        match scenario.phases[0].load {
            Load::Closed { think, .. } => think,
            Load::Open { .. } => panic!("closed model expected"),
        }
    }

    #[test]
    fn each_form_reads_as_its_distribution() {
        let ms = Duration::from_millis;
        assert_eq!(think("100ms"), Think::Constant(ms(100)));
        assert_eq!(
            think("{min: 50ms, max: 150ms}"),
            Think::Uniform {
                min: ms(50),
                max: ms(150)
            }
        );
        assert_eq!(think("{mean: 100ms}"), Think::Exponential { mean: ms(100) });
        assert_eq!(
            think("{mean: 100ms, stddev: 20ms}"),
            Think::Normal {
                mean: ms(100),
                stddev: ms(20)
            }
        );
    }

    #[test]
    fn degenerate_distributions_are_constants_and_zero_is_no_pause() {
        let ms = Duration::from_millis;
        assert_eq!(think("{min: 80ms, max: 80ms}"), Think::Constant(ms(80)));
        assert_eq!(think("{mean: 80ms, stddev: 0s}"), Think::Constant(ms(80)));
        assert!(think("{mean: 0s}").is_zero());
        assert!(think("0s").is_zero());
    }
}
