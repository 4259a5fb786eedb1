//! The log writer: a dedicated thread fed by a bounded queue, appending
//! lines to a buffered file that rotates by size, flushed at least every
//! second and on shutdown.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use switchboard_core::Error;
use tokio::sync::oneshot;

/// Buffered lines are written out at least this often.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// What the writer thread is asked to do.
pub(crate) enum Command {
    /// Append one line (with its newline).
    Line(String),
    /// Flush, stop, then acknowledge.
    Shutdown(oneshot::Sender<()>),
    /// Acknowledge, then wait until the sender of `resume` is dropped.
    Pause {
        paused: oneshot::Sender<()>,
        resume: Receiver<()>,
    },
}

/// The writer's counters, shared with the extension.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) written: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) write_errors: AtomicU64,
    /// Set by the writer when it stops: later lines are dropped and counted.
    pub(crate) stopped: AtomicBool,
}

/// The file being written, rotated by size.
#[derive(Debug)]
pub(crate) struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    max_files: u32,
    file: Option<BufWriter<File>>,
    size: u64,
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

fn ignore_not_found(r: std::io::Result<()>) -> std::io::Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

impl RotatingFile {
    /// Opens (or creates) `path` for appending.
    pub(crate) fn open(path: PathBuf, max_bytes: u64, max_files: u32) -> std::io::Result<Self> {
        let mut f = RotatingFile {
            path,
            max_bytes,
            max_files,
            file: None,
            size: 0,
        };
        f.reopen()?;
        Ok(f)
    }

    fn reopen(&mut self) -> std::io::Result<()> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = file.metadata()?.len();
        self.file = Some(BufWriter::with_capacity(64 * 1024, file));
        Ok(())
    }

    /// Appends `line`, rotating first if it would not fit.
    pub(crate) fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() {
            self.reopen()?;
        }
        if self.size > 0 && self.size.saturating_add(line.len() as u64) > self.max_bytes {
            self.rotate()?;
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => return Err(std::io::Error::other("log file not open")),
        };
        if let Err(e) = file.write_all(line) {
            // Start afresh next time (the disk may have room again).
            self.file = None;
            return Err(e);
        }
        self.size = self.size.saturating_add(line.len() as u64);
        Ok(())
    }

    /// `x` → `x.1` → … → `x.{max_files - 1}`; the oldest is removed.
    fn rotate(&mut self) -> std::io::Result<()> {
        self.flush()?;
        self.file = None;
        if self.max_files <= 1 {
            ignore_not_found(std::fs::remove_file(&self.path))?;
        } else {
            let last = self.max_files - 1;
            ignore_not_found(std::fs::remove_file(numbered(&self.path, last)))?;
            for n in (1..last).rev() {
                ignore_not_found(std::fs::rename(
                    numbered(&self.path, n),
                    numbered(&self.path, n + 1),
                ))?;
            }
            std::fs::rename(&self.path, numbered(&self.path, 1))?;
        }
        self.reopen()
    }

    /// Writes buffered lines to the file.
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

/// The sending side: never blocks.
#[derive(Debug)]
pub(crate) struct WriterHandle {
    tx: SyncSender<Command>,
    pub(crate) counters: Arc<Counters>,
}

