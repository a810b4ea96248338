//! The evaluator: expressions at an instant, and range queries as instants
//! at every step, within the query's [`Limits`].

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{AtModifier, Expr, Offset, VectorSelector};

use super::limits::{Budget, Limits};
use super::{Error, Labels, Matrix, RangeSeries, Sample, Series, Value};
use crate::metrics::histogram::FloatHistogram;
use crate::metrics::store::{NAME, Point, Store, is_stale};

/// Evaluates expressions over one store.
pub struct Evaluator<'s> {
    store: &'s Store,
    lookback: i64,
    default_step: i64,
    /// The query's range, for `@ start()` and `@ end()`.
    pub(super) start: i64,
    pub(super) end: i64,
    /// The range query's step; 0 for an instant query (`step()`).
    pub(super) step: i64,
    /// Series each selector matches, resolved once per query (keyed by the
    /// selector's address, valid while the query's AST lives).
    selections: RefCell<FxHashMap<usize, Arc<[usize]>>>,
    /// Per selector and selected series, where the last window began and
    /// ended: a range query's next step starts its search there instead of
    /// binary-searching (which misses the cache at every probe).
    cursors: RefCell<FxHashMap<usize, Vec<(usize, usize)>>>,
    /// Per series, the running sum of counter-reset corrections, built on
    /// first use by `rate` and friends (see [`Evaluator::reset_correction`]).
    corrections: RefCell<FxHashMap<usize, Arc<[f64]>>>,
    /// Labels derived from labels at one place of the query (an
    /// aggregation's group, `histogram_quantile`'s output), kept across the
    /// steps of a range query so they are built once, not at every step.
    derived: RefCell<FxHashMap<(usize, Labels), Labels>>,
    /// `rate` and friends extrapolate as Prometheus did before 2024.
    pub(super) legacy_rate: bool,
    /// Samples held, depth and time of the running query.
    pub(super) budget: Budget,
    /// Native histograms the running query computed (see
    /// [`super::histogram`]).
    pub(super) computed: RefCell<Vec<Arc<FloatHistogram>>>,
}

impl<'s> Evaluator<'s> {
    /// Lookback 5 minutes, subquery step 1 minute, as Prometheus's defaults.
    pub fn new(store: &'s Store) -> Evaluator<'s> {
        Evaluator {
            store,
            lookback: 300_000,
            default_step: 60_000,
            start: 0,
            end: 0,
            step: 0,
            selections: RefCell::new(FxHashMap::default()),
            cursors: RefCell::new(FxHashMap::default()),
            corrections: RefCell::new(FxHashMap::default()),
            derived: RefCell::new(FxHashMap::default()),
            legacy_rate: false,
            budget: Budget::new(Limits::default()),
            computed: RefCell::new(Vec::new()),
        }
    }

    /// Limits other than Prometheus's defaults (tests use small ones).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.budget = Budget::new(limits);
        self
    }

    /// `rate`, `increase` and `delta` extrapolate as Prometheus releases
    /// before its 2024 fix of the zero-point limit did (Debian 12's
    /// promtool 2.42 among them), for files meant for such a promtool.
    pub fn with_legacy_rate_extrapolation(mut self, legacy: bool) -> Self {
        self.legacy_rate = legacy;
        self
    }

    pub fn with_lookback(mut self, lookback: Duration) -> Self {
        self.lookback = lookback.as_millis() as i64;
        self
    }

    /// The step of subqueries that do not give one (Prometheus: the global
    /// evaluation interval; in rule groups, the group's interval).
    pub fn with_default_step(mut self, step: Duration) -> Self {
        self.default_step = (step.as_millis() as i64).max(1);
        self
    }

