#!/usr/bin/env bash
# A real single-node Slurm cluster runs a sweep that `ptqat slurm --submit` wrote and submitted:
# munged, slurmctld and slurmd from Debian's packages, started by hand on localhost (no systemd)
# and configured here, in a temporary folder, on ports of their own, with CPU binding on
# (task/cgroup with task/affinity where the machine's cgroups allow it, else task/affinity). The
# job's two ranks start through `srun --mpi=pmix`; the test checks the job completed and the
# results file holds the sweep's 9 stages. A second job gives its ranks several CPUs each, checks
# they got them, and is preempted with TERM as Slurm preempts: it checkpoints, requeues and
# resumes.
#
# Usage: slurm_cluster_test.sh PTQAT SOURCE_DIR. Exit 77 (ctest: skipped) without root or the
# Slurm packages (scripts/install_deps.sh installs them).
set -euo pipefail
ptqat=$1
source_dir=$2

for tool in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sbatch; do
  if [[ ! -x $tool ]]; then echo "skipped: $tool is not installed"; exit 77; fi
done
if [[ $(id -u) -ne 0 ]]; then echo "skipped: slurmd needs root"; exit 77; fi

work=$(mktemp -d /tmp/ptqat-slurm.XXXXXX)
stop_daemons() {
  for pid_file in "$work"/slurmd.pid "$work"/slurmctld.pid "$work"/munged.pid; do
    if [[ -f $pid_file ]]; then kill "$(cat "$pid_file")" 2>/dev/null || true; fi
  done
  sleep 1
  rm -rf "$work"
}
trap stop_daemons EXIT
fail() {
  echo "FAILED: $*"
  for log in "$work"/log/* "$work"/slurm/*.out; do
    if [[ -f $log ]]; then echo "--- $log"; tail -n 30 "$log"; fi
  done
  exit 1
}

mkdir -p "$work"/{state,spool,log}
head -c 1024 /dev/urandom > "$work/munge.key"
chmod 600 "$work/munge.key"
/usr/sbin/munged --force --socket="$work/munge.sock" --key-file="$work/munge.key" \
  --pid-file="$work/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge.seed"

port=$((20000 + RANDOM % 20000))
host=$(hostname)
write_conf() {  # write_conf TASK_PLUGINS
  cat > "$work/slurm.conf" <<CONF
ClusterName=ptqattest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=$1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  cat > "$work/cgroup.conf" <<CONF
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=yes
CONF
}
export SLURM_CONF=$work/slurm.conf
node_up() {
  for _ in $(seq 30); do
    if sinfo -h -o %t 2>/dev/null | grep -q idle; then return 0; fi
    sleep 1
  done
  return 1
}
start_daemons() {  # start_daemons TASK_PLUGINS
  write_conf "$1"
  /usr/sbin/slurmctld -f "$SLURM_CONF" -i
  /usr/sbin/slurmd -f "$SLURM_CONF"
}
stop_slurm() {
  for pid_file in "$work"/slurmd.pid "$work"/slurmctld.pid; do
    if [[ -f $pid_file ]]; then kill "$(cat "$pid_file")" 2>/dev/null || true; fi
  done
  sleep 2
  rm -rf "$work"/state/* "$work"/spool/*
}
task_plugins=task/cgroup,task/affinity
start_daemons "$task_plugins"
if ! node_up; then
  echo "task/cgroup did not start here (see slurmd.log); binding with task/affinity alone"
  stop_slurm
  task_plugins=task/affinity
  start_daemons "$task_plugins"
  node_up || fail "the node did not come up"
fi
echo "CPU binding: TaskPlugin=$task_plugins"

"$ptqat" data synth --preset tiny --out "$work/data" > /dev/null
cd "$work"
"$ptqat" slurm "$source_dir/configs/sweeps/tiny.toml" --nodes 1 --ranks-per-node 2 \
  --cpus-per-rank 1 --time 10:00 --set "data.dataroot=$work/data" --set "output.dir=$work/run" \
  --submit | tee submit.txt
job=$(awk '/Submitted batch job/ { print $4 }' submit.txt)
[[ -n $job ]] || fail "no job id from sbatch"
grep -q 'srun --mpi=pmix' slurm/tiny.sbatch || fail "the script does not launch with srun"

for _ in $(seq 300); do
  state=$(scontrol show job "$job" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
  case $state in
    COMPLETED) break ;;
    FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) fail "job $job ended $state" ;;
  esac
  sleep 1
done
[[ $state == COMPLETED ]] || fail "job $job still $state after 300 s"

grep -q 'ran 9 stages' slurm/ptqat-tiny-"$job".out || fail "the job log lacks the sweep summary"
if grep -q 'threads share cores' slurm/ptqat-tiny-"$job".out; then
  fail "a rank runs more threads than it has CPUs"
fi
stages=$("$ptqat" results ls "$work/run/results.h5" | tail -n +2 | wc -l)
[[ $stages -eq 9 ]] || fail "results.h5 holds $stages stages, expected 9"
# Both ranks took part: two groups of one rank shared the stages.
grep -q '(group 1' slurm/ptqat-tiny-"$job".out || fail "group 1 ran nothing"
echo "job $job ran the tiny sweep on 2 ranks under Slurm"

# CPUs and preemption: ranks of several CPUs each run a longer float stage; every rank must get
# its CPUs (rank 0 logs them; any rank with fewer CPUs than threads warns).
# Once the stage has a resume point, TERM goes to the job's steps, the ranks, as Slurm's
# preemption sends it (`scancel --signal=TERM JOB`; with --full, srun would get it too and abort
# the step at once); the rank checkpoints and exits 75, the script requeues the job, and the
# requeued run resumes the stage and completes the sweep.
wait_for_state() {  # wait_for_state JOB STATE SECONDS
  for _ in $(seq "$3"); do
    state=$(scontrol show job "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
    [[ $state == "$2" ]] && return 0
    case $state in FAILED | CANCELLED | TIMEOUT | NODE_FAIL) fail "job $1 ended $state" ;; esac
    sleep 1
  done
  fail "job $1 is $state, not $2, after $3 s"
}
# Two ranks of several CPUs each are what srun without --cpus-per-task binds to one core each; a
# node of fewer than 4 cores can only give one rank all of them.
ranks=1
cpus=$(nproc)
if [[ $cpus -ge 4 ]]; then ranks=2 cpus=$((cpus / 2)); fi
"$ptqat" slurm "$source_dir/configs/sweeps/tiny.toml" --nodes 1 --ranks-per-node "$ranks" \
  --cpus-per-rank "$cpus" --time 10:00 --script slurm/long.sbatch --set "data.dataroot=$work/data" \
  --set "output.dir=$work/run2" --set train.epochs=40 --submit | tee submit2.txt
job=$(awk '/Submitted batch job/ { print $4 }' submit2.txt)
for _ in $(seq 120); do
  compgen -G "$work/run2/checkpoints/*.last.pt" > /dev/null && break
  sleep 0.5
done
compgen -G "$work/run2/checkpoints/*.last.pt" > /dev/null || fail "the float stage never checkpointed"
scancel --signal=TERM "$job"
wait_for_state "$job" COMPLETED 300
log=slurm/ptqat-tiny-"$job".out
grep -q "$cpus intra-op thread(s) on $cpus usable CPU(s)" "$log" ||
  fail "rank 0 did not get its $cpus CPUs"
if grep -q 'threads share cores' "$log"; then fail "a rank runs more threads than it has CPUs"; fi
grep -q 'requeueing job' "$log" || fail "the job was not requeued after TERM"
grep -q 'train: resuming' "$work"/run2/logs/*.log || fail "the float stage did not resume"
stages=$("$ptqat" results ls "$work/run2/results.h5" | tail -n +2 | wc -l)
[[ $stages -eq 9 ]] || fail "the requeued sweep holds $stages stages, expected 9"
echo "PASSED: the tiny sweep ran under Slurm with CPU binding ($task_plugins), $ranks rank(s) had" \
  "$cpus CPUs each, and a job preempted with TERM checkpointed, requeued and resumed"