impl WriterHandle {
    /// Starts the writer thread on `path`, reporting whether it opened.
    pub(crate) async fn start(
        path: PathBuf,
        max_bytes: u64,
        max_files: u32,
        capacity: usize,
    ) -> Result<Self, Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
        let counters = Arc::new(Counters::default());
        let (opened_tx, opened_rx) = oneshot::channel();
        let thread_counters = counters.clone();
        std::thread::Builder::new()
            .name("switchboard-request-log".into())
            .spawn(
                move || match RotatingFile::open(path.clone(), max_bytes, max_files) {
                    Ok(file) => {
                        let _ = opened_tx.send(Ok(()));
                        run(file, &rx, &thread_counters);
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(format!(
                            "request-log: cannot open `{}`: {e}",
                            path.display()
                        )));
                    }
                },
            )
            .map_err(|e| Error::internal(format!("request-log: cannot start the writer: {e}")))?;
        match opened_rx.await {
            Ok(Ok(())) => Ok(WriterHandle { tx, counters }),
            Ok(Err(message)) => Err(Error::config(message)),
            Err(_) => Err(Error::internal("request-log: the writer stopped at start")),
        }
    }

    /// Queues `line`; drops and counts it when the queue is full or the
    /// writer has stopped.
    pub(crate) fn send(&self, line: String) {
        // Full or disconnected: either way the line is dropped and counted.
        if self.counters.stopped.load(Ordering::Acquire)
            || self.tx.try_send(Command::Line(line)).is_err()
        {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Flushes and stops the writer, waiting at most `timeout`.
    pub(crate) async fn shutdown(&self, timeout: Duration) {
        let (ack_tx, ack_rx) = oneshot::channel();
        let tx = self.tx.clone();
        // A full queue makes `send` wait for the writer: off the runtime.
        let sent = tokio::task::spawn_blocking(move || tx.send(Command::Shutdown(ack_tx)).is_ok());
        if let Ok(Ok(true)) = tokio::time::timeout(timeout, sent).await {
            let _ = tokio::time::timeout(timeout, ack_rx).await;
        }
    }

    /// Pauses the writer until the returned sender is dropped (tests).
    pub(crate) async fn pause(&self) -> Result<std::sync::mpsc::Sender<()>, Error> {
        let (paused_tx, paused_rx) = oneshot::channel();
        let (resume_tx, resume_rx) = std::sync::mpsc::channel();
        self.tx
            .try_send(Command::Pause {
                paused: paused_tx,
                resume: resume_rx,
            })
            .map_err(|_| Error::unavailable("request-log: the writer's queue is full"))?;
        paused_rx
            .await
            .map_err(|_| Error::unavailable("request-log: the writer has stopped"))?;
        Ok(resume_tx)
    }
}

/// Writes one line, counting it; reports whether it reached the buffer.
fn write(file: &mut RotatingFile, line: &str, counters: &Counters) -> bool {
    match file.write_line(line.as_bytes()) {
        Ok(()) => {
            counters.written.fetch_add(1, Ordering::Relaxed);
            true
        }
        Err(e) => {
            let errors = counters.write_errors.fetch_add(1, Ordering::Relaxed);
            if errors.is_power_of_two() || errors == 0 {
                tracing::warn!(error = %e, errors = errors + 1, "request-log: writing the log file failed");
            }
            false
        }
    }
}

/// The writer thread's loop.
fn run(mut file: RotatingFile, rx: &Receiver<Command>, counters: &Counters) {
    let mut dirty = false;
    let mut last_flush = Instant::now();
    let flush = |file: &mut RotatingFile, dirty: &mut bool, last_flush: &mut Instant| {
        if let Err(e) = file.flush() {
            counters.write_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, "request-log: flushing the log file failed");
        }
        *dirty = false;
        *last_flush = Instant::now();
    };
    loop {
        let wait = if dirty {
            FLUSH_INTERVAL.saturating_sub(last_flush.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        match rx.recv_timeout(wait) {
            Ok(Command::Line(line)) => {
                dirty |= write(&mut file, &line, counters);
                if dirty && last_flush.elapsed() >= FLUSH_INTERVAL {
                    flush(&mut file, &mut dirty, &mut last_flush);
                }
            }
            Ok(Command::Pause { paused, resume }) => {
                let _ = paused.send(());
                // Returns once the test drops its sender.
                let _ = resume.recv();
            }
            Ok(Command::Shutdown(ack)) => {
                // Senders see the flag from now on; lines that raced past it
                // are already queued and written here, before the ack.
                counters.stopped.store(true, Ordering::Release);
                while let Ok(command) = rx.try_recv() {
                    match command {
                        Command::Line(line) => {
                            write(&mut file, &line, counters);
                        }
                        Command::Shutdown(other) => {
                            let _ = other.send(());
                        }
                        Command::Pause { paused, .. } => drop(paused),
                    }
                }
                flush(&mut file, &mut dirty, &mut last_flush);
                let _ = ack.send(());
                return;
            }
            Err(RecvTimeoutError::Timeout) => flush(&mut file, &mut dirty, &mut last_flush),
            Err(RecvTimeoutError::Disconnected) => {
                flush(&mut file, &mut dirty, &mut last_flush);
                return;
            }
        }
    }
}