    pub(super) fn store(&self) -> &'s Store {
        self.store
    }

    /// The lookback of instant selectors, in ms.
    pub(super) fn lookback(&self) -> i64 {
        self.lookback
    }

    /// Evaluates `expr` at `t` (ms since the epoch).
    pub fn instant(&mut self, expr: &Expr, t: i64) -> Result<Value<'s>, Error> {
        let resolved = resolve_durations(expr, 0, 0)?;
        let expr = resolved.as_ref().unwrap_or(expr);
        self.clear();
        self.start = t;
        self.end = t;
        self.step = 0;
        self.budget.start();
        // `&mut self`: the evaluator may move to another thread (it is Send,
        // not Sync).
        let this = &mut *self;
        with_stack_for(expr, move || this.eval(expr, t))
    }

    /// Evaluates `expr` at every step from `start` to `end` (inclusive);
    /// series sorted by labels.
    pub fn range(
        &mut self,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, Error> {
        if step <= 0 {
            return Err(Error::Eval(
                "the step of a range query must be positive".into(),
            ));
        }
        if end < start {
            return Err(Error::Eval(
                "a range query's end is before its start".into(),
            ));
        }
        self.budget.check_points(start, end, step)?;
        let resolved = resolve_durations(expr, step, end - start)?;
        let expr = resolved.as_ref().unwrap_or(expr);
        self.clear();
        self.start = start;
        self.end = end;
        self.step = step;
        self.budget.start();
        let this = &mut *self;
        let series = with_stack_for(expr, move || {
            this.steps(expr, start, end, step, "a range query")
        })?;
        Ok(series
            .into_iter()
            .map(|(labels, points)| Series { labels, points })
            .collect())
    }

    fn clear(&self) {
        self.computed.borrow_mut().clear();
        self.selections.borrow_mut().clear();
        self.cursors.borrow_mut().clear();
        self.derived.borrow_mut().clear();
    }

    /// `make(from)`, remembered for `site` (the address of the node that
    /// derives it) and `from` during this query.
    pub(super) fn derived(
        &self,
        site: usize,
        from: &Labels,
        make: impl FnOnce(&Labels) -> Labels,
    ) -> Labels {
        let key = (site, from.clone());
        if let Some(labels) = self.derived.borrow().get(&key) {
            return labels.clone();
        }
        let labels = make(from);
        self.derived.borrow_mut().insert(key, labels.clone());
        labels
    }

    /// What a counter's resets add to `last - first` over `points[from..to]`
    /// of series `id`: each value before a drop.
    pub(super) fn reset_correction(&self, id: usize, from: usize, to: usize) -> f64 {
        let prefix = {
            let mut cache = self.corrections.borrow_mut();
            cache
                .entry(id)
                .or_insert_with(|| {
                    let points = &self.store.series()[id].points;
                    let mut sum = 0.0;
                    let mut prefix = Vec::with_capacity(points.len());
                    for (i, p) in points.iter().enumerate() {
                        if i > 0 && p.v < points[i - 1].v {
                            sum += points[i - 1].v;
                        }
                        prefix.push(sum);
                    }
                    prefix.into()
                })
                .clone()
        };
        prefix[to - 1] - prefix[from]
    }

    /// Evaluates one node, charging its result to the query's budget.
    pub(super) fn eval(&self, expr: &Expr, t: i64) -> Result<Value<'s>, Error> {
        self.budget.enter()?;
        let value = self.eval_node(expr, t);
        self.budget.leave();
        let value = value?;
        match &value {
            Value::Vector(samples) => self.budget.charge(samples.len())?,
            // A matrix selector's points were charged as they were selected.
            Value::Matrix(_) | Value::Scalar(_) | Value::String(_) => {}
        }
        Ok(value)
    }

    fn eval_node(&self, expr: &Expr, t: i64) -> Result<Value<'s>, Error> {
        match expr {
            Expr::NumberLiteral(n) => Ok(Value::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(Value::String(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::VectorSelector(vs) if vs.smoothed => Ok(Value::Vector(
                super::extended::smoothed_vector(self, vs, t)?,
            )),
            Expr::VectorSelector(vs) => Ok(Value::Vector(self.vector_selector(vs, t))),
            Expr::MatrixSelector(ms) if ms.vs.anchored || ms.vs.smoothed => {
                Ok(Value::Matrix(super::extended::matrix(self, ms, t)?))
            }
            Expr::MatrixSelector(ms) => {
                let range = millis(ms.range);
                Ok(Value::Matrix(self.matrix_selector(&ms.vs, range, t)?))
            }
            Expr::Subquery(sq) => {
                let end = self.shifted(sq.at.as_ref(), sq.offset.as_ref(), t);
                let step = sq.step.map(millis).unwrap_or(self.default_step).max(1);
                Ok(Value::Matrix(self.subquery(
                    &sq.expr,
                    end,
                    millis(sq.range),
                    step,
                )?))
            }
            Expr::Unary(u) => match self.eval(&u.expr, t)? {
                Value::Scalar(v) => Ok(Value::Scalar(-v)),
                Value::Vector(samples) => {
                    let out: Vec<Sample> = samples
                        .into_iter()
                        .map(|s| Sample {
                            labels: s.labels.without_metadata(),
                            t: s.t,
                            v: self.negate(s.v),
                        })
                        .collect();
                    check_unique(&out)?;
                    Ok(Value::Vector(out))
                }
                other => Err(Error::Eval(format!("unary minus on a {}", other.kind()))),
            },
            Expr::Binary(b) => super::binary::eval(self, b, t),
            Expr::Aggregate(a) => super::aggregate::eval(self, a, t),
            Expr::Call(c) => super::functions::call(self, c, t),
            Expr::Extension(_) => Err(Error::Unsupported("an extension expression".into())),
        }
    }

    /// The time a selector or subquery is evaluated at: `@` replaces `t`,
    /// then `offset` moves back.
    pub(super) fn shifted(&self, at: Option<&AtModifier>, offset: Option<&Offset>, t: i64) -> i64 {
        let base = match at {
            None => t,
            Some(AtModifier::Start) => self.start,
            Some(AtModifier::End) => self.end,
            Some(AtModifier::At(time)) => system_ms(*time),
        };
        match offset {
            None => base,
            Some(Offset::Pos(d)) => base.saturating_sub(millis(*d)),
            Some(Offset::Neg(d)) => base.saturating_add(millis(*d)),
        }
    }

    fn selection(&self, vs: &VectorSelector) -> Arc<[usize]> {
        let key = vs as *const VectorSelector as usize;
        if let Some(ids) = self.selections.borrow().get(&key) {
            return ids.clone();
        }
        let ids: Arc<[usize]> = select(self.store, vs).into();
        self.selections.borrow_mut().insert(key, ids.clone());
        ids
    }

    /// The cursors of `vs`'s selected series, `n` of them.
    fn cursors(&self, vs: &VectorSelector, n: usize) -> std::cell::RefMut<'_, Vec<(usize, usize)>> {
        std::cell::RefMut::map(self.cursors.borrow_mut(), |c| {
            c.entry(vs as *const VectorSelector as usize)
                .or_insert_with(|| vec![(0, 0); n])
        })
    }

    pub(super) fn vector_selector(&self, vs: &VectorSelector, t: i64) -> Vec<Sample> {
        let at = self.shifted(vs.at.as_ref(), vs.offset.as_ref(), t);
        let series = self.store.series();
        let selection = self.selection(vs);
        let mut cursors = self.cursors(vs, selection.len());
        let mut out = Vec::new();
        for (k, &id) in selection.iter().enumerate() {
            let points = &series[id].points;
            let end = seek(points, cursors[k].1, at);
            cursors[k].1 = end;
            if end == 0 {
                continue;
            }
            let last = points[end - 1];
            if last.t > at.saturating_sub(self.lookback) && !is_stale(last.v) {
                out.push(Sample {
                    labels: series[id].labels.clone(),
                    t: last.t,
                    v: last.v,
                });
            }
        }
        out
    }

    pub(super) fn matrix_selector(
        &self,
        vs: &VectorSelector,
        range: i64,
        t: i64,
    ) -> Result<Matrix<'s>, Error> {
        let end = self.shifted(vs.at.as_ref(), vs.offset.as_ref(), t);
        self.matrix_window(vs, end.saturating_sub(range), end)
    }

    /// The samples of `vs`'s series in `(start, end]`, staleness markers
    /// left out; `vs`'s own `@` and `offset` are not applied again.
    pub(super) fn matrix_window(
        &self,
        vs: &VectorSelector,
        start: i64,
        end: i64,
    ) -> Result<Matrix<'s>, Error> {
        let store: &'s Store = self.store;
        let series = store.series();
        let selection = self.selection(vs);
        let mut cursors = self.cursors(vs, selection.len());
        let mut out = Vec::new();
        for (k, &id) in selection.iter().enumerate() {
            let all = &series[id].points;
            let from = seek(all, cursors[k].0, start);
            let to = seek(all, cursors[k].1.max(from), end);
            cursors[k] = (from, to);
            if from >= to {
                continue;
            }
            let window = &all[from..to];
            // Prometheus counts a range's points as loaded, though ours are
            // borrowed from the store: the same query fails in both.
            self.budget.charge(window.len())?;
            let (points, source) = if series[id].has_stale && window.iter().any(|p| is_stale(p.v)) {
                let kept: Vec<Point> = window.iter().copied().filter(|p| !is_stale(p.v)).collect();
                if kept.is_empty() {
                    continue;
                }
                (Cow::Owned(kept), None)
            } else {
                (Cow::Borrowed(window), Some((id, from)))
            };
            out.push(RangeSeries {
                labels: series[id].labels.clone(),
                without_name: series[id].without_name.clone(),
                points,
                source,
            });
        }
        Ok(Matrix {
            start,
            end,
            series: out,
        })
    }

    /// `expr` at `first`, `first + step`, ... up to `end`, as series;
    /// `what` names the caller for the error on a range vector or string.
    fn steps(
        &self,
        expr: &Expr,
        first: i64,
        end: i64,
        step: i64,
        what: &str,
    ) -> Result<BTreeMap<Labels, Vec<Point>>, Error> {
        let mut series: BTreeMap<Labels, Vec<Point>> = BTreeMap::new();
        // What was held before the first step, and the points kept since:
        // when a step is done its temporaries are gone (Prometheus's
        // `rangeEval` resets `currentSamples` the same way).
        let held = self.budget.samples();
        let mut kept = 0usize;
        let mut t = first;
        while t <= end {
            self.budget.tick()?;
            match self.eval(expr, t)? {
                Value::Scalar(v) => {
                    kept += 1;
                    series
                        .entry(Labels::empty())
                        .or_default()
                        .push(Point { t, v })
                }
                Value::Vector(samples) => {
                    kept += samples.len();
                    for s in samples {
                        series
                            .entry(s.labels)
                            .or_default()
                            .push(Point { t, v: s.v });
                    }
                }
                other => {
                    return Err(Error::Eval(format!(
                        "{what} needs a scalar or an instant vector, not a {}",
                        other.kind()
                    )));
                }
            }
            self.budget.set(held.saturating_add(kept))?;
            match t.checked_add(step) {
                Some(next) => t = next,
                None => break,
            }
        }
        Ok(series)
    }

    fn subquery(&self, expr: &Expr, end: i64, range: i64, step: i64) -> Result<Matrix<'s>, Error> {
        let start = end.saturating_sub(range);
        let mut t = step.saturating_mul(start.div_euclid(step));
        if t <= start {
            t = t.saturating_add(step);
        }
        self.budget
            .check_subquery_steps((end as i128 - t as i128) / step as i128 + 1)?;
        let mut series = self.steps(expr, t, end, step, "a subquery")?;
        if self.has_histograms() {
            for points in series.values_mut() {
                super::histogram::forget_reset_hints(self, points);
            }
        }
        Ok(Matrix {
            start,
            end,
            series: series
                .into_iter()
                .map(|(labels, points)| RangeSeries {
                    without_name: labels.without_metadata(),
                    labels,
                    points: Cow::Owned(points),
                    source: None,
                })
                .collect(),
        })
    }
}

