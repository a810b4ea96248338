//! The in-memory series store: one series per label set (the metric name is
//! the label `__name__`), samples in time order, Prometheus's staleness
//! marker when a series disappears. Limits on series and samples turn
//! unbounded growth into a clear error, and the store keeps the list of
//! what its limits (and the scrapes') kept out, so no reader mistakes
//! truncated data for complete data.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::histogram::tag::{self, Home};
use super::histogram::{FloatHistogram, Hint};
use super::loss::Loss;

/// The label a series' metric name is kept in.
pub const NAME: &str = "__name__";
/// Prometheus 3's metadata labels: a series' metric type and unit.
pub const TYPE: &str = "__type__";
pub const UNIT: &str = "__unit__";

/// The NaN bit pattern Prometheus writes when a series goes stale; any other
/// NaN is a value.
pub const STALE_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a value.
pub fn stale() -> f64 {
    f64::from_bits(STALE_BITS)
}

pub fn is_stale(value: f64) -> bool {
    value.to_bits() == STALE_BITS
}

/// A label set, sorted by name, shared cheaply, with its hash computed
/// once (evaluation hashes label sets constantly).
#[derive(Clone, Default)]
pub struct Labels(Arc<LabelPairs>);

#[derive(Default)]
struct LabelPairs {
    pairs: Box<[(String, String)]>,
    hash: u64,
}

impl PartialEq for Labels {
    fn eq(&self, other: &Labels) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.hash == other.0.hash && self.0.pairs == other.0.pairs)
    }
}

impl Eq for Labels {}

impl std::hash::Hash for Labels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Labels) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    fn cmp(&self, other: &Labels) -> std::cmp::Ordering {
        self.0.pairs.cmp(&other.0.pairs)
    }
}

impl Labels {
    /// Sorts `pairs` by name and drops empty values (an empty value is the
    /// same as no label, as in Prometheus).
    pub fn new(mut pairs: Vec<(String, String)>) -> Labels {
        pairs.retain(|(_, value)| !value.is_empty());
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|a, b| a.0 == b.0);
        Labels::sorted(pairs)
    }

    /// From pairs already sorted, unique and non-empty.
    fn sorted(pairs: Vec<(String, String)>) -> Labels {
        use std::hash::{Hash, Hasher};
        let mut hasher = rustc_hash::FxHasher::default();
        pairs.hash(&mut hasher);
        Labels(Arc::new(LabelPairs {
            pairs: pairs.into_boxed_slice(),
            hash: hasher.finish(),
        }))
    }

    /// From borrowed pairs, e.g. `Labels::from_pairs(&[("__name__", "up")])`.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
    }

    pub fn empty() -> Labels {
        Labels::default()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        let pairs = &self.0.pairs;
        pairs
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| pairs[i].1.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.pairs.is_empty()
    }

    pub fn name(&self) -> Option<&str> {
        self.get(NAME)
    }

    /// The same labels without the metric name.
    pub fn without_name(&self) -> Labels {
        if self.name().is_none() {
            return self.clone();
        }
        self.filter(|name| name != NAME)
    }

    /// Without `__name__` and the `__type__` and `__unit__` metadata
    /// labels: what Prometheus 3 leaves when an operation drops a series'
    /// name (`DropReserved(schema.IsMetadataLabel)`: a rate is no longer
    /// the counter it was computed from).
    pub fn without_metadata(&self) -> Labels {
        if !self
            .iter()
            .any(|(name, _)| name == NAME || name == TYPE || name == UNIT)
        {
            return self.clone();
        }
        self.filter(|name| name != NAME && name != TYPE && name != UNIT)
    }

    /// Keeps the labels for which `keep(name)` holds.
    pub fn filter(&self, mut keep: impl FnMut(&str) -> bool) -> Labels {
        Labels::sorted(
            self.0
                .pairs
                .iter()
                .filter(|(n, _)| keep(n))
                .cloned()
                .collect(),
        )
    }

    /// Sets (or, with an empty value, removes) one label.
    pub fn with(&self, name: &str, value: &str) -> Labels {
        let mut pairs: Vec<(String, String)> = self
            .0
            .pairs
            .iter()
            .filter(|(n, _)| n != name)
            .cloned()
            .collect();
        if !value.is_empty() {
            pairs.push((name.to_string(), value.to_string()));
        }
        Labels::new(pairs)
    }
}

