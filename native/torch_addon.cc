// Native addon over libtorch (ATen). Deliberately small and generic:
//  - tensors live in a table keyed by integer id (created from typed arrays, read back, freed);
//  - ATen operators are called boxed through c10's dispatcher, by schema name and overload,
//    with JS arguments converted according to the operator's declared argument types.
// No model code and no knowledge of TensorFlow.js lives here.
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <ATen/record_function.h>
#include <c10/util/Exception.h>

#include <cstdlib>
#include <malloc.h>
#include <cstring>
#include <string>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

// dtype codes shared with src/backend/native.ts
enum DType : int32_t { kF32 = 0, kI32 = 1, kBool = 2, kI64 = 3, kF64 = 4, kU8 = 5 };

std::unordered_map<int64_t, at::Tensor> g_tensors;
int64_t g_next_id = 1;
std::vector<c10::OperatorHandle> g_ops;
c10::Device g_device(c10::kCPU);

at::ScalarType toScalarType(int32_t code) {
  switch (code) {
    case kF32: return at::kFloat;
    case kI32: return at::kInt;
    case kBool: return at::kBool;
    case kI64: return at::kLong;
    case kF64: return at::kDouble;
    case kU8: return at::kByte;
  }
  throw std::runtime_error("unknown dtype code " + std::to_string(code));
}

int32_t toCode(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return kF32;
    case at::kInt: return kI32;
    case at::kBool: return kBool;
    case at::kLong: return kI64;
    case at::kDouble: return kF64;
    case at::kByte: return kU8;
    default: break;
  }
  throw std::runtime_error(std::string("unsupported result dtype ") + c10::toString(t));
}

const at::Tensor& lookup(int64_t id) {
  auto it = g_tensors.find(id);
  if (it == g_tensors.end()) {
    throw std::runtime_error("tensor " + std::to_string(id) + " does not exist (already disposed?)");
  }
  return it->second;
}

int64_t store(at::Tensor t) {
  int64_t id = g_next_id++;
  g_tensors.emplace(id, std::move(t));
  return id;
}

// Runs fn, turning every C++ exception into a JS exception carrying ATen's message.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F fn) {
  Napi::Env env = info.Env();
  try {
    return fn(env);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

std::vector<int64_t> intList(const Napi::Value& v, const std::string& name) {
  if (v.IsNumber()) return {v.As<Napi::Number>().Int64Value()};
  if (!v.IsArray()) throw std::runtime_error("argument '" + name + "' must be an array of integers");
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& name);

c10::IValue toListIValue(const Napi::Value& v, const c10::ListTypePtr& lt, const std::string& name) {
  const auto& elem = lt->getElementType();
  switch (elem->kind()) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return c10::IValue(intList(v, name));
    case c10::TypeKind::FloatType: {
      auto a = v.As<Napi::Array>();
      std::vector<double> out(a.Length());
      for (uint32_t i = 0; i < a.Length(); ++i) out[i] = a.Get(i).As<Napi::Number>().DoubleValue();
      return c10::IValue(out);
    }
    case c10::TypeKind::BoolType: {
      auto a = v.As<Napi::Array>();
      c10::List<bool> out;
      for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i).ToBoolean().Value());
      return c10::IValue(out);
    }
    case c10::TypeKind::TensorType: {
      auto a = v.As<Napi::Array>();
      c10::List<at::Tensor> out;
      for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(lookup(a.Get(i).As<Napi::Number>().Int64Value()));
      return c10::IValue(out);
    }
    case c10::TypeKind::OptionalType: {
      auto a = v.As<Napi::Array>();
      c10::List<c10::optional<at::Tensor>> out;
      for (uint32_t i = 0; i < a.Length(); ++i) {
        auto e = a.Get(i);
        if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
        else out.push_back(lookup(e.As<Napi::Number>().Int64Value()));
      }
      return c10::IValue(out);
    }
    default:
      throw std::runtime_error("argument '" + name + "': unsupported list type " + lt->str());
  }
}

