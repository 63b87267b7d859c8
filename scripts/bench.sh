#!/usr/bin/env bash
# Benchmarks (see bench/README.md). Installs and builds what is missing first.
#   scripts/bench.sh                 every implemented benchmark
#   scripts/bench.sh agent [OPTS]    the agent against tcpdump and tshark; OPTS go to
#                                    bench/agent/run.mjs (--runs N, --packets N, --flows N)
#   scripts/bench.sh agent-live [OPTS]   live capture on loopback: the highest zero-drop
#                                    rate by the kernel's own counters (root; OPTS go to
#                                    bench/agent/live.mjs: --rates, --seconds, --buffer-mb)
#   scripts/bench.sh collector [OPTS]  JetStream -> collector -> database against raw COPY, and
#                                    top-talkers latency over 10 M stored flows (OPTS go to
#                                    bench/collector/run.ts: --flows N, --history N, --flavor F)
#   scripts/bench.sh console [OPTS]  the console: initial JavaScript gzipped, and long tasks in Chromium
#                                    while the live stream carries 2,000 flows/s (OPTS go to
#                                    bench/console/run.ts: --seconds N, --rate N, --hosts N)
# NTA_BENCH_SKIP_SETUP=1 skips scripts/setup.sh --test (when iterating on a built tree).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

implemented=(agent agent-live collector console)
target="${1:-all}"
[[ $# -gt 0 ]] && shift
case "$target" in
  all) targets=("${implemented[@]}") ;;
  agent) targets=(agent) ;;
  agent-live) targets=(agent-live) ;;
  collector) targets=(collector) ;;
  console) targets=(console) ;;
  -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench: unknown benchmark '$target' (one of: agent, agent-live, collector, console)" >&2; exit 2 ;;
esac
if [[ "$target" == all && $# -gt 0 ]]; then fail "options go after a benchmark name: scripts/bench.sh agent $*"; fi

if [[ "${NTA_BENCH_SKIP_SETUP:-}" == 1 ]]; then
  step "skipping setup (NTA_BENCH_SKIP_SETUP=1)"
else
  bash scripts/setup.sh --test
fi

for t in "${targets[@]}"; do
  step "benchmark: $t"
  case "$t" in
    agent) node bench/agent/run.mjs "$@" ;;
    agent-live)
      if [[ $(id -u) -ne 0 ]]; then echo "bench agent-live: needs root (live capture)" >&2; continue; fi
      node bench/agent/live.mjs "$@" ;;
    collector) node --expose-gc --import tsx --conditions=@nta/source bench/collector/run.ts "$@" ;;
    console) node --import tsx --conditions=@nta/source bench/console/run.ts "$@" ;;
  esac
done
