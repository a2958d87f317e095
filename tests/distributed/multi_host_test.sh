#!/usr/bin/env bash
# Across nodes, for real: two network namespaces act as two hosts (a veth pair, an address and a
# hostname each), and Open MPI launches into them with an rsh agent that enters a host's
# namespace, from a hostfile with one slot per host. Then:
#   - a data-parallel `ptqat train` with one rank per host matches the single-host run;
#   - the tiny sweep with 1-rank groups spread over both hosts matches a single-host sweep;
#   - a rank sees itself alone on its node (node-local rank 0 of 1: the thread count of
#     `runtime.threads = 0` is the whole node's, where two ranks on one host share it).
# Exits 77 (ctest: skipped), saying why, where the machine refuses namespaces.
# Usage: multi_host_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
ptqat=$(cd "$1" && pwd)/runner/ptqat
source_dir=$(cd "$2" && pwd)
skip() {
  echo "SKIP: $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "network namespaces need root (ip netns)"
command -v ip >/dev/null || skip "no ip command (iproute2)"
command -v unshare >/dev/null || skip "no unshare command (util-linux)"

id=$$
host_a=ptqat-a-$id host_b=ptqat-b-$id
subnet=10.$((id % 200 + 20)).$((id / 200 % 250)).0
address_a=${subnet%.0}.1 address_b=${subnet%.0}.2
work=$(mktemp -d)
cleanup() {
  ip netns del "$host_a" 2>/dev/null || true
  ip netns del "$host_b" 2>/dev/null || true
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$host_a" 2>"$work/netns.err" || skip "the machine refuses network namespaces: $(cat "$work/netns.err")"
ip netns add "$host_b"
ip link add "pqa$id" type veth peer name "pqb$id" 2>"$work/veth.err" ||
  skip "the machine refuses a veth pair: $(cat "$work/veth.err")"
ip link set "pqa$id" netns "$host_a"
ip link set "pqb$id" netns "$host_b"
ip -n "$host_a" addr add "$address_a/24" dev "pqa$id"
ip -n "$host_b" addr add "$address_b/24" dev "pqb$id"
for host in "$host_a" "$host_b"; do
  ip -n "$host" link set lo up
done
ip -n "$host_a" link set "pqa$id" up
ip -n "$host_b" link set "pqb$id" up

# mpirun's rsh agent: "agent HOST COMMAND..." runs COMMAND in HOST's namespace, under a hostname
# of its own (Open MPI tells nodes apart by hostname).
cat >"$work/agent.sh" <<EOF
#!/usr/bin/env bash
host=\$1
shift
case \$host in
  $address_a) namespace=$host_a name=node-a ;;
  $address_b) namespace=$host_b name=node-b ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$namespace" unshare --uts bash -c "hostname \$name; \$*"
EOF
chmod +x "$work/agent.sh"
printf '%s slots=1\n%s slots=1\n' "$address_a" "$address_b" >"$work/hostfile"

cd "$work"
"$ptqat" data synth --preset tiny --out data >/dev/null
common=(--set data.dataroot=data --set runtime.threads=1)

# mpirun itself runs on "node-a"; the rsh agent starts node-b's daemon in the other namespace.
on_two_hosts() {
  ip netns exec "$host_a" unshare --uts bash -c 'hostname node-a; exec "$@"' mpirun \
    mpirun --allow-run-as-root --bind-to none --hostfile "$work/hostfile" --map-by node -np 2 \
    --mca plm_rsh_agent "$work/agent.sh" --mca btl tcp,self \
    --mca btl_tcp_if_include "$subnet/24" --mca oob_tcp_if_include "$subnet/24" "$@"
}
on_one_host() { mpirun --allow-run-as-root --bind-to none -np 2 "$@"; }

metrics() {  # the float_train and fine_tune metrics of a results file, one line per stage
  "$ptqat" results ls "$1" --json | python3 -c '
import json, sys
for line in sys.stdin:
    run = json.loads(line)
    print(run["stage"], run["key"], " ".join(f"{k}={v:.12g}" for k, v in sorted(run["metrics"].items())))
' | sort
}

# 1. Data-parallel training, one rank per host, against the same on one host.
on_two_hosts "$ptqat" train "$source_dir/configs/detection/tiny.toml" "${common[@]}" \
  --set output.dir=two >two-train.log 2>&1 || { cat two-train.log; exit 1; }
on_one_host "$ptqat" train "$source_dir/configs/detection/tiny.toml" "${common[@]}" \
  --set output.dir=one >one-train.log 2>&1 || { cat one-train.log; exit 1; }
diff <(metrics one/results.h5) <(metrics two/results.h5) ||
  { echo "FAIL: training on two hosts differs from one host"; exit 1; }

# 2. The tiny sweep, 1-rank groups: group 0 on node-a, group 1 on node-b.
on_two_hosts "$ptqat" sweep "$source_dir/configs/sweeps/tiny.toml" "${common[@]}" \
  --set output.dir=sweep-two >two-sweep.log 2>&1 || { cat two-sweep.log; exit 1; }
grep -q "(group 1)" two-sweep.log || { cat two-sweep.log; echo "FAIL: group 1 ran nothing"; exit 1; }
on_one_host "$ptqat" sweep "$source_dir/configs/sweeps/tiny.toml" "${common[@]}" \
  --set output.dir=sweep-one >one-sweep.log 2>&1 || { cat one-sweep.log; exit 1; }
diff <(metrics sweep-one/results.h5) <(metrics sweep-two/results.h5) ||
  { echo "FAIL: the sweep over two hosts differs from one host"; exit 1; }

# 3. Node-local ranks: alone on its node, a rank takes every CPU for runtime.threads = 0, where
# two ranks on one host share them (rank 0 logs its count).
cpus=$(nproc)
checkpoint=$(ls two/checkpoints/*.pt | grep -v '\.last\.pt$' | head -n 1)
on_two_hosts "$ptqat" eval --checkpoint "$checkpoint" --set data.dataroot=data \
  --set runtime.threads=0 >two-eval.log 2>&1 || { cat two-eval.log; exit 1; }
grep -q "\[rank 0/2\] \[info\] $cpus intra-op thread(s) on $cpus usable CPU(s)" two-eval.log ||
  { cat two-eval.log; echo "FAIL: rank 0 is not alone on its node"; exit 1; }
echo "two hosts: training and sweep match one host; rank 0 alone on its node ($cpus threads)"
