//! The command line of `cargo xtask bench-load`.

use anyhow::bail;

/// The usage line, for errors and `--help`.
pub(super) const USAGE: &str = "usage: cargo xtask bench-load [--quick] \
[--full-path] [--with-usage | --pinned | --peers | --virtual-key embedded|redis]

  (none)          direct vs gateway vs nginx as a proxy: throughput, latency,
                  TTFT, RSS, startup (the README's table)
  --with-usage    the same with the usage extension enabled
  --pinned        gateway alone on core 1, everything else on core 0: added
                  latency at c=1, the throughput climb, CPU per request, a
                  paced stream's TTFT and frame gaps, stall-free streams
  --peers         direct, nginx, Switchboard, Portkey and LiteLLM against the
                  same upstream (installs the peers under the target dir)
  --virtual-key B the same gateway with a static key vs a virtual key of the
                  keys extension, limits in memory (embedded) or Redis (redis)
  --quick         shorter phases (a smoke test of the harness)
  --full-path     with the default run or --pinned: the gateway with
                  server.forward_same_format = false (the fast path's A/B)";

/// Which comparison to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Direct vs gateway vs nginx as a proxy (the README's table).
    Default,
    /// The gateway alone on one core.
    Pinned,
    /// Other gateways against the same upstream.
    Peers,
    /// Static key vs virtual key.
    VirtualKey(LimitsBackend),
}

/// Where the keys extension counts its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LimitsBackend {
    /// In the gateway process (`limits_backend = "memory"`).
    Embedded,
    /// In Redis (`limits_backend = "redis"`).
    Redis,
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Opts {
    /// Shorter phases.
    pub(super) quick: bool,
    /// The default mode with the usage extension on.
    pub(super) with_usage: bool,
    /// The gateway without the same-format fast path.
    pub(super) full_path: bool,
    /// Which comparison.
    pub(super) mode: Mode,
}

/// Parses the arguments after `bench-load`.
pub(super) fn parse(args: &[&str]) -> anyhow::Result<Opts> {
    let mut opts = Opts {
        quick: false,
        with_usage: false,
        full_path: false,
        mode: Mode::Default,
    };
    let mut modes = 0;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match *arg {
            "--quick" => opts.quick = true,
            "--full-path" => opts.full_path = true,
            "--with-usage" => {
                opts.with_usage = true;
                modes += 1;
            }
            "--pinned" => {
                opts.mode = Mode::Pinned;
                modes += 1;
            }
            "--peers" => {
                opts.mode = Mode::Peers;
                modes += 1;
            }
            "--virtual-key" => {
                let backend = match it.next().copied() {
                    Some("embedded") => LimitsBackend::Embedded,
                    Some("redis") => LimitsBackend::Redis,
                    Some(other) => bail!(
                        "`--virtual-key` takes `embedded` or `redis`, not `{other}`\n\n{USAGE}"
                    ),
                    None => bail!("`--virtual-key` needs `embedded` or `redis`\n\n{USAGE}"),
                };
                opts.mode = Mode::VirtualKey(backend);
                modes += 1;
            }
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    if modes > 1 {
        bail!(
            "--with-usage, --pinned, --peers and --virtual-key are separate runs: pick one\n\n{USAGE}"
        );
    }
    if opts.full_path && matches!(opts.mode, Mode::Peers | Mode::VirtualKey(_)) {
        bail!("--full-path goes with the default run or --pinned\n\n{USAGE}");
    }
    Ok(opts)
}

/// The `[server]` line that turns the same-format fast path off, when asked.
pub(super) fn full_path_line(opts: &Opts) -> &'static str {
    if opts.full_path {
        println!("==> the full path: server.forward_same_format = false");
        "forward_same_format = false\n"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_mode() {
        let p = |a: &[&str]| parse(a).expect("parses");
        assert_eq!(p(&[]).mode, Mode::Default);
        assert!(p(&["--quick"]).quick);
        assert!(p(&["--with-usage"]).with_usage);
        assert!(p(&["--full-path", "--pinned"]).full_path);
        assert_eq!(p(&["--pinned", "--quick"]).mode, Mode::Pinned);
        assert_eq!(p(&["--peers"]).mode, Mode::Peers);
        assert_eq!(
            p(&["--virtual-key", "redis"]).mode,
            Mode::VirtualKey(LimitsBackend::Redis)
        );
        assert_eq!(
            p(&["--quick", "--virtual-key", "embedded"]).mode,
            Mode::VirtualKey(LimitsBackend::Embedded)
        );
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        for bad in [
            &["--bogus"][..],
            &["--virtual-key"],
            &["--virtual-key", "postgres"],
            &["--pinned", "--peers"],
            &["--with-usage", "--pinned"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
