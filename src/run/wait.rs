//! `ociunit run --service --wait`: follow the unit until it is done, report like `systemd-run
//! --wait`, and pass the payload's exit status on. Ctrl-C or SIGTERM stops the unit rather than
//! leaving it running behind us.

use signal_hook::consts::{SIGINT, SIGTERM};
use zbus::blocking::{Connection, Proxy};
use zbus::zvariant::OwnedObjectPath;

use crate::error::Error;
use crate::manager::{ManagerProxy, call_error, unit_interface};

const SERVICE: &str = "org.freedesktop.systemd1";

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

pub fn until_done(
    connection: &Connection,
    manager: &ManagerProxy<'static>,
    unit: &str,
) -> Result<Outcome, Error> {
    let failed = |what: &str, err: zbus::Error| call_error(&format!("{unit}: {what}"), &err);
    let path = manager
        .get_unit(unit)
        .map_err(|e| failed("finding the unit", e))?;
    let unit_proxy = Proxy::new(
        connection,
        SERVICE,
        path.clone(),
        "org.freedesktop.systemd1.Unit",
    )
    .map_err(|e| failed("watching the unit", e))?;
    let changes = unit_proxy.receive_property_changed::<String>("ActiveState");
    stop_on_signals(manager.clone(), unit.to_owned())?;
    let active_state = || unit_proxy.get_property::<String>("ActiveState");
    let mut changes = changes.into_iter();
    loop {
        let state = active_state().map_err(|e| failed("reading ActiveState", e))?;
        if state == "inactive" || state == "failed" {
            break;
        }
        if changes.next().is_none() {
            return Err(Error::Host(format!(
                "{unit}: lost the connection to the manager"
            )));
        }
    }
    outcome(connection, &path).map_err(|e| failed("reading the result", e))
}

fn stop_on_signals(manager: ManagerProxy<'static>, unit: String) -> Result<(), Error> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .map_err(|err| Error::Host(format!("cannot catch SIGINT and SIGTERM: {err}")))?;
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if let Err(err) = manager.stop_unit(&unit, "replace") {
                eprintln!("ociunit: stopping {unit}: {err}");
            }
        }
    });
    Ok(())
}

fn outcome(connection: &Connection, path: &OwnedObjectPath) -> zbus::Result<Outcome> {
    let unit = unit_interface(connection, path, "org.freedesktop.systemd1.Unit")?;
    let service = unit_interface(connection, path, "org.freedesktop.systemd1.Service")?;
    let start: u64 = service.get_property("ExecMainStartTimestampMonotonic")?;
    let exit: u64 = service.get_property("ExecMainExitTimestampMonotonic")?;
    let invocation: Vec<u8> = unit.get_property("InvocationID").unwrap_or_default();
    let known = |v: u64| (v != u64::MAX).then_some(v);
    Ok(Outcome {
        result: service.get_property("Result")?,
        code: service.get_property("ExecMainCode")?,
        status: service.get_property("ExecMainStatus")?,
        runtime_usec: exit.saturating_sub(start),
        cpu_nsec: service.get_property("CPUUsageNSec").ok().and_then(known),
        memory_peak: service.get_property("MemoryPeak").ok().and_then(known),
        invocation_id: crate::bundle::hex(&invocation),
    })
}

/// Prints the result like `systemd-run --wait` (and as JSON with `json`).
pub fn report(unit: &str, outcome: &Outcome, json: bool, quiet: bool) {
    if json {
        let json = serde_json::json!({
            "unit": unit,
            "invocation_id": outcome.invocation_id,
            "result": outcome.result,
            "exit_status": outcome.exit_status(),
            "termination": outcome.termination(),
            "runtime_usec": outcome.runtime_usec,
            "cpu_usage_nsec": outcome.cpu_nsec,
            "memory_peak": outcome.memory_peak,
        });
        println!("{json}");
    }
    if quiet {
        return;
    }
    eprintln!("Finished {unit} with result: {}", outcome.result);
    eprintln!("Main processes terminated with: {}", outcome.termination());
    eprintln!("Service runtime: {}", duration(outcome.runtime_usec));
    if let Some(cpu) = outcome.cpu_nsec {
        eprintln!("CPU time consumed: {}", duration(cpu / 1000));
    }
    if let Some(peak) = outcome.memory_peak {
        eprintln!("Memory peak: {}", size(peak));
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
