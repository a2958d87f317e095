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

/// A value of the pickle stream. Containers are shared, as pickle's memo shares them.
struct PyValue;
using PyRef = std::shared_ptr<PyValue>;
struct PyValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal, kTensor, kOther };
  Kind kind = Kind::kNone;
  int64_t integer = 0;
  double real = 0;
  std::string text;                            ///< string or bytes; kGlobal: "module.name"
  std::vector<PyRef> items;                    ///< tuple, list
  std::vector<std::pair<PyRef, PyRef>> entries;  ///< dict, in insertion order
  torch::Tensor tensor;                        ///< tensor; a storage is a 1-D tensor too
};

PyRef make(PyValue::Kind kind) {
  auto value = std::make_shared<PyValue>();
  value->kind = kind;
  return value;
}

/// The storage classes torch.save names, as their dtypes.
const std::map<std::string, torch::Dtype>& storage_dtypes() {
  static const std::map<std::string, torch::Dtype> dtypes = {
      {"torch.FloatStorage", torch::kFloat32}, {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},  {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kInt64},    {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},   {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},    {"torch.BoolStorage", torch::kBool}};
  return dtypes;
}

/// The subset of pickle that torch.save produces (protocol 2 by default, up to 5 when asked):
/// https://github.com/python/cpython/blob/main/Lib/pickletools.py documents every opcode.
class Unpickler {
 public:
  Unpickler(const std::string& path, zip_t* archive, std::string prefix, std::vector<uint8_t> data)
      : path_(path), archive_(archive), prefix_(std::move(prefix)), data_(std::move(data)) {}