impl fmt::Display for Labels {
    /// `name{a="1", b="2"}`, as Prometheus prints a series; a name that is
    /// not a legacy one is quoted, the metric's inside the braces
    /// (`{"my.metric", "label.x"="v"}`), as Prometheus 3 prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        let legacy = name.is_none_or(is_legacy_metric_name);
        if let Some(name) = name.filter(|_| legacy) {
            f.write_str(name)?;
        }
        f.write_str("{")?;
        let mut first = true;
        if let Some(name) = name.filter(|_| !legacy) {
            write!(f, "\"{}\"", quote(name))?;
            first = false;
        }
        for (name, value) in self.iter().filter(|(n, _)| *n != NAME) {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if is_legacy_label_name(name) {
                f.write_str(name)?;
            } else {
                write!(f, "\"{}\"", quote(name))?;
            }
            write!(f, "=\"{}\"", quote(value))?;
        }
        f.write_str("}")
    }
}

/// As Prometheus quotes a label value: backslash, double quote and line
/// feed escaped, any other character as it is.
fn quote(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, a name PromQL need not quote.
pub fn is_legacy_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_legacy_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One sample: milliseconds since the epoch and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub t: i64,
    pub v: f64,
}

/// One series.
#[derive(Debug, Clone)]
pub struct Series {
    pub labels: Labels,
    /// `labels` without `__name__` (and the `__type__` and `__unit__`
    /// metadata labels), what a function that drops the name leaves; kept
    /// so functions need not rebuild it.
    pub without_name: Labels,
    /// In time order; may hold staleness markers.
    pub points: Vec<Point>,
    /// Whether any point is a staleness marker (most series have none, and
    /// a range selection then needs no scan).
    pub has_stale: bool,
}

/// How much a store may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub series: usize,
    pub samples: usize,
}

impl Default for Limits {
    /// 100,000 series and 50 million samples (about 800 MB).
    fn default() -> Limits {
        Limits {
            series: 100_000,
            samples: 50_000_000,
        }
    }
}

/// Why a sample was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error(
        "series limit reached: {limit} series are stored (raise metrics.max_series, or drop metrics you do not query)"
    )]
    TooManySeries { limit: usize },
    #[error(
        "sample limit reached: {limit} samples are stored (raise metrics.max_samples, or scrape less often)"
    )]
    TooManySamples { limit: usize },
}

/// Series by label set.
#[derive(Debug, Clone, Default)]
pub struct Store {
    series: Vec<Series>,
    index: HashMap<Labels, usize>,
    by_name: HashMap<String, Vec<usize>>,
    samples: usize,
    limits: Limits,
    losses: Vec<Loss>,
    /// Native histogram samples, which points name by a tag (see
    /// [`super::histogram::tag`]).
    histograms: Vec<Arc<FloatHistogram>>,
}