c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& name) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      if (!v.IsNumber()) throw std::runtime_error("argument '" + name + "' must be a tensor id");
      return c10::IValue(lookup(v.As<Napi::Number>().Int64Value()));
    case c10::TypeKind::OptionalType: {
      if (v.IsNull() || v.IsUndefined()) {
        auto elem = type->expectRef<c10::OptionalType>().getElementType();
        if (elem->kind() == c10::TypeKind::DeviceObjType && g_device != c10::Device(c10::kCPU)) {
          return c10::IValue(g_device);
        }
        return c10::IValue();
      }
      return toIValue(v, type->expectRef<c10::OptionalType>().getElementType(), name);
    }
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      if (v.IsBoolean()) return c10::IValue(static_cast<int64_t>(v.As<Napi::Boolean>().Value()));
      return c10::IValue(v.As<Napi::Number>().Int64Value());
    case c10::TypeKind::FloatType:
      return c10::IValue(v.As<Napi::Number>().DoubleValue());
    case c10::TypeKind::BoolType:
      return c10::IValue(v.ToBoolean().Value());
    case c10::TypeKind::NumberType: {  // Scalar
      if (v.IsBoolean()) return c10::IValue(at::Scalar(v.As<Napi::Boolean>().Value()));
      if (v.IsObject()) {  // {d: x}: a floating-point scalar even when x is integral
        return c10::IValue(at::Scalar(v.As<Napi::Object>().Get("d").As<Napi::Number>().DoubleValue()));
      }
      double d = v.As<Napi::Number>().DoubleValue();
      // Integral JS numbers become integer scalars so that int tensors stay int.
      if (std::isfinite(d) && d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9.0e15) {
        return c10::IValue(at::Scalar(static_cast<int64_t>(d)));
      }
      return c10::IValue(at::Scalar(d));
    }
    case c10::TypeKind::StringType:
      return c10::IValue(v.ToString().Utf8Value());
    case c10::TypeKind::DeviceObjType:
      if (v.IsString()) return c10::IValue(c10::Device(v.As<Napi::String>().Utf8Value()));
      return c10::IValue(g_device);
    case c10::TypeKind::ListType:
      return toListIValue(v, type->expect<c10::ListType>(), name);
    default:
      throw std::runtime_error("argument '" + name + "': unsupported type " + type->str());
  }
}

void pushTensor(std::vector<double>& out, const at::Tensor& t) {
  if (!t.defined()) {  // e.g. a gradient that output_mask did not ask for
    out.push_back(-3);
    return;
  }
  out.push_back(static_cast<double>(store(t)));
  out.push_back(toCode(t.scalar_type()));
  out.push_back(static_cast<double>(t.dim()));
  for (auto d : t.sizes()) out.push_back(static_cast<double>(d));
}

// ---- exported functions ----

Napi::Value OpHandle(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    std::string overload = info[1].As<Napi::String>().Utf8Value();
    auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!handle.has_value()) {
      throw std::runtime_error("ATen operator " + name + (overload.empty() ? "" : "." + overload) +
                               " not found in this libtorch");
    }
    g_ops.push_back(*handle);
    return Napi::Number::New(env, static_cast<double>(g_ops.size() - 1));
  });
}

Napi::Value Schema(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    size_t idx = info[0].As<Napi::Number>().Uint32Value();
    if (idx >= g_ops.size()) throw std::runtime_error("bad operator handle");
    std::ostringstream ss;
    ss << g_ops[idx].schema();
    return Napi::String::New(env, ss.str());
  });
}