  PyRef run() {
    while (true) {
      const uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;                          // PROTO
        case 0x95: take(8); break;                         // FRAME: a length hint
        case '.': return pop();                            // STOP
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case 'N': stack_.push_back(make(PyValue::Kind::kNone)); break;
        case 0x88: case 0x89: {                            // NEWTRUE, NEWFALSE
          PyRef value = make(PyValue::Kind::kBool);
          value->integer = op == 0x88;
          stack_.push_back(value);
          break;
        }
        case 'J': push_int(signed_le(4)); break;           // BININT
        case 'K': push_int(unsigned_le(1)); break;         // BININT1
        case 'M': push_int(unsigned_le(2)); break;         // BININT2
        case 0x8a: push_int(signed_le(unsigned_le(1))); break;  // LONG1
        case 'G': {                                        // BINFLOAT, big-endian
          uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | byte();
          PyRef value = make(PyValue::Kind::kFloat);
          std::memcpy(&value->real, &bits, sizeof(bits));
          stack_.push_back(value);
          break;
        }
        case 'X': case 'B': case 'T': push_text(unsigned_le(4)); break;  // BIN{UNICODE,BYTES,STRING}
        case 0x8c: case 'C': case 'U': push_text(unsigned_le(1)); break; // SHORT_BIN*
        case 0x8d: case 0x8e: push_text(unsigned_le(8)); break;          // BINUNICODE8, BINBYTES8
        case ')': stack_.push_back(make(PyValue::Kind::kTuple)); break;  // EMPTY_TUPLE
        case 0x85: case 0x86: case 0x87: tuple_of(op - 0x84); break;     // TUPLE1..3
        case 't': tuple_of(stack_.size() - pop_mark()); break;          // TUPLE
        case ']': stack_.push_back(make(PyValue::Kind::kList)); break;  // EMPTY_LIST
        case 0x8f: stack_.push_back(make(PyValue::Kind::kList)); break; // EMPTY_SET, as a list
        case 'l': {                                                      // LIST
          PyRef list = make(PyValue::Kind::kList);
          list->items = pop_to_mark();
          stack_.push_back(list);
          break;
        }
        case 'a': {                                                      // APPEND
          PyRef item = pop();
          top()->items.push_back(item);
          break;
        }
        case 'e': case 0x90: {                                           // APPENDS, ADDITEMS
          std::vector<PyRef> items = pop_to_mark();
          top()->items.insert(top()->items.end(), items.begin(), items.end());
          break;
        }
        case '}': stack_.push_back(make(PyValue::Kind::kDict)); break;  // EMPTY_DICT
        case 'd': {                                                      // DICT
          PyRef dict = make(PyValue::Kind::kDict);
          set_items(*dict, pop_to_mark());
          stack_.push_back(dict);
          break;
        }
        case 's': {                                                      // SETITEM
          PyRef value = pop(), key = pop();
          set_items(*top(), {key, value});
          break;
        }
        case 'u': {                                                      // SETITEMS
          std::vector<PyRef> items = pop_to_mark();
          set_items(*top(), items);
          break;
        }
        case '0': pop(); break;                                          // POP
        case '1': pop_to_mark(); break;                                  // POP_MARK
        case '2': stack_.push_back(top()); break;                        // DUP
        case 'q': memo_[unsigned_le(1)] = top(); break;                  // BINPUT
        case 'r': memo_[unsigned_le(4)] = top(); break;                  // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;                   // MEMOIZE
        case 'h': stack_.push_back(memo(unsigned_le(1))); break;         // BINGET
        case 'j': stack_.push_back(memo(unsigned_le(4))); break;         // LONG_BINGET
        case 'c': {                                                      // GLOBAL
          const std::string module = line();
          push_global(module, line());
          break;
        }
        case 0x93: {                                                     // STACK_GLOBAL
          PyRef name = pop(), module = pop();
          push_global(module->text, name->text);
          break;
        }
        case 'R': {                                                      // REDUCE
          PyRef arguments = pop(), callable = pop();
          stack_.push_back(call(*callable, arguments->items));
          break;
        }
        case 0x81: {                                                     // NEWOBJ
          pop();
          pop();
          stack_.push_back(make(PyValue::Kind::kOther));
          break;
        }
        case 0x92: {                                                     // NEWOBJ_EX
          pop();
          pop();
          pop();
          stack_.push_back(make(PyValue::Kind::kOther));
          break;
        }
        case 'b': pop(); break;  // BUILD: object state (a state dict's _metadata); not needed
        case 'Q': {                                                      // BINPERSID
          PyRef id = pop();
          stack_.push_back(storage(*id));
          break;
        }
        default:
          fail(fmt::format("unsupported pickle opcode 0x{:02x}", op));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    PTQAT_FAIL(DataError, "{}: {} at byte {} of its data.pkl (expected what torch.save writes)",
               path_, what, at_ == 0 ? 0 : at_ - 1);
  }
  uint8_t byte() {
    if (at_ >= data_.size()) fail("the pickle ends early");
    return data_[at_++];
  }
  const uint8_t* take(uint64_t n) {
    if (n > data_.size() - at_) fail("the pickle ends early");
    const uint8_t* start = data_.data() + at_;
    at_ += n;
    return start;
  }
  uint64_t unsigned_le(uint64_t n) {
    const uint8_t* bytes = take(n);
    uint64_t value = 0;
    for (uint64_t i = n; i-- > 0;) value = (value << 8) | bytes[i];
    return value;
  }
  int64_t signed_le(uint64_t n) {
    if (n > 8) fail("an integer wider than 64 bits");
    if (n == 0) return 0;
    const uint64_t value = unsigned_le(n);
    const uint64_t sign = uint64_t{1} << (8 * n - 1);
    return n == 8 ? static_cast<int64_t>(value) : static_cast<int64_t>((value ^ sign)) - static_cast<int64_t>(sign);
  }
  std::string line() {
    std::string text;
    for (uint8_t c = byte(); c != '\n'; c = byte()) text.push_back(static_cast<char>(c));
    return text;
  }
  void push_int(int64_t value) {
    PyRef ref = make(PyValue::Kind::kInt);
    ref->integer = value;
    stack_.push_back(ref);
  }
  void push_text(uint64_t length) {
    PyRef ref = make(PyValue::Kind::kString);
    const uint8_t* bytes = take(length);
    ref->text.assign(reinterpret_cast<const char*>(bytes), length);
    stack_.push_back(ref);
  }
  void push_global(const std::string& module, const std::string& name) {
    PyRef ref = make(PyValue::Kind::kGlobal);
    ref->text = module + "." + name;
    stack_.push_back(ref);
  }
  PyRef pop() {
    if (stack_.empty()) fail("pop from an empty stack");
    PyRef value = stack_.back();
    stack_.pop_back();
    return value;
  }
  PyRef top() {
    if (stack_.empty()) fail("an empty stack");
    return stack_.back();
  }
  size_t pop_mark() {
    if (marks_.empty()) fail("no mark");
    const size_t mark = marks_.back();
    marks_.pop_back();
    return mark;
  }
  std::vector<PyRef> pop_to_mark() {
    const size_t mark = pop_mark();
    if (mark > stack_.size()) fail("a mark past the stack");
    std::vector<PyRef> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  void tuple_of(size_t n) {
    if (n > stack_.size()) fail("a tuple longer than the stack");
    PyRef tuple = make(PyValue::Kind::kTuple);
    tuple->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    stack_.push_back(tuple);
  }
  void set_items(PyValue& dict, const std::vector<PyRef>& items) {
    if (items.size() % 2 != 0) fail("an odd number of dict items");
    if (dict.kind != PyValue::Kind::kDict) return;  // an object's items we do not model
    for (size_t i = 0; i < items.size(); i += 2) dict.entries.emplace_back(items[i], items[i + 1]);
  }
  PyRef memo(uint64_t index) {
    const auto found = memo_.find(index);
    if (found == memo_.end()) fail(fmt::format("memo entry {} is not set", index));
    return found->second;
  }

  /// The callables a state dict needs; anything else becomes an opaque object.
  PyRef call(const PyValue& callable, const std::vector<PyRef>& arguments) {
    const std::string& name = callable.text;
    if (callable.kind != PyValue::Kind::kGlobal) return make(PyValue::Kind::kOther);
    if (name == "collections.OrderedDict") return make(PyValue::Kind::kDict);
    if (name == "torch.jit._pickle.restore_type_tag" && !arguments.empty()) return arguments[0];
    if (name == "torch._utils._rebuild_parameter" && !arguments.empty()) return arguments[0];
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (arguments.size() < 4 || arguments[0]->kind != PyValue::Kind::kTensor) {
        fail("a malformed _rebuild_tensor_v2 call");
      }
      std::vector<int64_t> size, stride;
      for (const PyRef& v : arguments[2]->items) size.push_back(v->integer);
      for (const PyRef& v : arguments[3]->items) stride.push_back(v->integer);
      if (size.size() != stride.size()) fail("a tensor whose size and stride differ in length");
      const torch::Tensor& storage = arguments[0]->tensor;
      // The largest element the view touches must lie inside the storage.
      int64_t last = arguments[1]->integer;
      bool empty = false;
      for (size_t d = 0; d < size.size(); ++d) {
        if (size[d] == 0) empty = true;
        last += (size[d] - 1) * stride[d];
      }
      if (!empty && (arguments[1]->integer < 0 || last >= storage.numel())) {
        fail(fmt::format("a tensor of size {} past its storage of {} elements",
                         fmt::join(size, "x"), storage.numel()));
      }
      PyRef tensor = make(PyValue::Kind::kTensor);
      tensor->tensor = empty ? torch::empty(size, storage.options())
                             : storage.as_strided(size, stride, arguments[1]->integer).clone();
      return tensor;
    }
    return make(PyValue::Kind::kOther);
  }

  /// persistent_load(('storage', torch.<Type>Storage, key, location, numel)): the raw bytes of
  /// <prefix>data/<key>, little-endian, as a 1-D tensor. Storages shared by tensors load once.
  PyRef storage(const PyValue& id) {
    if (id.kind != PyValue::Kind::kTuple || id.items.size() < 5 || id.items[0]->text != "storage") {
      fail("a persistent id other than a storage");
    }
    const auto dtype = storage_dtypes().find(id.items[1]->text);
    if (dtype == storage_dtypes().end()) fail(fmt::format("storage type {}", id.items[1]->text));
    const std::string& key = id.items[2]->text;
    const auto cached = storages_.find(key);
    if (cached != storages_.end()) return cached->second;
    const std::string member = prefix_ + "data/" + key;
    const zip_int64_t index = zip_name_locate(archive_, member.c_str(), 0);
    if (index < 0) fail(fmt::format("no member {} for a storage", member));
    zip_stat_t stat;
    zip_stat_init(&stat);
    PTQAT_CHECK(zip_stat_index(archive_, static_cast<zip_uint64_t>(index), 0, &stat) == 0, DataError,
                "{}: zip_stat_index({}) failed: {}", path_, member, zip_strerror(archive_));
    const std::vector<uint8_t> bytes =
        core::read_zip_member(archive_, static_cast<zip_uint64_t>(index), stat, path_ + ":" + member);
    const int64_t numel = id.items[4]->integer;
    const int64_t element = static_cast<int64_t>(torch::elementSize(dtype->second));
    if (numel < 0 || static_cast<uint64_t>(numel * element) != bytes.size()) {
      fail(fmt::format("storage {} of {} bytes for {} elements of {}", member, bytes.size(), numel,
                       id.items[1]->text));
    }
    PyRef ref = make(PyValue::Kind::kTensor);
    ref->tensor = torch::empty({numel}, dtype->second);
    std::memcpy(ref->tensor.data_ptr(), bytes.data(), bytes.size());  // x86 / ARM: little-endian
    storages_[key] = ref;
    return ref;
  }

  const std::string& path_;
  zip_t* archive_;
  std::string prefix_;
  std::vector<uint8_t> data_;
  size_t at_ = 0;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PyRef> memo_;
  std::map<std::string, PyRef> storages_;
};

/// A dict whose values are all tensors, as a state dict; null when `value` is none.
bool is_state_dict(const PyValue& value) {
  if (value.kind != PyValue::Kind::kDict || value.entries.empty()) return false;
  for (const auto& [key, item] : value.entries) {
    if (key->kind != PyValue::Kind::kString || item->kind != PyValue::Kind::kTensor) return false;
  }
  return true;
}

}  // namespace

