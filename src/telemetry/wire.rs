//! Prometheus remote write 1.0 on the wire: the `prometheus.WriteRequest`
//! protobuf (`prompb/remote.proto`, `prompb/types.proto`), encoded with
//! prost and compressed with snappy's block format, as the spec says.

use prost::Message;

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct TimeSeries {
    /// Sorted by name; `__name__` among them.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// The request body: the protobuf, snappy-compressed (block format).
pub(super) fn body(request: &WriteRequest) -> Vec<u8> {
    let bytes = request.encode_to_vec();
    // Compressing into a Vec cannot fail; the block format's limit is
    // 4 GiB, far past any batch here.
    snap::raw::Encoder::new()
        .compress_vec(&bytes)
        .unwrap_or_default()
}

#[cfg(test)]
pub(super) fn decode(body: &[u8]) -> WriteRequest {
    let bytes = snap::raw::Decoder::new().decompress_vec(body).unwrap();
    WriteRequest::decode(bytes.as_slice()).unwrap()
}