// call(op, args[]) -> flat number array: per returned tensor [id, dtype, ndim, ...dims];
// a tensor list is [-2, count, ...tensors]; a number [-1, value]; None [-3].
Napi::Value Call(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    size_t idx = info[0].As<Napi::Number>().Uint32Value();
    if (idx >= g_ops.size()) throw std::runtime_error("bad operator handle");
    const auto& op = g_ops[idx];
    const auto& schema = op.schema();
    const auto& formals = schema.arguments();
    auto js = info[1].As<Napi::Array>();
    if (js.Length() > formals.size()) {
      throw std::runtime_error(schema.name() + ": too many arguments");
    }
    torch::jit::Stack stack;
    stack.reserve(formals.size());
    for (size_t i = 0; i < formals.size(); ++i) {
      Napi::Value v = i < js.Length() ? js.Get(static_cast<uint32_t>(i)) : env.Undefined();
      if (v.IsUndefined()) {
        if (formals[i].default_value().has_value()) {
          stack.push_back(*formals[i].default_value());
          continue;
        }
        if (formals[i].type()->kind() != c10::TypeKind::OptionalType) {
          throw std::runtime_error(schema.name() + ": missing argument '" + formals[i].name() + "'");
        }
      }
      stack.push_back(toIValue(v, formals[i].type(), formals[i].name()));
    }
    op.callBoxed(&stack);
    std::vector<double> out;
    out.reserve(8);
    for (auto& r : stack) {
      if (r.isTensor()) {
        pushTensor(out, r.toTensor());
      } else if (r.isTensorList()) {
        auto list = r.toTensorList();
        out.push_back(-2);
        out.push_back(static_cast<double>(list.size()));
        for (size_t i = 0; i < list.size(); ++i) pushTensor(out, list.get(i));
      } else if (r.isInt()) {
        out.push_back(-1);
        out.push_back(static_cast<double>(r.toInt()));
      } else if (r.isDouble()) {
        out.push_back(-1);
        out.push_back(r.toDouble());
      } else if (r.isBool()) {
        out.push_back(-1);
        out.push_back(r.toBool() ? 1 : 0);
      } else if (r.isNone()) {
        out.push_back(-3);
      } else {
        throw std::runtime_error(schema.name() + ": unsupported return type " + r.tagKind());
      }
    }
    auto arr = Napi::Array::New(env, out.size());
    for (size_t i = 0; i < out.size(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, out[i]));
    return arr;
  });
}

Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    auto ta = info[0].As<Napi::TypedArray>();
    auto shape = intList(info[1], "shape");
    auto dtype = toScalarType(info[2].As<Napi::Number>().Int32Value());
    auto t = at::empty(shape, at::TensorOptions().dtype(dtype));
    size_t bytes = t.numel() * t.element_size();
    if (ta.ByteLength() != bytes) {
      throw std::runtime_error("fromBuffer: buffer has " + std::to_string(ta.ByteLength()) + " bytes, shape needs " +
                               std::to_string(bytes));
    }
    if (bytes > 0) {
      auto ab = ta.ArrayBuffer();
      std::memcpy(t.data_ptr(), static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset(), bytes);
    }
    if (g_device != c10::Device(c10::kCPU)) t = t.to(g_device);
    return Napi::Number::New(env, static_cast<double>(store(t)));
  });
}

Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    at::Tensor t = lookup(info[0].As<Napi::Number>().Int64Value());
    if (t.device() != c10::Device(c10::kCPU)) t = t.to(c10::kCPU);
    t = t.contiguous();
    size_t n = t.numel();
    size_t bytes = n * t.element_size();
    auto ab = Napi::ArrayBuffer::New(env, bytes);
    if (bytes > 0) std::memcpy(ab.Data(), t.data_ptr(), bytes);
    switch (t.scalar_type()) {
      case at::kFloat: return Napi::Float32Array::New(env, n, ab, 0);
      case at::kInt: return Napi::Int32Array::New(env, n, ab, 0);
      case at::kBool:
      case at::kByte: return Napi::Uint8Array::New(env, n, ab, 0);
      case at::kDouble: return Napi::Float64Array::New(env, n, ab, 0);
      case at::kLong: return Napi::BigInt64Array::New(env, n, ab, 0);
      default: throw std::runtime_error("toBuffer: unsupported dtype");
    }
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    bool existed = g_tensors.erase(info[0].As<Napi::Number>().Int64Value()) > 0;
    return Napi::Boolean::New(env, existed);
  });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    const at::Tensor& t = lookup(info[0].As<Napi::Number>().Int64Value());
    auto arr = Napi::Array::New(env, t.dim() + 1);
    arr.Set(0u, Napi::Number::New(env, toCode(t.scalar_type())));
    for (int64_t i = 0; i < t.dim(); ++i) arr.Set(static_cast<uint32_t>(i + 1), Napi::Number::New(env, t.size(i)));
    return arr;
  });
}

Napi::Value NumTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_tensors.size()));
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return env.Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value SetDevice(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    g_device = c10::Device(info[0].As<Napi::String>().Utf8Value());
    return env.Undefined();
  });
}

// oneDNN (mkldnn) on or off for later operator calls; some shapes are rejected by oneDNN and
// run fine on ATen's native kernels.
Napi::Value SetMkldnn(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    bool before = at::globalContext().userEnabledMkldnn();
    at::globalContext().setUserEnabledMkldnn(info[0].ToBoolean().Value());
    return Napi::Boolean::New(env, before);
  });
}

Napi::Value HasCuda(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::hasCUDA());
}

