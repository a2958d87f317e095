#include "core/torch_pickle.h"

#include <fmt/format.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>

#include "core/durable_file.h"
#include "core/error.h"
#include "core/zip_archive.h"

namespace ptqat::core {

namespace {

/// The storage class torch.save names for a dtype (torch/storage.py's legacy classes).
const char* storage_class(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "FloatStorage";
    case at::kDouble: return "DoubleStorage";
    case at::kHalf: return "HalfStorage";
    case at::kBFloat16: return "BFloat16Storage";
    case at::kLong: return "LongStorage";
    case at::kInt: return "IntStorage";
    case at::kShort: return "ShortStorage";
    case at::kChar: return "CharStorage";
    case at::kByte: return "ByteStorage";
    case at::kBool: return "BoolStorage";
    default:
      PTQAT_FAIL(InternalError, "write_torch_state_dict: no torch.save storage for dtype {}",
                 c10::toString(dtype));
  }
}

/// The data.pkl of torch.save(OrderedDict of tensors), protocol 2, tensor i's storage key "i":
/// only globals torch.load(weights_only=True) allows. Hand-written because LibTorch's pickler
/// (torch::pickle_save) tags every dict with torch.jit._pickle.restore_type_tag, which
/// weights_only refuses.
class StateDictPickler {
 public:
  std::string pickle(const StateDict& state) {
    out_ = "\x80\x02";  // PROTO 2
    global("collections", "OrderedDict");
    out_ += ")R(";  // EMPTY_TUPLE REDUCE MARK
    for (size_t i = 0; i < state.size(); ++i) {
      unicode(state[i].first);
      tensor(state[i].second, std::to_string(i));
    }
    out_ += "u.";  // SETITEMS STOP
    return out_;
  }

 private:
  void global(const char* module, const char* name) { out_ += fmt::format("c{}\n{}\n", module, name); }
  void unicode(const std::string& text) {
    out_ += 'X';  // BINUNICODE
    little_endian(static_cast<uint32_t>(text.size()));
    out_ += text;
  }
  void integer(int64_t value) {
    if (value >= INT32_MIN && value <= INT32_MAX) {
      out_ += 'J';  // BININT
      little_endian(static_cast<uint32_t>(static_cast<int32_t>(value)));
    } else {
      out_ += "\x8a\x08";  // LONG1, 8 bytes
      little_endian(static_cast<uint64_t>(value));
    }
  }
  void int_tuple(at::IntArrayRef values) {
    out_ += '(';
    for (int64_t v : values) integer(v);
    out_ += 't';
  }
  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks), the
  // storage a persistent id ("storage", torch.<Type>Storage, key, "cpu", numel).
  void tensor(const at::Tensor& t, const std::string& key) {
    global("torch._utils", "_rebuild_tensor_v2");
    out_ += "((";
    unicode("storage");
    global("torch", storage_class(t.scalar_type()));
    unicode(key);
    unicode("cpu");
    integer(t.numel());
    out_ += "tQ";  // TUPLE BINPERSID
    integer(0);
    int_tuple(t.sizes());
    int_tuple(t.strides());
    out_ += '\x89';  // NEWFALSE: requires_grad
    global("collections", "OrderedDict");
    out_ += ")Rt";  // empty backward hooks; TUPLE of the arguments
    out_ += 'R';    // REDUCE
  }
  template <class T>
  void little_endian(T value) {
    for (size_t i = 0; i < sizeof(T); ++i) out_ += static_cast<char>((value >> (8 * i)) & 0xff);
  }
  std::string out_;
};

}  // namespace

void write_torch_state_dict(const std::string& path, const StateDict& state) {
  StateDict on_cpu;
  for (const auto& [name, tensor] : state) on_cpu.emplace_back(name, tensor.detach().cpu().contiguous());
  std::string bytes;
  // The zip container as torch.save writes it (records under archive/, 64-byte aligned data).
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  const std::string pickle = StateDictPickler().pickle(on_cpu);
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  writer.writeRecord("byteorder", "little", 6);
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    const at::Tensor& t = on_cpu[i].second;
    writer.writeRecord("data/" + std::to_string(i), t.data_ptr(), t.nbytes());
  }
  writer.writeEndOfFile();
  core::write_file_durably(path, bytes);
}

}  // namespace ptqat::core
