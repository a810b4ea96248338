//! The pieces of Prometheus's HTTP API JSON that `slogate query -o json`
//! writes, as its codec writes them (util/jsonutil/marshal.go): a float
//! as a string in `strconv`'s `'f'` form (`'e'` below 1e-6 and from 1e21),
//! a time in seconds, and a native histogram as `{"count", "sum",
//! "buckets": [[boundaries, lower, upper, count], ...]}`.

use serde_json::{Value as Json, json};

use crate::metrics::histogram::FloatHistogram;

/// A float as `MarshalFloat` writes it: `"0.5"`, `"1e-07"`, `"1e+21"`,
/// `"NaN"`, `"+Inf"`, `"-Inf"`.
pub(crate) fn float(v: f64) -> String {
    let abs = v.abs();
    if v.is_finite() && abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Go's `'e'` form: the shortest mantissa, a signed exponent of at
        // least two digits.
        let sci = format!("{v:e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    crate::promql::format_value(v)
}

/// A time (ms) in seconds: a whole number when it is one, as
/// `MarshalTimestamp` writes it (`1`, `1.5`).
pub(crate) fn time(t: i64) -> Json {
    if t % 1000 == 0 {
        json!(t / 1000)
    } else {
        json!(t as f64 / 1000.0)
    }
}

/// A histogram as `MarshalHistogram` writes it: its populated buckets from
/// the lowest (negative, zero, positive; custom buckets for NHCB), each
/// `[boundaries, "lower", "upper", "count"]` where boundaries says which
/// ends are inclusive (0: upper only, 1: lower only, 2: neither, 3:
/// both); no `buckets` key when none is populated.
pub(crate) fn histogram(h: &FloatHistogram) -> Json {
    let buckets: Vec<Json> = h
        .all_buckets()
        .into_iter()
        .filter(|b| b.count != 0.0)
        .map(|b| {
            let boundaries = match (b.lower_inclusive, b.upper_inclusive) {
                (false, true) => 0,
                (true, false) => 1,
                (false, false) => 2,
                (true, true) => 3,
            };
            json!([boundaries, float(b.lower), float(b.upper), float(b.count)])
        })
        .collect();
    let mut out = serde_json::Map::new();
    out.insert("count".into(), json!(float(h.count)));
    out.insert("sum".into(), json!(float(h.sum)));
    if !buckets.is_empty() {
        out.insert("buckets".into(), Json::Array(buckets));
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::{Bucket, CUSTOM_BUCKETS_SCHEMA, from_spans};

    fn buckets(spans: &[(i32, u32)], counts: &[f64]) -> Vec<Bucket> {
        from_spans(spans, counts).expect("spans and counts agree")
    }

    /// Prometheus's own case (web/api/v1/json_codec_test.go,
    /// TestJsonCodec_Encode): a schema-2 histogram with both sides and a
    /// zero bucket, and the exact JSON its API gives for it.
    #[test]
    fn a_histogram_is_the_json_prometheus_api_gives() {
        let h = FloatHistogram {
            schema: 2,
            zero_threshold: 0.001,
            zero_count: 12.0,
            count: 10.0,
            sum: 20.0,
            positive: buckets(&[(3, 2), (1, 3)], &[1.0, 2.0, 2.0, 1.0, 1.0]),
            negative: buckets(&[(2, 2)], &[2.0, 1.0]),
            ..Default::default()
        };
        let prometheus: Json = serde_json::from_str(
            r#"{"count":"10","sum":"20","buckets":[[1,"-1.6817928305074288","-1.414213562373095","1"],[1,"-1.414213562373095","-1.189207115002721","2"],[3,"-0.001","0.001","12"],[0,"1.414213562373095","1.6817928305074288","1"],[0,"1.6817928305074288","2","2"],[0,"2.378414230005442","2.82842712474619","2"],[0,"2.82842712474619","3.3635856610148576","1"],[0,"3.3635856610148576","4","1"]]}"#,
        )
        .unwrap();
        assert_eq!(histogram(&h), prometheus);
    }

    /// Custom buckets (NHCB): the first bucket is closed below at -Inf,
    /// the others open below; the last reaches +Inf. An empty bucket is
    /// left out, and a histogram with no populated bucket has no
    /// `buckets` key (as `MarshalHistogram`).
    #[test]
    fn custom_buckets_and_empty_histograms() {
        let h = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 6.0,
            sum: 3.5,
            positive: buckets(&[(0, 4)], &[1.0, 0.0, 3.0, 2.0]),
            custom_values: vec![0.1, 0.5, 1.0],
            ..Default::default()
        };
        let expected = json!({"count": "6", "sum": "3.5", "buckets": [
            [3, "-Inf", "0.1", "1"],
            [0, "0.5", "1", "3"],
            [0, "1", "+Inf", "2"],
        ]});
        assert_eq!(histogram(&h), expected);
        let empty = FloatHistogram::default();
        assert_eq!(histogram(&empty), json!({"count": "0", "sum": "0"}));
    }

    /// Prometheus's float cases from the same test: `'f'` form, `'e'`
    /// below 1e-6 and from 1e21.
    #[test]
    fn floats_as_marshal_float_writes_them() {
        assert_eq!(float(1.2345678e6), "1234567.8");
        assert_eq!(float(1.2345678e-6), "0.0000012345678");
        assert_eq!(float(1.2345678e-67), "1.2345678e-67");
        assert_eq!(float(1e21), "1e+21");
        assert_eq!(float(-1e-7), "-1e-07");
        assert_eq!(float(0.0), "0");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(f64::INFINITY), "+Inf");
        assert_eq!(float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(time(1000), json!(1));
        assert_eq!(time(1001), json!(1.001));
        assert_eq!(time(-1), json!(-0.001));
    }
}