// ---- operator profile: inclusive time per ATen operator name (nested calls count in each) ----
struct ProfileCtx : public at::ObserverContext {
  std::chrono::steady_clock::time_point t0;
  std::string key;
};
thread_local std::vector<std::string> t_prof_stack;  // names of the operators now running
bool g_prof_parents = false;
std::mutex g_prof_mu;
std::unordered_map<std::string, std::pair<int64_t, double>> g_prof;
at::CallbackHandle g_prof_handle = 0;

// profileStart([parents]): starts counting; profileStop() -> [name, calls, total µs, ...] and stops.
Napi::Value ProfileStart(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    if (g_prof_handle) throw std::runtime_error("profileStart: already profiling");
    // profileStart(true): keys are "parent > operator", to see which operator calls which
    g_prof_parents = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
    t_prof_stack.clear();
    {
      std::lock_guard<std::mutex> lk(g_prof_mu);
      g_prof.clear();
    }
    auto cb = at::RecordFunctionCallback(
                  [](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
                    auto c = std::make_unique<ProfileCtx>();
                    std::string name(fn.name());
                    c->key = g_prof_parents && !t_prof_stack.empty() ? t_prof_stack.back() + " > " + name : name;
                    t_prof_stack.push_back(name);
                    c->t0 = std::chrono::steady_clock::now();
                    return c;
                  },
                  [](const at::RecordFunction&, at::ObserverContext* ctx) {
                    auto* c = static_cast<ProfileCtx*>(ctx);
                    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - c->t0).count();
                    if (!t_prof_stack.empty()) t_prof_stack.pop_back();
                    std::lock_guard<std::mutex> lk(g_prof_mu);
                    auto& e = g_prof[c->key];
                    e.first += 1;
                    e.second += us;
                  })
                  .scopes({at::RecordScope::FUNCTION});
    g_prof_handle = at::addGlobalCallback(cb);
    return env.Undefined();
  });
}

Napi::Value ProfileStop(const Napi::CallbackInfo& info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    if (!g_prof_handle) throw std::runtime_error("profileStop: not profiling");
    at::removeCallback(g_prof_handle);
    g_prof_handle = 0;
    std::lock_guard<std::mutex> lk(g_prof_mu);
    auto arr = Napi::Array::New(env, g_prof.size() * 3);
    uint32_t i = 0;
    for (auto& kv : g_prof) {
      arr.Set(i++, Napi::String::New(env, kv.first));
      arr.Set(i++, Napi::Number::New(env, static_cast<double>(kv.second.first)));
      arr.Set(i++, Napi::Number::New(env, kv.second.second));
    }
    return arr;
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // A training step frees and reallocates the same few hundred MB of activations every
  // iteration. With glibc's defaults, blocks above its (dynamic) mmap threshold are mapped and
  // unmapped each time and free memory at the heap's top is returned to the system, so every
  // step page-faults its memory in again (~6,000 faults per cpu-small FCOS step, ~5% of its
  // time). Keep freed memory for reuse instead: the process then holds on to its peak.
  // CSE_MALLOC_TUNE=0 keeps glibc's defaults.
  {
    const char* tune = std::getenv("CSE_MALLOC_TUNE");
    if (!(tune && std::strcmp(tune, "0") == 0)) {
      mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum; larger blocks are still mapped
      mallopt(M_TRIM_THRESHOLD, 1 << 30);
    }
  }
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* s = std::getenv("CSE_THREADS")) {
    int n = std::atoi(s);
    if (n > 0) threads = n;
  }
  if (threads > 0) at::set_num_threads(threads);
  exports.Set("opHandle", Napi::Function::New(env, OpHandle));
  exports.Set("schema", Napi::Function::New(env, Schema));
  exports.Set("call", Napi::Function::New(env, Call));
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer));
  exports.Set("toBuffer", Napi::Function::New(env, ToBuffer));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("numTensors", Napi::Function::New(env, NumTensors));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("setDevice", Napi::Function::New(env, SetDevice));
  exports.Set("hasCuda", Napi::Function::New(env, HasCuda));
  exports.Set("setMkldnn", Napi::Function::New(env, SetMkldnn));
  exports.Set("profileStart", Napi::Function::New(env, ProfileStart));
  exports.Set("profileStop", Napi::Function::New(env, ProfileStop));
  return exports;
}

}  // namespace

NODE_API_MODULE(torch_addon, Init)
