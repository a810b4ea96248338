//! The layer-4 proxy: each connection draws every live fault once. Refuse
//! and blackhole take the connection before the upstream is asked; reset,
//! latency and bandwidth shape the two byte streams (client to upstream is
//! `upstream`, the way back `downstream`). Latency delays every chunk by a
//! draw of its own but keeps order and throughput: a reader stamps chunks
//! and a writer sends each when due, through a queue of at most 64 chunks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::Shared;
use super::fault::{Action, Delay, Direction};

/// Chunk size of a read.
const CHUNK: usize = 16 * 1024;
/// Chunks a delayed direction holds at most.
const QUEUE: usize = 64;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the faults drawn for one connection do to it.
#[derive(Default)]
struct Drawn {
    refuse: bool,
    blackhole: Option<u64>,
    reset_after: Option<u64>,
    delay: [Option<Delay>; 2],
    bytes_per_second: [Option<u64>; 2],
}

const UP: usize = 0;
const DOWN: usize = 1;

fn draw(shared: &Shared) -> Drawn {
    let now = Instant::now();
    let mut drawn = Drawn::default();
    for active in shared.table.snapshot().iter() {
        if !active.live(now) || !active.draw(&shared.table.rng, now) {
            continue;
        }
        shared.metrics.injected(active.fault.action.kind());
        let directions = [
            active.fault.direction.includes(Direction::Upstream),
            active.fault.direction.includes(Direction::Downstream),
        ];
        match &active.fault.action {
            Action::Refuse => drawn.refuse = true,
            Action::Blackhole => {
                drawn.blackhole.get_or_insert(active.id);
            }
            Action::Reset { after_bytes } => {
                drawn.reset_after = Some(
                    drawn
                        .reset_after
                        .map_or(*after_bytes, |a| a.min(*after_bytes)),
                );
            }
            Action::Latency(delay) => {
                for (i, on) in directions.iter().enumerate() {
                    if *on {
                        drawn.delay[i] = Some(delay.clone());
                    }
                }
            }
            Action::Bandwidth { bytes_per_second } => {
                for (i, on) in directions.iter().enumerate() {
                    if *on {
                        drawn.bytes_per_second[i] = Some(
                            drawn.bytes_per_second[i]
                                .map_or(*bytes_per_second, |b| b.min(*bytes_per_second)),
                        );
                    }
                }
            }
            Action::Abort { .. } | Action::Hang | Action::Close { .. } => {}
        }
    }
    drawn
}

/// Closes a socket with RST rather than FIN.
pub(crate) fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Whether every new connection must be refused now: a live refuse fault
/// at probability 100%, whose id is returned.
pub(crate) fn refusing_all(shared: &Shared) -> Option<u64> {
    let now = Instant::now();
    shared
        .table
        .snapshot()
        .iter()
        .find(|f| {
            f.live(now) && matches!(f.fault.action, Action::Refuse) && f.probability(now) >= 1.0
        })
        .map(|f| f.id)
}

/// Why a pump stopped the connection.
enum Stop {
    /// The byte budget of a reset fault ran out.
    Reset,
    /// A read or write failed: the connection is over.
    Io,
}

