//! `ociunit run --service --wait`: follow the unit until it is done, report like `systemd-run
//! --wait`, and pass the payload's exit status on. Ctrl-C or SIGTERM stops the unit rather than
//! leaving it running behind us.

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::error::Error;
use crate::shell::Shell;
use crate::systemd::{Bus, CallFailed, Properties};

/// How a service ended, as systemd reports it.
pub struct Outcome {
    pub result: String,
    /// `CLD_EXITED` (1), `CLD_KILLED` (2) or `CLD_DUMPED` (3); 0 if it never ran.
    code: i32,
    pub status: i32,
    runtime_usec: u64,
    cpu_nsec: Option<u64>,
    memory_peak: Option<u64>,
    invocation_id: String,
}

impl Outcome {
    /// Like a shell: the exit status, or 128 + the signal that killed it.
    pub fn exit_status(&self) -> i32 {
        match self.code {
            1 => self.status,
            2 | 3 => 128 + self.status,
            _ if self.result == "success" => 0,
            _ => 1,
        }
    }

    /// Whether the launcher ran, after a failed start job: a main process that exited with
    /// one of systemd's own statuses (200 to 255: 231/APPARMOR, 203/EXEC, …) failed in the
    /// manager's child before the exec, and one that never existed (a dependency, a
    /// resource) has no status at all; then the job's failure is the thing to report.
    pub fn launcher_ran(&self) -> bool {
        match self.code {
            1 => !(200..=255).contains(&self.status),
            2 | 3 => true,
            _ => false,
        }
    }

    pub fn termination(&self) -> String {
        termination(self.code, self.status)
    }
}

/// How the main process ended, from `ExecMainCode` and `ExecMainStatus`, in `systemctl status`'s
/// words.
pub fn termination(code: i32, status: i32) -> String {
    match code {
        1 => format!("code=exited/status={status}"),
        2 => format!("code=killed/signal={status}"),
        3 => format!("code=dumped/signal={status}"),
        _ => "never started".to_owned(),
    }
}

/// Follows `unit` (watched with [`Bus::watch`] before it started) until it is inactive or
/// failed: its state and result come in one round trip, again after each change that ends it.
pub fn until_done(bus: &mut Bus, unit: &str, shell: &Shell) -> Result<Outcome, Error> {
    let failed = |err: CallFailed| err.during(format!("{unit}: reading the result"));
    stop_on_signals(bus, unit, shell)?;
    loop {
        let (state, invocation, service) = bus
            .unit_and_interface(unit, "org.freedesktop.systemd1.Service")
            .map_err(failed)?;
        if state == "inactive" || state == "failed" {
            return outcome(&service, &invocation).map_err(failed);
        }
        if !bus.until_stopped() {
            return Err(failed(CallFailed {
                name: String::new(),
                message: "lost the connection to the manager".into(),
            }));
        }
    }
}

fn stop_on_signals(bus: &Bus, unit: &str, shell: &Shell) -> Result<(), Error> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .map_err(|err| Error::sys("catch SIGINT and SIGTERM", err))?;
    let stop = bus.stopper(unit);
    let unit = unit.to_owned();
    let shell = shell.clone();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if let Err(err) = stop() {
                shell.error(format!("stopping {unit}: {err}"));
            }
        }
    });
    Ok(())
}

fn outcome(service: &Properties, invocation: &[u8]) -> Result<Outcome, CallFailed> {
    fn property<T: TryFrom<zbus::zvariant::OwnedValue>>(
        service: &Properties,
        name: &str,
    ) -> Result<T, CallFailed> {
        service.get(name).ok_or_else(|| CallFailed {
            name: String::new(),
            message: format!("no property {name}"),
        })
    }
    let start: u64 = property(service, "ExecMainStartTimestampMonotonic")?;
    let exit: u64 = property(service, "ExecMainExitTimestampMonotonic")?;
    let known = |v: u64| (v != u64::MAX).then_some(v);
    Ok(Outcome {
        result: property(service, "Result")?,
        code: property(service, "ExecMainCode")?,
        status: property(service, "ExecMainStatus")?,
        runtime_usec: exit.saturating_sub(start),
        cpu_nsec: property(service, "CPUUsageNSec").ok().and_then(known),
        memory_peak: property(service, "MemoryPeak").ok().and_then(known),
        invocation_id: crate::bundle::hex(invocation),
    })
}

impl Outcome {
    /// The `--json` document of a finished run.
    pub fn json(&self, unit: &str) -> serde_json::Value {
        serde_json::json!({
            "unit": unit,
            "invocation_id": self.invocation_id,
            "result": self.result,
            "exit_status": self.exit_status(),
            "termination": self.termination(),
            "runtime_usec": self.runtime_usec,
            "cpu_usage_nsec": self.cpu_nsec,
            "memory_peak": self.memory_peak,
        })
    }

    /// The result in `systemd-run --wait`'s words, a line each.
    pub fn lines(&self, unit: &str) -> Vec<String> {
        let mut lines = vec![
            format!("Finished {unit} with result: {}", self.result),
            format!("Main processes terminated with: {}", self.termination()),
            format!("Service runtime: {}", duration(self.runtime_usec)),
        ];
        if let Some(cpu) = self.cpu_nsec {
            lines.push(format!("CPU time consumed: {}", duration(cpu / 1000)));
        }
        if let Some(peak) = self.memory_peak {
            lines.push(format!("Memory peak: {}", size(peak)));
        }
        lines
    }
}

fn duration(usec: u64) -> String {
    match usec {
        0..1_000 => format!("{usec}us"),
        1_000..1_000_000 => format!("{}ms", usec / 1000),
        _ => format!("{:.3}s", usec as f64 / 1e6),
    }
}

/// A byte count the way systemctl shows one: `3.1M`.
pub fn size(bytes: u64) -> String {
    let units = ["B", "K", "M", "G", "T"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.1}{}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(result: &str, code: i32, status: i32) -> Outcome {
        Outcome {
            result: result.to_owned(),
            code,
            status,
            runtime_usec: 0,
            cpu_nsec: None,
            memory_peak: None,
            invocation_id: String::new(),
        }
    }

    #[test]
    fn a_launcher_that_refused_passes_its_status_on() {
        let refused = ended("exit-code", 1, 125);
        assert!(refused.launcher_ran());
        assert_eq!(refused.exit_status(), 125);
        assert!(ended("signal", 2, 9).launcher_ran());
        assert_eq!(ended("signal", 2, 9).exit_status(), 137);
    }

    #[test]
    fn a_start_that_failed_in_systemd_has_no_status_to_pass_on() {
        assert!(!ended("exit-code", 1, 231).launcher_ran());
        assert!(!ended("exit-code", 1, 203).launcher_ran());
        assert!(!ended("resources", 0, 0).launcher_ran());
    }
}
