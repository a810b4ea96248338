//! Reading a user's input file within bounds: a regular file (not a device,
//! a pipe or a directory: `/dev/zero` never ends), of at most a size limit,
//! read no further than that limit even if it grows while read.

use std::io::Read;
use std::path::Path;

/// The largest scenario, rule file or rule unit-test file slogate reads.
pub(crate) const MAX_SOURCE_BYTES: u64 = 16 << 20;
/// The largest CSV data file a scenario may read its rows from.
pub(crate) const MAX_DATA_BYTES: u64 = 256 << 20;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("it is {kind}, not a regular file")]
    NotRegular { kind: &'static str },
    #[error(
        "it is larger than the limit of {} MiB for {what}; hint: split it into smaller files",
        limit >> 20
    )]
    TooLarge { limit: u64, what: &'static str },
    #[error("it is not UTF-8 text")]
    NotUtf8,
}

/// Opens `path` for reading if it is a regular file of at most `limit`
/// bytes; the handle reads at most `limit + 1` bytes (so growth is caught).
pub(crate) fn open(path: &Path, limit: u64, what: &'static str) -> Result<impl Read, InputError> {
    // Non-blocking, so that opening a pipe with no writer returns (to be
    // refused below) instead of waiting for one; no effect on a file.
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if !kind.is_file() {
        use std::os::unix::fs::FileTypeExt;
        let kind = if kind.is_dir() {
            "a directory"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_fifo() {
            "a pipe"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a file"
        };
        return Err(InputError::NotRegular { kind });
    }
    if meta.len() > limit {
        return Err(InputError::TooLarge { limit, what });
    }
    Ok(file.take(limit + 1))
}

/// The bytes of `path`, a regular file of at most `limit` bytes.
pub(crate) fn read(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    open(path, limit, what)?.read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge { limit, what });
    }
    Ok(bytes)
}

/// The text of `path`, a regular UTF-8 file of at most `limit` bytes.
pub(crate) fn read_to_string(
    path: &Path,
    limit: u64,
    what: &'static str,
) -> Result<String, InputError> {
    String::from_utf8(read(path, limit, what)?).map_err(|_| InputError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_large_files_are_refused() {
        let err = read_to_string(Path::new("/dev/zero"), MAX_SOURCE_BYTES, "a rule file");
        assert_eq!(
            err.unwrap_err().to_string(),
            "it is a character device, not a regular file"
        );
        let dir = tempfile::tempdir().unwrap();
        let err = read_to_string(dir.path(), MAX_SOURCE_BYTES, "a rule file").unwrap_err();
        assert_eq!(err.to_string(), "it is a directory, not a regular file");
        let big = dir.path().join("big.yml");
        std::fs::write(&big, vec![b'#'; 2 << 20]).unwrap();
        let err = read_to_string(&big, 1 << 20, "a rule file").unwrap_err();
        assert_eq!(
            err.to_string(),
            "it is larger than the limit of 1 MiB for a rule file; hint: split it into smaller files"
        );
        std::fs::write(&big, "groups: []\n").unwrap();
        assert_eq!(
            read_to_string(&big, 1 << 20, "a rule file").unwrap(),
            "groups: []\n"
        );
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let err = read_to_string(&fifo, 1 << 20, "a rule file").unwrap_err();
        assert_eq!(err.to_string(), "it is a pipe, not a regular file");
        std::fs::write(&big, b"\xff\xfe").unwrap();
        assert_eq!(
            read_to_string(&big, 1 << 20, "a rule file")
                .unwrap_err()
                .to_string(),
            "it is not UTF-8 text"
        );
    }
}
