# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ociunit_global_optspecs
    string join \n h/help V/version
end

function __fish_ociunit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ociunit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ociunit_using_subcommand
    set -l cmd (__fish_ociunit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ociunit -n "__fish_ociunit_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ociunit -n "__fish_ociunit_needs_command" -s V -l version -d 'Print version'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "compile" -d 'Compile a bundle into a .service unit (stdout, or -o PATH)'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "explain" -d 'Show where each field of the bundle went'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "run" -d 'Run a bundle now as a transient scope or service, like systemd-run'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "install" -d 'Compile into the unit directory, reload, and optionally enable and start'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "apply" -d 'Change a running unit\'s limits in place from its edited bundle: rewrite an installed unit, apply the limits to the running unit (installed, or started by `run --service`), and report what still needs a restart (exit 0 all applied live, 3 a restart is needed, 1 a change failed, 2 invalid input)'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "diff" -d 'Show what install would change, as a unified diff (exit 0 same, 1 different, 2 error)'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "list" -d 'List the units ociunit generated, with drift and state'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "status" -d 'Show a unit\'s state, limits and usage'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "doctor" -d 'Check why a limit cannot apply on this host, and print the fix (exit 1 if something the bundle needs is missing)'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "uninstall" -d 'Stop, disable and remove a unit ociunit generated, then reload'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "generate" -d 'Write a unit for every declared bundle, as a systemd generator: invoked by systemd as ociunit-generator NORMAL_DIR EARLY_DIR LATE_DIR (see systemd.generator(7))'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "completions" -d 'Print the shell completion script for ociunit'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "man" -d 'Write the man pages of ociunit, its subcommands and ociunit-launch into DIR'
complete -c ociunit -n "__fish_ociunit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l name -d 'The unit name [default: the bundle directory\'s name]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l systemd-version -d 'The target systemd version, 239 or later [default: the local one, else 252]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l runtime -d 'Run the bundle as a container with crun or runc (auto: when root.path is a non-empty directory, with the first one installed), or on the host (none)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l runtime-version -d 'The runtime\'s version, instead of asking it (to compile for another machine)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l state-dir -d 'Where container mode keeps the runtime\'s config derived from the bundle [default: ~/.local/state/ociunit or /var/lib/ociunit]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l launcher -d 'Absolute path of ociunit-launch for ExecStart= [default: next to this executable]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -s o -l output -d 'Write the unit to PATH atomically instead of printing it (`-` is stdout). PATH must be a regular file or not exist; a symlink or device is refused' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l strict -d 'Make every field that would be dropped an error'
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l best-effort -d 'Let the launcher start the payload even when a cgroup write fails (with a warning)'
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l force -d 'With -o: replace a unit ociunit did not generate, one edited since, or one generated from another bundle, keeping a backup'
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -l json -d 'Print where the unit went as JSON (format `ociunit-compile/1`); without -o the unit is in it'
complete -c ociunit -n "__fish_ociunit_using_subcommand compile" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand explain" -l name -d 'The unit name [default: the bundle directory\'s name]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand explain" -l systemd-version -d 'The target systemd version, 239 or later [default: the local one, else 252]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand explain" -l runtime -d 'Run the bundle as a container with crun or runc (auto: when root.path is a non-empty directory, with the first one installed), or on the host (none)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand explain" -l runtime-version -d 'The runtime\'s version, instead of asking it (to compile for another machine)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand explain" -l state-dir -d 'Where container mode keeps the runtime\'s config derived from the bundle [default: ~/.local/state/ociunit or /var/lib/ociunit]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand explain" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand explain" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand explain" -l json -d 'Print the stable JSON form'
complete -c ociunit -n "__fish_ociunit_using_subcommand explain" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l name -d 'The unit name [default: the bundle directory\'s name]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l systemd-version -d 'The target systemd version, 239 or later [default: the local one, else 252]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l runtime -d 'Run the bundle as a container with crun or runc (auto: when root.path is a non-empty directory, with the first one installed), or on the host (none)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l runtime-version -d 'The runtime\'s version, instead of asking it (to compile for another machine)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l state-dir -d 'Where container mode keeps the runtime\'s config derived from the bundle [default: ~/.local/state/ociunit or /var/lib/ociunit]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l launcher -d 'Absolute path of ociunit-launch for ExecStart= [default: next to this executable]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l unit -d 'The transient unit\'s name [default: the bundle\'s name with a random suffix]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l slice -d 'Put the unit in this slice' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l description -d 'The unit\'s description' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -s p -l property -d 'Override a property, systemd-run style (MemoryMax=512M, CPUQuota=50%, …)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l strict -d 'Make every field that would be dropped an error'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l best-effort -d 'Let the launcher start the payload even when a cgroup write fails (with a warning)'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l scope -d 'Run in a transient scope around this process; the payload inherits the terminal [default when stdin is a terminal]'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l service -d 'Run as a transient service whose ExecStart= is the launcher [default otherwise]'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l wait -d 'Wait for the service to end, report, and exit with its status'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -s P -l pipe -d 'Connect the service\'s stdin, stdout and stderr to ours (implies --wait)'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -s G -l collect -d 'Unload the unit even if it failed (CollectMode=inactive-or-failed)'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l no-block -d 'Do not wait for the start job to finish'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -s q -l quiet -d 'Print no status lines or warnings'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l json -d 'Print the unit name and, with --wait, its result as JSON (service mode)'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -l dry-run -d 'Print the StartTransientUnit call instead of making it'
complete -c ociunit -n "__fish_ociunit_using_subcommand run" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l name -d 'The unit name [default: the bundle directory\'s name]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l systemd-version -d 'The target systemd version, 239 or later [default: the local one, else 252]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l runtime -d 'Run the bundle as a container with crun or runc (auto: when root.path is a non-empty directory, with the first one installed), or on the host (none)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l runtime-version -d 'The runtime\'s version, instead of asking it (to compile for another machine)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l state-dir -d 'Where container mode keeps the runtime\'s config derived from the bundle [default: ~/.local/state/ociunit or /var/lib/ociunit]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l launcher -d 'Absolute path of ociunit-launch for ExecStart= [default: next to this executable]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l unit-dir -d 'The unit directory [default: ~/.config/systemd/user or /etc/systemd/system]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l strict -d 'Make every field that would be dropped an error'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l best-effort -d 'Let the launcher start the payload even when a cgroup write fails (with a warning)'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l enable -d 'Enable the unit (EnableUnitFiles) so it starts at boot or login'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l now -d 'Start it now (restart it if it changed) and report the job\'s result'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l force -d 'Replace a unit ociunit did not generate, one edited since, or one generated from another bundle, keeping a backup'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l dry-run -d 'Print the files and D-Bus calls instead of making them'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -l json -d 'Print the report as JSON (format `ociunit-install/1`)'
complete -c ociunit -n "__fish_ociunit_using_subcommand install" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l name -d 'The unit name [default: the bundle directory\'s name]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l systemd-version -d 'The target systemd version, 239 or later [default: the local one, else 252]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l runtime -d 'Run the bundle as a container with crun or runc (auto: when root.path is a non-empty directory, with the first one installed), or on the host (none)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l runtime-version -d 'The runtime\'s version, instead of asking it (to compile for another machine)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l state-dir -d 'Where container mode keeps the runtime\'s config derived from the bundle [default: ~/.local/state/ociunit or /var/lib/ociunit]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l launcher -d 'Absolute path of ociunit-launch for ExecStart= [default: next to this executable]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l unit-dir -d 'The unit directory [default: ~/.config/systemd/user or /etc/systemd/system]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l strict -d 'Make every field that would be dropped an error'
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l best-effort -d 'Let the launcher start the payload even when a cgroup write fails (with a warning)'
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l dry-run -d 'Compare and report, change nothing (exit 3 if a restart would be needed)'
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l json -d 'Print the report as JSON (format `ociunit-apply/1`)'
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l restart -d 'Restart the unit when a change needs it'
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -l force -d 'Replace a unit ociunit did not generate or one edited since, keeping a backup'
complete -c ociunit -n "__fish_ociunit_using_subcommand apply" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l name -d 'The unit name [default: the bundle directory\'s name]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l systemd-version -d 'The target systemd version, 239 or later [default: the local one, else 252]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l runtime -d 'Run the bundle as a container with crun or runc (auto: when root.path is a non-empty directory, with the first one installed), or on the host (none)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l runtime-version -d 'The runtime\'s version, instead of asking it (to compile for another machine)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l state-dir -d 'Where container mode keeps the runtime\'s config derived from the bundle [default: ~/.local/state/ociunit or /var/lib/ociunit]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l launcher -d 'Absolute path of ociunit-launch for ExecStart= [default: next to this executable]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l unit-dir -d 'The unit directory [default: ~/.config/systemd/user or /etc/systemd/system]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l strict -d 'Make every field that would be dropped an error'
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l best-effort -d 'Let the launcher start the payload even when a cgroup write fails (with a warning)'
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -l json -d 'Print the differences as JSON (format `ociunit-diff/1`)'
complete -c ociunit -n "__fish_ociunit_using_subcommand diff" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand list" -l unit-dir -d 'The unit directory [default: ~/.config/systemd/user or /etc/systemd/system]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand list" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand list" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand list" -l json -d 'Print the list as JSON (format `ociunit-list/1`)'
complete -c ociunit -n "__fish_ociunit_using_subcommand list" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand status" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand status" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand status" -l json -d 'Print the report as JSON (format `ociunit-status/1`)'
complete -c ociunit -n "__fish_ociunit_using_subcommand status" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand doctor" -l launcher -d 'Absolute path of ociunit-launch for the trial [default: next to this executable]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand doctor" -l runtime -d 'Run the bundle as a container with crun or runc (auto: when root.path is a non-empty directory, with the first one installed), or on the host (none)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand doctor" -l runtime-version -d 'The runtime\'s version, instead of asking it (to compile for another machine)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand doctor" -l state-dir -d 'Where container mode keeps the runtime\'s config derived from the bundle [default: ~/.local/state/ociunit or /var/lib/ociunit]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand doctor" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand doctor" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand doctor" -l json -d 'Print the checks as JSON (format `ociunit-doctor/1`)'
complete -c ociunit -n "__fish_ociunit_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand uninstall" -l unit-dir -d 'The unit directory [default: ~/.config/systemd/user or /etc/systemd/system]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand uninstall" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand uninstall" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand uninstall" -l keep-running -d 'Do not stop the unit'
complete -c ociunit -n "__fish_ociunit_using_subcommand uninstall" -l force -d 'Remove a unit edited since ociunit generated it, keeping a backup'
complete -c ociunit -n "__fish_ociunit_using_subcommand uninstall" -l json -d 'Print what was removed as JSON (format `ociunit-uninstall/1`)'
complete -c ociunit -n "__fish_ociunit_using_subcommand uninstall" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -l bundles -d 'The declared bundles [default: ~/.config/ociunit/bundles or /etc/ociunit/bundles]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -l systemd-version -d 'The target systemd version [default: the local one, else 252]' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -l launcher -d 'Absolute path of ociunit-launch for ExecStart= [default: next to this executable]' -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -l runtime -d 'Run the bundle as a container with crun or runc (auto: when root.path is a non-empty directory, with the first one installed), or on the host (none)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -l runtime-version -d 'The runtime\'s version, instead of asking it (to compile for another machine)' -r
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -l user -d 'Use the user manager (the default for non-root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -l system -d 'Use the system manager (the default for root)'
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -l dry-run -d 'Print every file it would write, and every error (exit 2 if a bundle is invalid)'
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -l json -d 'With --dry-run: print the units and errors as JSON (format `ociunit-generate/1`)'
complete -c ociunit -n "__fish_ociunit_using_subcommand generate" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand completions" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand man" -l dir -r -F
complete -c ociunit -n "__fish_ociunit_using_subcommand man" -s h -l help -d 'Print help'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "compile" -d 'Compile a bundle into a .service unit (stdout, or -o PATH)'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "explain" -d 'Show where each field of the bundle went'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "run" -d 'Run a bundle now as a transient scope or service, like systemd-run'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "install" -d 'Compile into the unit directory, reload, and optionally enable and start'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "apply" -d 'Change a running unit\'s limits in place from its edited bundle: rewrite an installed unit, apply the limits to the running unit (installed, or started by `run --service`), and report what still needs a restart (exit 0 all applied live, 3 a restart is needed, 1 a change failed, 2 invalid input)'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "diff" -d 'Show what install would change, as a unified diff (exit 0 same, 1 different, 2 error)'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "list" -d 'List the units ociunit generated, with drift and state'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "status" -d 'Show a unit\'s state, limits and usage'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "doctor" -d 'Check why a limit cannot apply on this host, and print the fix (exit 1 if something the bundle needs is missing)'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "uninstall" -d 'Stop, disable and remove a unit ociunit generated, then reload'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "generate" -d 'Write a unit for every declared bundle, as a systemd generator: invoked by systemd as ociunit-generator NORMAL_DIR EARLY_DIR LATE_DIR (see systemd.generator(7))'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "completions" -d 'Print the shell completion script for ociunit'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "man" -d 'Write the man pages of ociunit, its subcommands and ociunit-launch into DIR'
complete -c ociunit -n "__fish_ociunit_using_subcommand help; and not __fish_seen_subcommand_from compile explain run install apply diff list status doctor uninstall generate completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