/// `expr` with its duration expressions (`[step()]`, `offset range()`, or
/// ones that failed their check at parse time) set for a query of this
/// step and range, as Prometheus's engine sets them before it evaluates;
/// `None` when it has none.
fn resolve_durations(expr: &Expr, step: i64, range: i64) -> Result<Option<Expr>, Error> {
    if !promql_parser::parser::has_duration_exprs(expr) {
        return Ok(None);
    }
    let query = promql_parser::parser::QueryDurations {
        step: Duration::from_millis(step.max(0) as u64),
        range: Duration::from_millis(range.max(0) as u64),
    };
    let mut resolved = expr.clone();
    promql_parser::parser::resolve_durations(&mut resolved, query).map_err(Error::Eval)?;
    Ok(Some(resolved))
}

/// Expressions at most this deep are evaluated on the caller's stack.
const SHALLOW: usize = 24;
/// The stack of a thread that evaluates a deeper expression: the depth limit
/// (256) times what a level takes in an unoptimized build (about 30 KiB, most
/// of it `functions::call`'s frame), with room to spare. Only touched pages
/// are ever allocated.
const DEEP_STACK_BYTES: usize = 64 << 20;

/// Runs `f` here for a shallow `expr`, else on a scoped thread with a stack
/// deep enough for any expression the depth limit admits: the caller's
/// stack may be a 2 MiB thread's, where 100 nested calls overflow a debug
/// build.
fn with_stack_for<T: Send>(
    expr: &Expr,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    if tree_depth(expr, SHALLOW + 1) <= SHALLOW {
        return f();
    }
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("promql-deep".into())
            .stack_size(DEEP_STACK_BYTES)
            .spawn_scoped(scope, f)
            .map_err(|e| {
                Error::Eval(format!(
                    "cannot start a thread to evaluate a deeply nested expression: {e}"
                ))
            })?;
        match thread.join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The depth of `expr`'s tree, counted up to `cap` (so a shallow look at a
/// deep tree stays shallow).
pub(super) fn tree_depth(expr: &Expr, cap: usize) -> usize {
    if cap == 0 {
        return 0;
    }
    let below = |e: &Expr| tree_depth(e, cap - 1);
    1 + match expr {
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector(_)
        | Expr::Extension(_) => 0,
        Expr::Paren(p) => below(&p.expr),
        Expr::Unary(u) => below(&u.expr),
        Expr::Subquery(s) => below(&s.expr),
        Expr::Binary(b) => below(&b.lhs).max(below(&b.rhs)),
        Expr::Aggregate(a) => below(&a.expr).max(a.param.as_deref().map_or(0, below)),
        Expr::Call(c) => c.args.args.iter().map(|a| below(a)).max().unwrap_or(0),
    }
}

/// The first index of `points` after time `t` (`partition_point(p.t <= t)`),
/// searched from `hint`, where it was for an earlier time: a few steps
/// forward usually; a binary search when the answer is far or behind.
fn seek(points: &[Point], hint: usize, t: i64) -> usize {
    let hint = hint.min(points.len());
    if hint > 0 && points[hint - 1].t > t {
        return points[..hint].partition_point(|p| p.t <= t);
    }
    let mut i = hint;
    for _ in 0..8 {
        if i == points.len() || points[i].t > t {
            return i;
        }
        i += 1;
    }
    i + points[i..].partition_point(|p| p.t <= t)
}

/// Milliseconds since the epoch (negative before it), saturating.
pub(super) fn system_ms(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => millis(d),
        Err(e) => -millis(e.duration()),
    }
}

