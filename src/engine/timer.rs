//! Sub-millisecond sleeps for the open model. Tokio's timer wheel has a 1 ms
//! tick, so `sleep_until(due)` wakes up to a millisecond late; in the open
//! model that error lands in every request's latency. A timerfd per
//! connection, armed for the exact due time, wakes the task through the
//! reactor within microseconds.

use std::time::Instant;

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Instant;

    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    /// A timer armed relative to now with nanosecond resolution.
    pub(crate) struct Timer(AsyncFd<OwnedFd>);

    impl Timer {
        pub(crate) fn new() -> io::Result<Timer> {
            // SAFETY: plain syscall; the returned fd is checked and owned below.
            let fd = unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: fd is a fresh descriptor nobody else owns.
            let owned = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: an OwnedFd keeps its descriptor open and unchanged for as
            // long as it lives, and the AsyncFd owns it.
            let registered = unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) };
            Ok(Timer(registered.map_err(io::Error::from)?))
        }

        pub(crate) async fn sleep_until(&mut self, at: Instant) -> io::Result<()> {
            let wait = at.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                return Ok(());
            }
            let spec = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    tv_sec: wait.as_secs() as libc::time_t,
                    tv_nsec: wait.subsec_nanos() as libc::c_long,
                },
            };
            let fd = self.0.get_ref().as_raw_fd();
            // SAFETY: fd is our timerfd; spec is a valid itimerspec.
            if unsafe { libc::timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) } < 0 {
                return Err(io::Error::last_os_error());
            }
            loop {
                let mut guard = self.0.readable().await?;
                let mut expirations = [0u8; 8];
                // SAFETY: reading 8 bytes into an 8-byte buffer from our fd.
                let n = unsafe { libc::read(fd, expirations.as_mut_ptr().cast(), 8) };
                if n == 8 {
                    return Ok(());
                }
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::WouldBlock {
                    return Err(error);
                }
                guard.clear_ready();
            }
        }
    }
}

/// Sleeps until an instant, as precisely as the platform allows.
pub(crate) struct PreciseSleep {
    #[cfg(target_os = "linux")]
    timer: Option<imp::Timer>,
}

impl PreciseSleep {
    /// Must be called inside a Tokio runtime with I/O enabled.
    pub(crate) fn new() -> PreciseSleep {
        PreciseSleep {
            #[cfg(target_os = "linux")]
            timer: imp::Timer::new().ok(),
        }
    }

    /// Returns at `at` (or at once if it has passed).
    pub(crate) async fn until(&mut self, at: Instant) {
        #[cfg(target_os = "linux")]
        if let Some(timer) = &mut self.timer {
            if timer.sleep_until(at).await.is_ok() {
                return;
            }
            // A timerfd that fails once is not trusted again.
            self.timer = None;
        }
        tokio::time::sleep_until(at.into()).await;
    }
}
