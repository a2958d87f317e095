#include "core/preemption.h"

#include <torch/torch.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <map>
#include <vector>

namespace ptqat::core {
namespace {

// Lock-free, so the handler may set it (async-signal-safe).
std::atomic<int> requested{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_preemption_signal(int /*signal*/) { requested.store(1); }

}  // namespace

void install_preemption_signals(const std::string& names) {
  if (names == "none") return;
  static const std::map<std::string, int> signals = {
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"INT", SIGINT}, {"HUP", SIGHUP}};
  std::vector<int> chosen;
  for (size_t begin = 0; begin <= names.size();) {
    const size_t end = std::min(names.find(',', begin), names.size());
    const std::string name = names.substr(begin, end - begin);
    const std::string bare = name.rfind("SIG", 0) == 0 ? name.substr(3) : name;
    const auto found = signals.find(bare);
    PTQAT_CHECK(found != signals.end(), ConfigError,
                "--preempt-signal '{}': expected USR1, USR2, TERM, INT or HUP, comma-separated, "
                "or none; got '{}'",
                names, name);
    chosen.push_back(found->second);
    begin = end + 1;
  }
  struct sigaction action {};
  action.sa_handler = on_preemption_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes in flight carry on
  for (const int signal : chosen) {
    PTQAT_CHECK(sigaction(signal, &action, nullptr) == 0, Error, "cannot install the handler of {}",
                strsignal(signal));
  }
}

bool preemption_requested() { return requested.load() != 0; }

void request_preemption() { requested.store(1); }

bool preemption_agreed(Collective& group) {
  if (group.world_size() == 1) return preemption_requested();
  const torch::Tensor flag = torch::tensor({preemption_requested() ? 1 : 0}, torch::kInt32);
  group.all_reduce_max(flag);
  return flag.item<int>() != 0;
}

}  // namespace ptqat::core