impl Store {
    pub fn new(limits: Limits) -> Store {
        Store {
            limits,
            ..Store::default()
        }
    }

    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// Indices of the series named `name`.
    pub fn named(&self, name: &str) -> &[usize] {
        self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn sample_count(&self) -> usize {
        self.samples
    }

    /// The index of the series with `labels`, created if new.
    pub fn series_id(&mut self, labels: &Labels) -> Result<usize, StoreError> {
        if let Some(&id) = self.index.get(labels) {
            return Ok(id);
        }
        if self.series.len() >= self.limits.series {
            return Err(StoreError::TooManySeries {
                limit: self.limits.series,
            });
        }
        let id = self.series.len();
        self.series.push(Series {
            labels: labels.clone(),
            without_name: labels.without_metadata(),
            points: Vec::new(),
            has_stale: false,
        });
        self.index.insert(labels.clone(), id);
        if let Some(name) = labels.name() {
            self.by_name.entry(name.to_string()).or_default().push(id);
        }
        Ok(id)
    }

    /// Appends a sample. One at or before the series' last timestamp is
    /// dropped, as Prometheus drops out-of-order samples; returns whether it
    /// was stored.
    pub fn append(&mut self, id: usize, t: i64, v: f64) -> Result<bool, StoreError> {
        if self.samples >= self.limits.samples {
            return Err(StoreError::TooManySamples {
                limit: self.limits.samples,
            });
        }
        let series = &mut self.series[id];
        if series.points.last().is_some_and(|last| last.t >= t) {
            return Ok(false);
        }
        // A histogram tag this store cannot resolve (one a query computed)
        // is kept as NaN, never as a name for another histogram.
        let v = match tag::decode(v) {
            Some((Home::Store, i)) if i < self.histograms.len() => v,
            Some(_) => f64::NAN,
            None => v,
        };
        series.points.push(Point { t, v });
        series.has_stale |= is_stale(v);
        self.samples += 1;
        Ok(true)
    }

    /// Appends by label set.
    pub fn add(&mut self, labels: &Labels, t: i64, v: f64) -> Result<bool, StoreError> {
        let id = self.series_id(labels)?;
        self.append(id, t, v)
    }

    /// Appends a native histogram sample (as [`Store::append`] a float).
    pub fn append_histogram(
        &mut self,
        id: usize,
        t: i64,
        h: FloatHistogram,
    ) -> Result<bool, StoreError> {
        if self.histograms.len() >= tag::MAX_INDEX {
            return Err(StoreError::TooManySamples {
                limit: self.samples,
            });
        }
        let mut h = h;
        let given = std::mem::take(&mut h.hint);
        h.hint = self.stored_hint(id, given, &h);
        let v = tag::encode(Home::Store, self.histograms.len());
        self.histograms.push(Arc::new(h));
        let stored = self.append(id, t, v);
        if !matches!(stored, Ok(true)) {
            self.histograms.pop();
        }
        stored
    }

    /// The counter-reset hint Prometheus's TSDB gives `h` back with when
    /// it is appended to series `id` (its histogram chunks, read back by
    /// `counterResetHint`): a gauge stays a gauge; a counter histogram
    /// that continues the previous one (a counter histogram of the same
    /// schema, zero threshold and custom bounds, with no reset and no
    /// explicit reset hint) is `NotCounterReset`; any other starts a chunk
    /// and is `Unknown`. Prometheus also starts a chunk at its size and
    /// time limits (about 1 KiB, the 2 h block range), where the hint is
    /// `Unknown` too; this store does not model those cuts.
    /// `h` comes with its hint `given` taken out (as `Unknown`).
    fn stored_hint(&self, id: usize, given: Hint, h: &FloatHistogram) -> Hint {
        if given == Hint::Gauge {
            return Hint::Gauge;
        }
        let previous = self.series[id]
            .points
            .last()
            .and_then(|p| match tag::decode(p.v) {
                Some((Home::Store, i)) => self.histograms.get(i),
                _ => None,
            });
        let continues = previous.is_some_and(|prev| {
            prev.hint != Hint::Gauge
                && given != Hint::CounterReset
                && prev.schema == h.schema
                && prev.zero_threshold == h.zero_threshold
                && prev.custom_values == h.custom_values
                && !h.detect_reset(prev)
        });
        if continues {
            Hint::NotCounterReset
        } else {
            Hint::Unknown
        }
    }

    /// The histogram a tagged point of this store names.
    pub fn histogram(&self, index: usize) -> Option<&Arc<FloatHistogram>> {
        self.histograms.get(index)
    }

    /// Whether any sample is a native histogram (evaluation looks for
    /// histograms only then).
    pub fn has_histograms(&self) -> bool {
        !self.histograms.is_empty()
    }

    /// What limits kept out of the store, in the order it happened.
    pub fn losses(&self) -> &[Loss] {
        &self.losses
    }

    /// Records a loss; with `extends`, the index of the loss that the same
    /// target's previous scrape recorded, it widens that one instead (one
    /// entry per stretch of consecutive scrapes). Returns the loss's index.
    pub fn record_loss(&mut self, loss: Loss, extends: Option<usize>) -> usize {
        if let Some(index) = extends
            && let Some(last) = self.losses.get_mut(index)
            && last.kind == loss.kind
            && last.target == loss.target
        {
            last.last_ms = loss.last_ms;
            last.scrapes += loss.scrapes;
            last.series_dropped = last.series_dropped.max(loss.series_dropped);
            last.samples_dropped += loss.samples_dropped;
            return index;
        }
        self.losses.push(loss);
        self.losses.len() - 1
    }

    /// The earliest and latest sample times, if any.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let first = self
            .series
            .iter()
            .filter_map(|s| s.points.first())
            .map(|p| p.t)
            .min()?;
        let last = self
            .series
            .iter()
            .filter_map(|s| s.points.last())
            .map(|p| p.t)
            .max()?;
        Some((first, last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sorted_and_empty_values_dropped() {
        let l = Labels::from_pairs(&[("b", "2"), (NAME, "up"), ("a", "1"), ("c", "")]);
        assert_eq!(l.to_string(), "up{a=\"1\", b=\"2\"}");
        assert_eq!(l.get("c"), None);
        assert_eq!(l.without_name().to_string(), "{a=\"1\", b=\"2\"}");
        // Dropping the name drops Prometheus 3's metadata labels with it;
        // dropping only the name (signatures, `without`) keeps them.
        let typed = l.with(TYPE, "counter").with(UNIT, "seconds");
        assert_eq!(typed.without_metadata(), l.without_name());
        assert_eq!(typed.without_name().get(TYPE), Some("counter"));
        assert_eq!(l.with("a", "").to_string(), "up{b=\"2\"}");
    }

    #[test]
    fn utf8_names_print_quoted_as_prometheus_3_prints_them() {
        let l = Labels::from_pairs(&[(NAME, "my.metric"), ("label.x", "v"), ("a", "b")]);
        assert_eq!(l.to_string(), r#"{"my.metric", a="b", "label.x"="v"}"#);
        let l = Labels::from_pairs(&[(NAME, "ok:name"), ("é", "1")]);
        assert_eq!(l.to_string(), r#"ok:name{"é"="1"}"#);
        assert_eq!(Labels::from_pairs(&[(NAME, "1x")]).to_string(), r#"{"1x"}"#);
    }

    #[test]
    fn label_values_print_as_prometheus_quotes_them() {
        let l = Labels::from_pairs(&[("v", "café 'x' \"y\" a\\b\nc")]);
        assert_eq!(l.to_string(), r#"{v="café 'x' \"y\" a\\b\nc"}"#);
    }

    #[test]
    fn out_of_order_samples_are_dropped_and_limits_hold() {
        let mut store = Store::new(Limits {
            series: 2,
            samples: 3,
        });
        let a = Labels::from_pairs(&[(NAME, "a")]);
        assert!(store.add(&a, 1000, 1.0).unwrap());
        assert!(!store.add(&a, 1000, 2.0).unwrap());
        assert!(store.add(&a, 2000, stale()).unwrap());
        assert!(is_stale(store.series()[0].points[1].v));
        assert!(!is_stale(f64::NAN));
        store
            .add(&Labels::from_pairs(&[(NAME, "b")]), 1000, 1.0)
            .unwrap();
        assert_eq!(
            store.add(&Labels::from_pairs(&[(NAME, "c")]), 1000, 1.0),
            Err(StoreError::TooManySeries { limit: 2 })
        );
        assert_eq!(
            store.add(&a, 3000, 1.0),
            Err(StoreError::TooManySamples { limit: 3 })
        );
        assert_eq!(store.named("a"), &[0]);
        assert_eq!(store.time_range(), Some((1000, 2000)));
    }

    #[test]
    fn histograms_are_stored_by_tag_and_foreign_tags_are_not() {
        use crate::metrics::histogram::FloatHistogram;
        let mut store = Store::default();
        let h = Labels::from_pairs(&[(NAME, "h")]);
        let id = store.series_id(&h).unwrap();
        let histogram = FloatHistogram {
            count: 3.0,
            ..FloatHistogram::default()
        };
        assert!(store.append_histogram(id, 1000, histogram.clone()).unwrap());
        assert!(!store.append_histogram(id, 1000, histogram).unwrap());
        assert!(store.has_histograms());
        let v = store.series()[id].points[0].v;
        let (_, index) = tag::decode(v).unwrap();
        assert_eq!(store.histogram(index).unwrap().count, 3.0);
        // A query's own tag, or one past this store's list, is NaN here.
        assert!(store.add(&h, 2000, tag::encode(Home::Query, 0)).unwrap());
        assert!(store.add(&h, 3000, tag::encode(Home::Store, 9)).unwrap());
        for p in &store.series()[id].points[1..] {
            assert!(p.v.is_nan() && !tag::is_histogram(p.v));
        }
    }
}