/// A duration in milliseconds, saturating at `i64::MAX` (`[300000000y]`
/// parses; it must not wrap into a negative range).
pub(super) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The series of `store` a selector matches: every matcher, the name, and
/// any of the `or` alternatives.
pub fn select(store: &Store, vs: &VectorSelector) -> Vec<usize> {
    let matches = |labels: &super::Labels, matchers: &[Matcher]| {
        matchers
            .iter()
            .all(|m| m.is_match(labels.get(&m.name).unwrap_or("")))
    };
    let name_equal = vs.name.clone().or_else(|| {
        vs.matchers
            .matchers
            .iter()
            .find(|m| m.name == NAME && m.op == MatchOp::Equal)
            .map(|m| m.value.clone())
    });
    let candidates: Vec<usize> = match &name_equal {
        Some(name) if vs.matchers.or_matchers.is_empty() => store.named(name).to_vec(),
        _ => (0..store.series().len()).collect(),
    };
    let series = store.series();
    candidates
        .into_iter()
        .filter(|&id| {
            let labels = &series[id].labels;
            if vs.name.as_deref().is_some_and(|n| labels.name() != Some(n)) {
                return false;
            }
            if vs.matchers.or_matchers.is_empty() {
                matches(labels, &vs.matchers.matchers)
            } else {
                vs.matchers
                    .or_matchers
                    .iter()
                    .any(|alt| matches(labels, alt))
            }
        })
        .collect()
}

/// Prometheus refuses a vector with two elements of one label set (e.g. two
/// metrics that became alike when their names were dropped).
pub(super) fn check_unique(samples: &[Sample]) -> Result<(), Error> {
    if samples.len() < 2 {
        return Ok(());
    }
    let mut seen = rustc_hash::FxHashSet::default();
    for s in samples {
        if !seen.insert(&s.labels) {
            return Err(Error::Eval(format!(
                "vector cannot contain metrics with the same labelset {}",
                s.labels
            )));
        }
    }
    Ok(())
}
