//! The emulator's shared state behind locks: the cloud, the ledger of successful writes, the
//! replay guard, faults, rate limits and call counts, plus the optional state file. Its only I/O
//! is reading that file (and the ledger's) at start, and saving it (and appending to the
//! ledger's) at start and after every change.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use vpc_wire::v2::codes::{self, desc};

use crate::auth::ReplayGuard;
use crate::faults::{FaultError, Faults, RateLimits};
use crate::ledger::{self, Ledger, Write};
use crate::model::Cloud;
use crate::persist::{self, PersistError};
use crate::reply::ApiError;
use crate::sts::Identity;
use crate::world::World;

/// Why the emulator's state could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A fault in the world file is not valid.
    #[error("world file: fault {index} is not valid")]
    Fault {
        /// Its position in `faults:`.
        index: usize,
        /// Why.
        #[source]
        source: FaultError,
    },
    /// The state file could not be read or written.
    #[error("cannot use the state file")]
    State(#[from] PersistError),
}

/// Faults, rate limits and call counts, changed together under one lock.
#[derive(Debug, Default)]
pub struct Control {
    /// Active faults.
    pub faults: Faults,
    /// Requests-per-second limits.
    pub rates: RateLimits,
    /// Requests per `Action` value, whatever their outcome.
    pub calls: BTreeMap<String, u64>,
}

/// A change was made in memory but the state file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("state could not be saved")]
pub struct NotSaved;

impl From<NotSaved> for ApiError {
    fn from(error: NotSaved) -> ApiError {
        ApiError::new(codes::INTERNAL_ERROR, desc::INTERNAL_ERROR, error.to_string())
    }
}

/// Everything the request handlers share.
#[derive(Debug)]
pub struct App {
    cloud: Mutex<Cloud>,
    ledger: Mutex<Ledger>,
    replay: Mutex<ReplayGuard>,
    control: Mutex<Control>,
    identity: Mutex<Identity>,
    state_file: Option<PathBuf>,
}

/// Locks a mutex; a panic elsewhere while holding it does not make the data unusable here.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    /// Builds the state from a world, restoring routes from `state_file` when it exists.
    pub fn new(world: World, state_file: Option<PathBuf>) -> Result<App, AppError> {
        let World { mut cloud, faults, rate_limits, identity } = world;
        let mut control = Control::default();
        for (index, spec) in faults.into_iter().enumerate() {
            control.faults.add(spec).map_err(|source| AppError::Fault { index, source })?;
        }
        control.rates.set(rate_limits);
        let mut ledger = Ledger::default();
        if let Some(path) = &state_file {
            let restored = persist::load(path)?;
            let keep = restored.is_some();
            if let Some(snap) = restored {
                let tables = persist::restore(&mut cloud, snap);
                cloud.fill_ids();
                tracing::info!(path = %path.display(), tables, "restored routes from the state file");
            }
            // Written now so that an unwritable path stops the start instead of failing every change.
            persist::save(path, &persist::snapshot(&cloud))?;
            // The ledger goes with the routes: kept when they are restored, emptied when not.
            ledger = Ledger::open(ledger::file_for(path), keep)?;
        }
        Ok(App {
            cloud: Mutex::new(cloud),
            ledger: Mutex::new(ledger),
            replay: Mutex::new(ReplayGuard::default()),
            control: Mutex::new(control),
            identity: Mutex::new(identity),
            state_file,
        })
    }

    /// The cloud, for reading.
    pub fn cloud(&self) -> MutexGuard<'_, Cloud> {
        lock(&self.cloud)
    }

    /// The ledger of successful writes.
    pub fn ledger(&self) -> MutexGuard<'_, Ledger> {
        lock(&self.ledger)
    }

    /// The replay guard.
    pub fn replay(&self) -> MutexGuard<'_, ReplayGuard> {
        lock(&self.replay)
    }

    /// The identity sections and the temporary keys issued.
    pub fn identity(&self) -> MutexGuard<'_, Identity> {
        lock(&self.identity)
    }

    /// Faults, rate limits and call counts.
    pub fn control(&self) -> MutexGuard<'_, Control> {
        lock(&self.control)
    }

    /// Applies a change; when it succeeds, records what it changed in the ledger and, when there
    /// is a state file, saves the new state before answering, so a restart after a success keeps
    /// the change. `write` says which write the change is.
    pub fn mutate<R, E: From<NotSaved>>(
        &self,
        write: Write<'_>,
        change: impl FnOnce(&mut Cloud) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut cloud = self.cloud();
        let before = ledger::index(&cloud);
        let result = change(&mut cloud)?;
        let entries = ledger::diff(write, &before, &ledger::index(&cloud));
        let recorded = self.ledger().record(entries);
        let saved = self.state_file.as_ref().map_or(Ok(()), |path| persist::save(path, &persist::snapshot(&cloud)));
        let failures: Vec<PersistError> = [recorded.err(), saved.err()].into_iter().flatten().collect();
        for error in &failures {
            tracing::error!(error = error as &dyn std::error::Error, "state or ledger file not written");
        }
        if failures.is_empty() { Ok(result) } else { Err(NotSaved.into()) }
    }
}
