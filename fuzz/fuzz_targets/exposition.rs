//! A /metrics body in either format (the first byte chooses: even for the
//! text format, odd for OpenMetrics), parsed by `metrics::exposition::parse`
//! into a visitor that touches every field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slogate::metrics::exposition::{Format, Metadata, SampleLine, Visitor, parse};

#[derive(Default)]
struct Touch {
    bytes: usize,
}

impl Visitor for Touch {
    fn metadata(&mut self, metadata: &Metadata<'_>) {
        self.bytes += format!("{metadata:?}").len();
    }

    fn sample(&mut self, sample: &SampleLine<'_>) {
        self.bytes += sample.name.len() + sample.labels.len();
        let _ = (sample.value, sample.timestamp_ms);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(body) = std::str::from_utf8(rest) else {
        return;
    };
    let format = if first % 2 == 0 {
        Format::Text
    } else {
        Format::OpenMetrics
    };
    let mut touch = Touch::default();
    let _ = parse(body, format, &mut touch);
});
