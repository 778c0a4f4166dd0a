#compdef ociunit

autoload -U is-at-least

_ociunit() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_ociunit_commands" \
"*::: :->ociunit" \
&& ret=0
    case $state in
    (ociunit)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:ociunit-command-$line[1]:"
        case $line[1] in
            (compile)
_arguments "${_arguments_options[@]}" : \
'--name=[The unit name \[default\: the bundle directory'\''s name\]]:NAME:_default' \
'--systemd-version=[The target systemd version, 239 or later \[default\: the local one, else 252\]]:N:_default' \
'--runtime=[Run the bundle as a container with crun or runc (auto\: when root.path is a non-empty directory, with the first one installed), or on the host (none)]:auto|none|crun|runc|PATH:_default' \
'--runtime-version=[The runtime'\''s version, instead of asking it (to compile for another machine)]:VERSION:_default' \
'--state-dir=[Where container mode keeps the runtime'\''s config derived from the bundle \[default\: ~/.local/state/ociunit or /var/lib/ociunit\]]:DIR:_files' \
'--launcher=[Absolute path of ociunit-launch for ExecStart= \[default\: next to this executable\]]:PATH:_files' \
'-o+[Write the unit to PATH atomically instead of printing it (\`-\` is stdout). PATH must be a regular file or not exist; a symlink or device is refused]:PATH:_files' \
'--output=[Write the unit to PATH atomically instead of printing it (\`-\` is stdout). PATH must be a regular file or not exist; a symlink or device is refused]:PATH:_files' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--strict[Make every field that would be dropped an error]' \
'--best-effort[Let the launcher start the payload even when a cgroup write fails (with a warning)]' \
'--force[With -o\: replace a unit ociunit did not generate, one edited since, or one generated from another bundle, keeping a backup]' \
'--json[Print where the unit went as JSON (format \`ociunit-compile/1\`); without -o the unit is in it]' \
'-h[Print help]' \
'--help[Print help]' \
':bundle -- A bundle directory, or its config.json:_files' \
&& ret=0
;;
(explain)
_arguments "${_arguments_options[@]}" : \
'--name=[The unit name \[default\: the bundle directory'\''s name\]]:NAME:_default' \
'--systemd-version=[The target systemd version, 239 or later \[default\: the local one, else 252\]]:N:_default' \
'--runtime=[Run the bundle as a container with crun or runc (auto\: when root.path is a non-empty directory, with the first one installed), or on the host (none)]:auto|none|crun|runc|PATH:_default' \
'--runtime-version=[The runtime'\''s version, instead of asking it (to compile for another machine)]:VERSION:_default' \
'--state-dir=[Where container mode keeps the runtime'\''s config derived from the bundle \[default\: ~/.local/state/ociunit or /var/lib/ociunit\]]:DIR:_files' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--json[Print the stable JSON form]' \
'-h[Print help]' \
'--help[Print help]' \
':bundle -- A bundle directory, or its config.json:_files' \
&& ret=0
;;
(run)
_arguments "${_arguments_options[@]}" : \
'--name=[The unit name \[default\: the bundle directory'\''s name\]]:NAME:_default' \
'--systemd-version=[The target systemd version, 239 or later \[default\: the local one, else 252\]]:N:_default' \
'--runtime=[Run the bundle as a container with crun or runc (auto\: when root.path is a non-empty directory, with the first one installed), or on the host (none)]:auto|none|crun|runc|PATH:_default' \
'--runtime-version=[The runtime'\''s version, instead of asking it (to compile for another machine)]:VERSION:_default' \
'--state-dir=[Where container mode keeps the runtime'\''s config derived from the bundle \[default\: ~/.local/state/ociunit or /var/lib/ociunit\]]:DIR:_files' \
'--launcher=[Absolute path of ociunit-launch for ExecStart= \[default\: next to this executable\]]:PATH:_files' \
'--unit=[The transient unit'\''s name \[default\: the bundle'\''s name with a random suffix\]]:NAME:_default' \
'--slice=[Put the unit in this slice]:SLICE:_default' \
'--description=[The unit'\''s description]:DESCRIPTION:_default' \
'*-p+[Override a property, systemd-run style (MemoryMax=512M, CPUQuota=50%, …)]:KEY=VALUE:_default' \
'*--property=[Override a property, systemd-run style (MemoryMax=512M, CPUQuota=50%, …)]:KEY=VALUE:_default' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--strict[Make every field that would be dropped an error]' \
'--best-effort[Let the launcher start the payload even when a cgroup write fails (with a warning)]' \
'(--service)--scope[Run in a transient scope around this process; the payload inherits the terminal \[default when stdin is a terminal\]]' \
'--service[Run as a transient service whose ExecStart= is the launcher \[default otherwise\]]' \
'--wait[Wait for the service to end, report, and exit with its status]' \
'-P[Connect the service'\''s stdin, stdout and stderr to ours (implies --wait)]' \
'--pipe[Connect the service'\''s stdin, stdout and stderr to ours (implies --wait)]' \
'-G[Unload the unit even if it failed (CollectMode=inactive-or-failed)]' \
'--collect[Unload the unit even if it failed (CollectMode=inactive-or-failed)]' \
'(--wait -P --pipe --scope)--no-block[Do not wait for the start job to finish]' \
'-q[Print no status lines or warnings]' \
'--quiet[Print no status lines or warnings]' \
'--json[Print the unit name and, with --wait, its result as JSON (service mode)]' \
'--dry-run[Print the StartTransientUnit call instead of making it]' \
'-h[Print help]' \
'--help[Print help]' \
':bundle -- A bundle directory, or its config.json:_files' \
&& ret=0
;;
(install)
_arguments "${_arguments_options[@]}" : \
'--name=[The unit name \[default\: the bundle directory'\''s name\]]:NAME:_default' \
'--systemd-version=[The target systemd version, 239 or later \[default\: the local one, else 252\]]:N:_default' \
'--runtime=[Run the bundle as a container with crun or runc (auto\: when root.path is a non-empty directory, with the first one installed), or on the host (none)]:auto|none|crun|runc|PATH:_default' \
'--runtime-version=[The runtime'\''s version, instead of asking it (to compile for another machine)]:VERSION:_default' \
'--state-dir=[Where container mode keeps the runtime'\''s config derived from the bundle \[default\: ~/.local/state/ociunit or /var/lib/ociunit\]]:DIR:_files' \
'--launcher=[Absolute path of ociunit-launch for ExecStart= \[default\: next to this executable\]]:PATH:_files' \
'--unit-dir=[The unit directory \[default\: ~/.config/systemd/user or /etc/systemd/system\]]:DIR:_files' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--strict[Make every field that would be dropped an error]' \
'--best-effort[Let the launcher start the payload even when a cgroup write fails (with a warning)]' \
'--enable[Enable the unit (EnableUnitFiles) so it starts at boot or login]' \
'--now[Start it now (restart it if it changed) and report the job'\''s result]' \
'--force[Replace a unit ociunit did not generate, one edited since, or one generated from another bundle, keeping a backup]' \
'--dry-run[Print the files and D-Bus calls instead of making them]' \
'--json[Print the report as JSON (format \`ociunit-install/1\`)]' \
'-h[Print help]' \
'--help[Print help]' \
':bundle -- A bundle directory, or its config.json:_files' \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
'--name=[The unit name \[default\: the bundle directory'\''s name\]]:NAME:_default' \
'--systemd-version=[The target systemd version, 239 or later \[default\: the local one, else 252\]]:N:_default' \
'--runtime=[Run the bundle as a container with crun or runc (auto\: when root.path is a non-empty directory, with the first one installed), or on the host (none)]:auto|none|crun|runc|PATH:_default' \
'--runtime-version=[The runtime'\''s version, instead of asking it (to compile for another machine)]:VERSION:_default' \
'--state-dir=[Where container mode keeps the runtime'\''s config derived from the bundle \[default\: ~/.local/state/ociunit or /var/lib/ociunit\]]:DIR:_files' \
'--launcher=[Absolute path of ociunit-launch for ExecStart= \[default\: next to this executable\]]:PATH:_files' \
'--unit-dir=[The unit directory \[default\: ~/.config/systemd/user or /etc/systemd/system\]]:DIR:_files' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--strict[Make every field that would be dropped an error]' \
'--best-effort[Let the launcher start the payload even when a cgroup write fails (with a warning)]' \
'--dry-run[Compare and report, change nothing (exit 3 if a restart would be needed)]' \
'--json[Print the report as JSON (format \`ociunit-apply/1\`)]' \
'--restart[Restart the unit when a change needs it]' \
'--force[Replace a unit ociunit did not generate or one edited since, keeping a backup]' \
'-h[Print help]' \
'--help[Print help]' \
':bundle -- A bundle directory, or its config.json:_files' \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
'--name=[The unit name \[default\: the bundle directory'\''s name\]]:NAME:_default' \
'--systemd-version=[The target systemd version, 239 or later \[default\: the local one, else 252\]]:N:_default' \
'--runtime=[Run the bundle as a container with crun or runc (auto\: when root.path is a non-empty directory, with the first one installed), or on the host (none)]:auto|none|crun|runc|PATH:_default' \
'--runtime-version=[The runtime'\''s version, instead of asking it (to compile for another machine)]:VERSION:_default' \
'--state-dir=[Where container mode keeps the runtime'\''s config derived from the bundle \[default\: ~/.local/state/ociunit or /var/lib/ociunit\]]:DIR:_files' \
'--launcher=[Absolute path of ociunit-launch for ExecStart= \[default\: next to this executable\]]:PATH:_files' \
'--unit-dir=[The unit directory \[default\: ~/.config/systemd/user or /etc/systemd/system\]]:DIR:_files' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--strict[Make every field that would be dropped an error]' \
'--best-effort[Let the launcher start the payload even when a cgroup write fails (with a warning)]' \
'--json[Print the differences as JSON (format \`ociunit-diff/1\`)]' \
'-h[Print help]' \
'--help[Print help]' \
':bundle -- A bundle directory, or its config.json:_files' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--unit-dir=[The unit directory \[default\: ~/.config/systemd/user or /etc/systemd/system\]]:DIR:_files' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--json[Print the list as JSON (format \`ociunit-list/1\`)]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--json[Print the report as JSON (format \`ociunit-status/1\`)]' \
'-h[Print help]' \
'--help[Print help]' \
':unit -- The unit (NAME or NAME.service):_default' \
&& ret=0
;;
(doctor)
_arguments "${_arguments_options[@]}" : \
'--launcher=[Absolute path of ociunit-launch for the trial \[default\: next to this executable\]]:PATH:_files' \
'--runtime=[Run the bundle as a container with crun or runc (auto\: when root.path is a non-empty directory, with the first one installed), or on the host (none)]:auto|none|crun|runc|PATH:_default' \
'--runtime-version=[The runtime'\''s version, instead of asking it (to compile for another machine)]:VERSION:_default' \
'--state-dir=[Where container mode keeps the runtime'\''s config derived from the bundle \[default\: ~/.local/state/ociunit or /var/lib/ociunit\]]:DIR:_files' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--json[Print the checks as JSON (format \`ociunit-doctor/1\`)]' \
'-h[Print help]' \
'--help[Print help]' \
'::bundle -- A bundle whose needs to check, with a trial of its launcher writes:_files' \
&& ret=0
;;
(uninstall)
_arguments "${_arguments_options[@]}" : \
'--unit-dir=[The unit directory \[default\: ~/.config/systemd/user or /etc/systemd/system\]]:DIR:_files' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--keep-running[Do not stop the unit]' \
'--force[Remove a unit edited since ociunit generated it, keeping a backup]' \
'--json[Print what was removed as JSON (format \`ociunit-uninstall/1\`)]' \
'-h[Print help]' \
'--help[Print help]' \
':unit -- The unit (NAME or NAME.service):_default' \
&& ret=0
;;
(generate)
_arguments "${_arguments_options[@]}" : \
'--bundles=[The declared bundles \[default\: ~/.config/ociunit/bundles or /etc/ociunit/bundles\]]:DIR:_files' \
'--systemd-version=[The target systemd version \[default\: the local one, else 252\]]:N:_default' \
'--launcher=[Absolute path of ociunit-launch for ExecStart= \[default\: next to this executable\]]:PATH:_files' \
'--runtime=[Run the bundle as a container with crun or runc (auto\: when root.path is a non-empty directory, with the first one installed), or on the host (none)]:auto|none|crun|runc|PATH:_default' \
'--runtime-version=[The runtime'\''s version, instead of asking it (to compile for another machine)]:VERSION:_default' \
'(--system)--user[Use the user manager (the default for non-root)]' \
'--system[Use the system manager (the default for root)]' \
'--dry-run[Print every file it would write, and every error (exit 2 if a bundle is invalid)]' \
'--json[With --dry-run\: print the units and errors as JSON (format \`ociunit-generate/1\`)]' \
'-h[Print help]' \
'--help[Print help]' \
'*::dirs -- systemd'\''s output directories; only the first is written \[default with --dry-run\: /run/systemd/generator or /run/user/UID/systemd/generator\]:_files' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
':shell:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'--dir=[]:DIR:_files' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_ociunit__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:ociunit-help-command-$line[1]:"
        case $line[1] in
            (compile)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(explain)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(run)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(install)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(doctor)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(uninstall)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(generate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_ociunit_commands] )) ||
_ociunit_commands() {
    local commands; commands=(
'compile:Compile a bundle into a .service unit (stdout, or -o PATH)' \
'explain:Show where each field of the bundle went' \
'run:Run a bundle now as a transient scope or service, like systemd-run' \
'install:Compile into the unit directory, reload, and optionally enable and start' \
'apply:Change a running unit'\''s limits in place from its edited bundle\: rewrite an installed unit, apply the limits to the running unit (installed, or started by \`run --service\`), and report what still needs a restart (exit 0 all applied live, 3 a restart is needed, 1 a change failed, 2 invalid input)' \
'diff:Show what install would change, as a unified diff (exit 0 same, 1 different, 2 error)' \
'list:List the units ociunit generated, with drift and state' \
'status:Show a unit'\''s state, limits and usage' \
'doctor:Check why a limit cannot apply on this host, and print the fix (exit 1 if something the bundle needs is missing)' \
'uninstall:Stop, disable and remove a unit ociunit generated, then reload' \
'generate:Write a unit for every declared bundle, as a systemd generator\: invoked by systemd as ociunit-generator NORMAL_DIR EARLY_DIR LATE_DIR (see systemd.generator(7))' \
'completions:Print the shell completion script for ociunit' \
'man:Write the man pages of ociunit, its subcommands and ociunit-launch into DIR' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'ociunit commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__apply_commands] )) ||
_ociunit__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit apply commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__compile_commands] )) ||
_ociunit__subcmd__compile_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit compile commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__completions_commands] )) ||
_ociunit__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit completions commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__diff_commands] )) ||
_ociunit__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit diff commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__doctor_commands] )) ||
_ociunit__subcmd__doctor_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit doctor commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__explain_commands] )) ||
_ociunit__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit explain commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__generate_commands] )) ||
_ociunit__subcmd__generate_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit generate commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help_commands] )) ||
_ociunit__subcmd__help_commands() {
    local commands; commands=(
'compile:Compile a bundle into a .service unit (stdout, or -o PATH)' \
'explain:Show where each field of the bundle went' \
'run:Run a bundle now as a transient scope or service, like systemd-run' \
'install:Compile into the unit directory, reload, and optionally enable and start' \
'apply:Change a running unit'\''s limits in place from its edited bundle\: rewrite an installed unit, apply the limits to the running unit (installed, or started by \`run --service\`), and report what still needs a restart (exit 0 all applied live, 3 a restart is needed, 1 a change failed, 2 invalid input)' \
'diff:Show what install would change, as a unified diff (exit 0 same, 1 different, 2 error)' \
'list:List the units ociunit generated, with drift and state' \
'status:Show a unit'\''s state, limits and usage' \
'doctor:Check why a limit cannot apply on this host, and print the fix (exit 1 if something the bundle needs is missing)' \
'uninstall:Stop, disable and remove a unit ociunit generated, then reload' \
'generate:Write a unit for every declared bundle, as a systemd generator\: invoked by systemd as ociunit-generator NORMAL_DIR EARLY_DIR LATE_DIR (see systemd.generator(7))' \
'completions:Print the shell completion script for ociunit' \
'man:Write the man pages of ociunit, its subcommands and ociunit-launch into DIR' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'ociunit help commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__apply_commands] )) ||
_ociunit__subcmd__help__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help apply commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__compile_commands] )) ||
_ociunit__subcmd__help__subcmd__compile_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help compile commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__completions_commands] )) ||
_ociunit__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help completions commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__diff_commands] )) ||
_ociunit__subcmd__help__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help diff commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__doctor_commands] )) ||
_ociunit__subcmd__help__subcmd__doctor_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help doctor commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__explain_commands] )) ||
_ociunit__subcmd__help__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help explain commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__generate_commands] )) ||
_ociunit__subcmd__help__subcmd__generate_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help generate commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__help_commands] )) ||
_ociunit__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help help commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__install_commands] )) ||
_ociunit__subcmd__help__subcmd__install_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help install commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__list_commands] )) ||
_ociunit__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help list commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__man_commands] )) ||
_ociunit__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help man commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__run_commands] )) ||
_ociunit__subcmd__help__subcmd__run_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help run commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__status_commands] )) ||
_ociunit__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help status commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__help__subcmd__uninstall_commands] )) ||
_ociunit__subcmd__help__subcmd__uninstall_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit help uninstall commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__install_commands] )) ||
_ociunit__subcmd__install_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit install commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__list_commands] )) ||
_ociunit__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit list commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__man_commands] )) ||
_ociunit__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit man commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__run_commands] )) ||
_ociunit__subcmd__run_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit run commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__status_commands] )) ||
_ociunit__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit status commands' commands "$@"
}
(( $+functions[_ociunit__subcmd__uninstall_commands] )) ||
_ociunit__subcmd__uninstall_commands() {
    local commands; commands=()
    _describe -t commands 'ociunit uninstall commands' commands "$@"
}

if [ "$funcstack[1]" = "_ociunit" ]; then
    _ociunit "$@"
else
    compdef _ociunit ociunit
fi
