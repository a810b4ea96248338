//! Report formats. Each is a small type behind [`Format`]; adding one means a
//! new file and a line in [`OutputFormat::renderer`].

pub(crate) mod compare;
mod csv;
pub mod escape;
pub(crate) mod html;
mod json;
pub(crate) mod progress;
pub(crate) mod query;
pub(crate) mod run;
pub(crate) mod series;
pub(crate) mod slo_text;
mod summary;
mod text;

use std::io::Write;

pub use summary::{Bar, Distribution, OpenModel, SCHEMA, Summary, Target, Tick};

/// Renders a [`Summary`] to a writer.
pub trait Format {
    fn write(&self, summary: &Summary, out: &mut dyn Write) -> anyhow::Result<()>;
}

/// The formats `hit` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Csv,
}

impl OutputFormat {
    /// The renderer for this format.
    pub fn renderer(self) -> Box<dyn Format> {
        match self {
            OutputFormat::Text => Box::new(text::Text),
            OutputFormat::Json => Box::new(json::Json),
            OutputFormat::Csv => Box::new(csv::Csv),
        }
    }
}
