//! Runs a [`Pool`] on tokio: sleeps until the next check is due, runs each due probe in its own
//! task, feeds results back and forwards the pool's events.

use super::{FileWatcher, run_check};
use crate::config::CheckerConfig;
use crate::sched::{CheckerId, Event, Outcome, Pool};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Most lag samples kept (a bench at 12,000 checks/s for 60 s needs 720,000).
const MAX_LAG_SAMPLES: usize = 4_000_000;

/// What the driver measured.
#[derive(Debug, Clone, Default)]
pub struct DriverStats {
    /// Probes started.
    pub checks_started: u64,
    /// Probes that failed.
    pub checks_failed: u64,
    /// Lag of each started probe (start time minus due time), in microseconds.
    pub lag_micros: Vec<u32>,
}

impl DriverStats {
    /// The `q` quantile (0.0..=1.0) of the lag, if any sample exists.
    pub fn lag_quantile(&self, q: f64) -> Option<Duration> {
        let mut v = self.lag_micros.clone();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let idx = ((v.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        v.get(idx).map(|m| Duration::from_micros(u64::from(*m)))
    }
}

/// Instructions to a running [`Driver`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Control {
    /// `ha_suspend`: whether virtual server `vs`'s address is configured locally.
    SetVipPresent {
        /// Index of the virtual server.
        vs: usize,
        /// Whether its address is present.
        present: bool,
    },
}

/// The tokio driver of a [`Pool`].
#[derive(Debug)]
pub struct Driver {
    pool: Pool,
    origin: Instant,
    checkers: Vec<Vec<Vec<Arc<CheckerConfig>>>>,
    addrs: Vec<Vec<SocketAddr>>,
    stats: DriverStats,
}

impl Driver {
    /// Wraps `pool`, whose times are taken as durations since `origin`.
    pub fn new(pool: Pool, origin: Instant) -> Self {
        let checkers = pool
            .config()
            .iter()
            .map(|vs| {
                vs.real_servers
                    .iter()
                    .map(|rs| rs.checkers.iter().cloned().map(Arc::new).collect())
                    .collect()
            })
            .collect();
        let addrs = pool
            .config()
            .iter()
            .map(|vs| vs.real_servers.iter().map(|rs| rs.addr).collect())
            .collect();
        Driver {
            pool,
            origin,
            checkers,
            addrs,
            stats: DriverStats::default(),
        }
    }

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    fn spawn_due(&mut self, results: &mpsc::UnboundedSender<(CheckerId, Outcome, u32)>) {
        let now = self.now();
        while let Some(due) = self.pool.poll_due(now) {
            let id = due.id;
            let (Some(cfg), Some(rs)) = (
                self.checkers
                    .get(id.vs)
                    .and_then(|v| v.get(id.rs))
                    .and_then(|r| r.get(id.checker))
                    .cloned(),
                self.addrs.get(id.vs).and_then(|v| v.get(id.rs)).copied(),
            ) else {
                continue;
            };
            self.stats.checks_started += 1;
            let tx = results.clone();
            let due_at = self.origin + due.due;
            tokio::spawn(async move {
                let lag = Instant::now().saturating_duration_since(due_at);
                let lag = u32::try_from(lag.as_micros()).unwrap_or(u32::MAX);
                let outcome = run_check(&cfg, rs, &due).await.unwrap_or(Outcome::Down);
                let _ = tx.send((id, outcome, lag));
            });
        }
    }

    fn record(&mut self, id: CheckerId, outcome: Outcome, lag: u32) {
        if outcome == Outcome::Down {
            self.stats.checks_failed += 1;
        }
        if self.stats.lag_micros.len() < MAX_LAG_SAMPLES {
            self.stats.lag_micros.push(lag);
        }
        let now = self.now();
        self.pool.handle_result(now, id, outcome);
    }

    /// Runs until `shutdown` completes, sending every pool event to `events`. Returns the pool
    /// (for a reload or an orderly [`Pool::shutdown`]) and the measurements.
    pub async fn run(
        self,
        events: mpsc::UnboundedSender<Event>,
        shutdown: impl Future<Output = ()>,
    ) -> (Pool, DriverStats) {
        let (_control_tx, control_rx) = mpsc::unbounded_channel();
        self.run_with_control(events, control_rx, shutdown).await
    }

    /// As [`Driver::run`], also applying [`Control`] messages (e.g. VIP presence for
    /// `ha_suspend`) as they arrive.
    pub async fn run_with_control(
        mut self,
        events: mpsc::UnboundedSender<Event>,
        mut control: mpsc::UnboundedReceiver<Control>,
        shutdown: impl Future<Output = ()>,
    ) -> (Pool, DriverStats) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut control_open = true;
        // FILE_CHECK files are re-read as soon as they change; without inotify they are still
        // read every delay_loop.
        let mut watcher = FileWatcher::new(self.pool.file_checkers())
            .ok()
            .and_then(|(w, _)| w);
        tokio::pin!(shutdown);
        loop {
            self.spawn_due(&tx);
            while let Some(ev) = self.pool.poll_event() {
                let _ = events.send(ev);
            }
            let wake = self.pool.poll_timeout().map_or_else(
                || Instant::now() + Duration::from_secs(3600),
                |t| self.origin + t,
            );
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some((id, outcome, lag)) = rx.recv() => {
                    self.record(id, outcome, lag);
                    while let Ok((id, outcome, lag)) = rx.try_recv() {
                        self.record(id, outcome, lag);
                    }
                }
                msg = control.recv(), if control_open => match msg {
                    Some(Control::SetVipPresent { vs, present }) => {
                        self.pool.set_vip_present(vs, present);
                    }
                    None => control_open = false,
                },
                changed = async {
                    match watcher.as_mut() {
                        Some(w) => w.changed().await,
                        None => std::future::pending().await,
                    }
                } => match changed {
                    Ok(ids) => {
                        let now = self.now();
                        for id in ids {
                            self.pool.check_now(now, id);
                        }
                    }
                    Err(_) => watcher = None,
                },
                () = tokio::time::sleep_until(wake) => {}
            }
        }
        (self.pool, self.stats)
    }
}