/// Serves one client connection; one on which neither side sends a byte
/// within `silence_timeout` is closed.
pub(crate) async fn connection(
    shared: Arc<Shared>,
    upstream_addr: String,
    mut client: TcpStream,
    silence_timeout: Duration,
) {
    let drawn = draw(&shared);
    if drawn.refuse {
        reset(client);
        return;
    }
    if let Some(id) = drawn.blackhole {
        shared.metrics.hanging.inc();
        let mut sink = [0u8; CHUNK];
        tokio::select! {
            _ = shared.table.until_gone(id) => {}
            _ = async { while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {} } => {}
        }
        shared.metrics.hanging.dec();
        return;
    }
    let mut server =
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&upstream_addr)).await {
            Ok(Ok(server)) => server,
            Ok(Err(_)) => {
                shared.metrics.upstream_error("connect");
                reset(client);
                return;
            }
            Err(_) => {
                shared.metrics.upstream_error("timeout");
                reset(client);
                return;
            }
        };
    let _ = server.set_nodelay(true);
    if !super::silent::either_spoke_in_time(&client, &server, silence_timeout).await {
        return;
    }
    let budget = drawn.reset_after.map(AtomicU64::new);
    let outcome = {
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let up = pump(
            client_read,
            server_write,
            drawn.delay[UP].as_ref(),
            drawn.bytes_per_second[UP],
            budget.as_ref(),
            &shared,
            "upstream",
        );
        let down = pump(
            server_read,
            client_write,
            drawn.delay[DOWN].as_ref(),
            drawn.bytes_per_second[DOWN],
            budget.as_ref(),
            &shared,
            "downstream",
        );
        tokio::try_join!(up, down)
    };
    if let Err(Stop::Reset) = outcome {
        reset(client);
        reset(server);
    }
}

/// Takes up to `n` bytes from the shared budget; returns how many may go
/// and whether the budget is now spent.
fn take_budget(budget: Option<&AtomicU64>, n: usize) -> (usize, bool) {
    let Some(budget) = budget else {
        return (n, false);
    };
    let mut left = budget.load(Ordering::Relaxed);
    loop {
        let take = left.min(n as u64);
        match budget.compare_exchange(left, left - take, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return (take as usize, take < n as u64 || left - take == 0),
            Err(now) => left = now,
        }
    }
}

/// Moves bytes one way until EOF (then half-closes) or a reset.
async fn pump<R, W>(
    mut reader: R,
    mut writer: W,
    delay: Option<&Delay>,
    bytes_per_second: Option<u64>,
    budget: Option<&AtomicU64>,
    shared: &Shared,
    direction: &'static str,
) -> Result<(), Stop>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let started = Instant::now();
    let mut sent: u64 = 0;
    let mut send = async |writer: &mut W, chunk: &[u8]| -> Result<(), Stop> {
        let (allowed, spent) = take_budget(budget, chunk.len());
        let mut rest = &chunk[..allowed];
        while !rest.is_empty() {
            let piece = match bytes_per_second {
                Some(rate) => {
                    let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
                    tokio::time::sleep_until(due).await;
                    rest.len().min((rate / 20).max(1) as usize)
                }
                None => rest.len(),
            };
            writer
                .write_all(&rest[..piece])
                .await
                .map_err(|_| Stop::Io)?;
            sent += piece as u64;
            shared.metrics.bytes(direction, piece as u64);
            rest = &rest[piece..];
        }
        if spent {
            let _ = writer.flush().await;
            return Err(Stop::Reset);
        }
        Ok(())
    };
    let Some(delay) = delay else {
        let mut buffer = vec![0u8; CHUNK];
        loop {
            let n = reader.read(&mut buffer).await.map_err(|_| Stop::Io)?;
            if n == 0 {
                let _ = writer.shutdown().await;
                return Ok(());
            }
            send(&mut writer, &buffer[..n]).await?;
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Instant, Bytes)>(QUEUE);
    let reading = async move {
        let mut buffer = vec![0u8; CHUNK];
        loop {
            let n = reader.read(&mut buffer).await.map_err(|_| Stop::Io)?;
            let due = Instant::now() + delay.sample(&shared.table.rng);
            // An empty chunk marks EOF, delayed like the data before it.
            if tx
                .send((due, Bytes::copy_from_slice(&buffer[..n])))
                .await
                .is_err()
                || n == 0
            {
                return Ok::<(), Stop>(());
            }
        }
    };
    let writing = async {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if chunk.is_empty() {
                let _ = writer.shutdown().await;
                return Ok(());
            }
            send(&mut writer, &chunk).await?;
        }
        Ok::<(), Stop>(())
    };
    tokio::try_join!(reading, writing).map(|_| ())
}
