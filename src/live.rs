//! A bundle against a live manager: what `run`, `apply` and `doctor` each need before they can
//! act, done once. The connection's handshake and Version read go out first, the bundle is read
//! and the runtime located while the manager answers (a process of its own, for crun's version),
//! and the plan is made for the version the manager reports. Invalid input comes before an
//! unreachable manager: it is the user's to fix whatever the bus does.

use std::path::Path;

use crate::bundle::Bundle;
use crate::compile::{self, Context, Request};
use crate::error::Error;
use crate::plan::Plan;
use crate::runtime::{self, Mode};
use crate::shell::Shell;
use crate::systemd::{Bus, Opening, Via};
use crate::target::Target;

/// A bundle, how it runs, and the manager (or why it could not be reached).
pub struct Live {
    pub bundle: Bundle,
    pub mode: Mode,
    pub bus: Result<Bus, Error>,
    /// The systemd to plan for whatever the manager runs (`apply --systemd-version`).
    pinned: Option<u32>,
}

/// How much of the runtime to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runs {
    /// In a transient unit, whose derived config records no runtime version: the runtime is
    /// asked for its version only when the config depends on it.
    Transient,
    /// In a unit file, which records the runtime's version.
    Installed,
}

impl Live {
    /// Connects over `via` and, while the manager answers, reads the bundle and resolves its
    /// mode; fails here only on invalid input.
    pub fn open(path: &Path, request: &Request, via: Via, runs: Runs) -> Result<Live, Error> {
        let opening = Opening::start(request.target.manager, via);
        let bundle = Bundle::load(path)?;
        let (choice, version) = (&request.runtime, request.runtime_version.as_deref());
        let mode = match runs {
            Runs::Transient => runtime::resolve_for_run(&bundle, choice, version)?,
            Runs::Installed => runtime::resolve(&bundle, choice, version)?,
        };
        Ok(Live {
            bundle,
            mode,
            bus: opening.and_then(Opening::finish),
            pinned: None,
        })
    }

    /// Plans for `systemd`, when given, instead of the manager's version.
    #[must_use]
    pub fn pinned(self, systemd: Option<u32>) -> Live {
        Live {
            pinned: systemd,
            ..self
        }
    }

    /// The systemd to plan for: the pinned one, else the manager's if ociunit supports it;
    /// without a manager the request's, which is good for finding invalid input.
    pub fn systemd(&self, request: &Request) -> Result<u32, Error> {
        match (self.pinned, &self.bus) {
            (Some(systemd), _) => Ok(systemd),
            (None, Ok(bus)) => bus.supported(),
            (None, Err(_)) => Ok(request.target.systemd),
        }
    }

    /// The plan for the manager's systemd, its warnings told to `shell`. Without a manager the
    /// bundle is still checked (and its warnings kept back), then the manager's error returned.
    pub fn plan(&self, request: &Request, context: &Context, shell: &Shell) -> Result<Plan, Error> {
        let request = Request {
            target: Target {
                systemd: self.systemd(request)?,
                ..request.target
            },
            ..request.clone()
        };
        let context = Context {
            mode: Some(self.mode.clone()),
            ..context.clone()
        };
        match &self.bus {
            Ok(_) => compile::checked(&self.bundle, &request, &context, shell),
            Err(err) => {
                compile::with_warnings(&self.bundle, &request, &context)?;
                Err(err.clone())
            }
        }
    }

    /// The manager, or why it could not be reached.
    pub fn bus(&mut self) -> Result<&mut Bus, Error> {
        self.bus.as_mut().map_err(|err| err.clone())
    }
}