StateDict read_torch_state_dict(const std::string& path) {
  const core::ZipArchive archive =
      core::open_zip(path, "PyTorch checkpoint", "a PyTorch checkpoint (torch.save's zip format, PyTorch >= 1.6)");
  // torch.save names the records <archive name>/...; the name varies with the file name.
  const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
  std::string prefix;
  zip_int64_t pickle_index = -1;
  for (zip_int64_t i = 0; i < entries; ++i) {
    const std::string name = zip_get_name(archive.get(), static_cast<zip_uint64_t>(i), 0);
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash + 1) == "data.pkl") {
      prefix = name.substr(0, slash + 1);
      pickle_index = i;
    }
  }
  PTQAT_CHECK(pickle_index >= 0, DataError,
              "{}: expected a PyTorch checkpoint with an <archive>/data.pkl record, got a zip "
              "archive without one",
              path);
  zip_stat_t stat;
  zip_stat_init(&stat);
  PTQAT_CHECK(zip_stat_index(archive.get(), static_cast<zip_uint64_t>(pickle_index), 0, &stat) == 0,
              DataError, "{}: zip_stat_index failed: {}", path, zip_strerror(archive.get()));
  std::vector<uint8_t> data = core::read_zip_member(
      archive.get(), static_cast<zip_uint64_t>(pickle_index), stat, path + ":" + prefix + "data.pkl");
  const PyRef root = Unpickler(path, archive.get(), prefix, std::move(data)).run();

  const PyValue* dict = root.get();
  if (!is_state_dict(*dict) && dict->kind == PyValue::Kind::kDict) {
    for (const auto& [key, value] : dict->entries) {
      if ((key->text == "state_dict" || key->text == "model") && is_state_dict(*value)) {
        dict = value.get();
      }
    }
  }
  PTQAT_CHECK(is_state_dict(*dict), DataError,
              "{}: expected a state dict (a dict of tensors, at the top or under \"state_dict\" "
              "or \"model\"), found none",
              path);
  StateDict state;
  for (const auto& [key, value] : dict->entries) state.emplace_back(key->text, value->tensor);
  return state;
}

}  // namespace ptqat::core
